import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent, listEvents, subscribeEvents } from '../../../src/control/events.js';
import { withTransaction } from '../../../src/control/db.js';
import { createTestDatabase, queuedJob, sleep, type TestDatabase } from './test-database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

function nextNotification(received: string[], jobId: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    while (!received.includes(jobId)) {
      if (Date.now() > deadline) throw new Error(`no notification for ${jobId} within ${timeoutMs} ms`);
      await sleep(10);
    }
  })();
}

describe('events', () => {
  it('NOTIFY reaches a LISTENing client, on commit only', async () => {
    const job = await queuedJob(db.pool, 'events');
    const listener = await db.newClient();
    const received: string[] = [];
    const unsubscribe = await subscribeEvents(listener, (jobId) => received.push(jobId));

    await withTransaction(db.pool, async (tx) => {
      await appendEvent(tx, job.id, { type: 'job.started', at: new Date().toISOString(), command: 'restore-table' });
      await sleep(200);
      expect(received).toEqual([]);
    });
    await nextNotification(received, job.id);

    await unsubscribe();
    received.length = 0;
    await appendEvent(db.pool, job.id, { type: 'job.cancelled', at: new Date().toISOString() });
    await sleep(200);
    expect(received).toEqual([]);
  });

  it('listEvents pages by id in the order events were appended', async () => {
    const job = await queuedJob(db.pool, 'events');
    const other = await queuedJob(db.pool, 'events');
    const at = new Date().toISOString();
    await appendEvent(db.pool, job.id, { type: 'step.started', at, step: 'restore', title: 'Restore' });
    await appendEvent(db.pool, other.id, { type: 'job.started', at, command: 'x' });
    await appendEvent(db.pool, job.id, { type: 'step.progress', at, step: 'restore', done: 5, total: 10, unit: 'segments' });
    await appendEvent(db.pool, job.id, { type: 'step.finished', at, step: 'restore', seconds: 3 });

    const all = await listEvents(db.pool, job.id);
    expect(all.map((e) => e.event.type)).toEqual(['step.started', 'step.progress', 'step.finished']);
    expect(all[1]?.event).toEqual({ type: 'step.progress', at, step: 'restore', done: 5, total: 10, unit: 'segments' });
    const rest = await listEvents(db.pool, job.id, all[0]!.id);
    expect(rest.map((e) => e.id)).toEqual([all[1]!.id, all[2]!.id]);
    expect(await listEvents(db.pool, job.id, all[2]!.id)).toEqual([]);
    expect(await listEvents(db.pool, job.id, 0, 1)).toHaveLength(1);
  });

  it('stores bigints in event payloads as strings', async () => {
    const job = await queuedJob(db.pool, 'events');
    await appendEvent(db.pool, job.id, { type: 'integrity.report', at: new Date().toISOString(), report: { lsn: 2n ** 64n } });
    const [stored] = await listEvents(db.pool, job.id);
    expect(stored?.event).toMatchObject({ report: { lsn: '18446744073709551616' } });
  });
});
