/** The control-DB replay record shared by every bot instance (firstSeenRequest). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstSeenRequest } from '../../../src/control/seen-requests.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('firstSeenRequest', () => {
  it('is true once per key, across pools (processes), also when both ask at the same moment', async () => {
    const other = db.newPool(2);
    const results = await Promise.all([firstSeenRequest(db.pool, 'trigger:1.2.a'), firstSeenRequest(other, 'trigger:1.2.a')]);
    expect(results.sort()).toEqual([false, true]);
    expect(await firstSeenRequest(other, 'trigger:1.2.a')).toBe(false);
    expect(await firstSeenRequest(db.pool, 'trigger:1.2.b')).toBe(true);
  });

  it('prunes keys older than the window (Slack refuses their requests anyway)', async () => {
    await db.pool.query(`INSERT INTO seen_slack_requests (key, seen_at) VALUES ('trigger:old', now() - interval '11 minutes')`);
    expect(await firstSeenRequest(db.pool, 'trigger:new')).toBe(true);
    const { rows } = await db.pool.query<{ key: string }>(`SELECT key FROM seen_slack_requests WHERE key = 'trigger:old'`);
    expect(rows).toEqual([]);
  });

  it('refuses an empty key', async () => {
    await expect(firstSeenRequest(db.pool, '')).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
