import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJob, isCancelRequested, listJobs, requestCancel, setJobSlackRefs } from '../../../src/control/jobs.js';
import { listEvents } from '../../../src/control/events.js';
import {
  claimNextJob,
  enqueueJob,
  finishJob,
  heartbeat,
  reapExpiredLeases,
} from '../../../src/control/queue.js';
import { createRequest, getRequest } from '../../../src/control/requests.js';
import { planPendingRequests, savePlanningError } from '../../../src/control/planning.js';
import { RecoverError } from '../../../src/errors.js';
import type { JobRecord } from '../../../src/control/model.js';
import { createTestDatabase, queuedJob, requestWithPlan, sleep, testPlan, type TestDatabase } from './test-database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

let poolCounter = 0;
/** Each test gets its own pool name, so jobs left by another test are invisible to it. */
const freshPoolName = (): string => `region-${++poolCounter}`;

describe('claiming', () => {
  it('never hands the same job to two runners of the same pool claiming concurrently', async () => {
    const poolName = freshPoolName();
    const jobs = await Promise.all(Array.from({ length: 12 }, () => queuedJob(db.pool, poolName)));

    const runner = async (runnerId: string): Promise<string[]> => {
      const connection = db.newPool(2);
      const claimed: string[] = [];
      for (;;) {
        const job = await claimNextJob(connection, { runnerId, poolName, leaseSeconds: 60 });
        if (!job) return claimed;
        claimed.push(job.id);
      }
    };
    const perRunner = await Promise.all(['r1', 'r2', 'r3'].map(runner));
    const all = perRunner.flat();
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort()).toEqual(jobs.map((j) => j.id).sort());

    const rows = await db.pool.query<{ runner_id: string; n: string }>(
      `SELECT runner_id, count(*) AS n FROM jobs WHERE pool = $1 GROUP BY runner_id`,
      [poolName],
    );
    for (const row of rows.rows) {
      expect(perRunner[['r1', 'r2', 'r3'].indexOf(row.runner_id)]).toHaveLength(Number(row.n));
    }
  });

  it("a runner of another pool does not see the job; the pool's own runner does, oldest first", async () => {
    const eastus = freshPoolName();
    const first = await queuedJob(db.pool, eastus);
    await queuedJob(db.pool, eastus);
    expect(await claimNextJob(db.pool, { runnerId: 'west-1', poolName: freshPoolName(), leaseSeconds: 60 })).toBeNull();
    const claimed = await claimNextJob(db.pool, { runnerId: 'east-1', poolName: eastus, leaseSeconds: 60 });
    expect(claimed).toMatchObject({ id: first.id, status: 'running', runnerId: 'east-1' });
    expect(claimed?.leaseExpiresAt?.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect((await getRequest(db.pool, first.requestId))?.status).toBe('running');
  });

  it('a job bound to a database host (plan.runsOn) is claimed only by the runner on that host with that data directory; others take the next job', async () => {
    const poolName = freshPoolName();
    const bound = await requestWithPlan(db.pool, { plan: testPlan({ runsOn: { host: 'db1', dataDir: '/var/lib/postgresql/15/main' } }) });
    const inPlace = (await enqueueJob(db.pool, { requestId: bound.request.id, planDigest: bound.digest, pool: poolName })).job;
    const side = await queuedJob(db.pool, poolName);
    const claim = (runnerId: string, reach?: { host: string; dataDir: string | null }) => claimNextJob(db.pool, { runnerId, poolName, leaseSeconds: 60, ...(reach ? { reach } : {}) });
    // Off the host (no data directory), another host with the same path, the same host with another directory, no reach at all: never the bound job.
    expect((await claim('off-host', { host: 'runner-vm', dataDir: null }))?.id).toBe(side.id);
    expect(await claim('standby-host', { host: 'db2', dataDir: '/var/lib/postgresql/15/main' })).toBeNull();
    expect(await claim('other-dir', { host: 'db1', dataDir: '/srv/pg' })).toBeNull();
    expect(await claim('unknown')).toBeNull();
    expect((await getJob(db.pool, inPlace.id))?.status).toBe('queued');
    expect(await claim('on-host', { host: 'db1', dataDir: '/var/lib/postgresql/15/main' })).toMatchObject({ id: inPlace.id, runnerId: 'on-host' });
  });

  it('a request that needs the database host is planned only by a runner there; others plan the rest', async () => {
    const poolName = freshPoolName();
    const base = { teamId: 'T1', channelId: 'C1', requesterId: 'REQ', pool: poolName };
    const inPlace = await createRequest(db.pool, { ...base, command: 'pitr', args: { to: 'in-place' }, needsDatabaseHost: true });
    const side = await createRequest(db.pool, { ...base, command: 'pitr', args: { to: 'side' } });
    const seen = (databaseHost: boolean) => {
      const ids: string[] = [];
      return planPendingRequests(db.pool, poolName, { databaseHost }, async (tx, request) => {
        ids.push(request.id);
        await savePlanningError(tx, request.id, new RecoverError('BAD_INPUT', 'seen'));
      }).then(() => ids);
    };
    expect(await seen(false)).toEqual([side.id]);
    expect(await seen(true)).toEqual([inPlace.id]);
  });

  it('enqueue is idempotent per request, even when two approvals complete at once', async () => {
    const { request, digest } = await requestWithPlan(db.pool);
    const input = { requestId: request.id, planDigest: digest, pool: freshPoolName() };
    const results = await Promise.all([enqueueJob(db.pool, input), enqueueJob(db.pool, input)]);
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect(results[0]?.job.id).toBe(results[1]?.job.id);
  });

  it('enqueue refuses a digest other than the current plan', async () => {
    const { request } = await requestWithPlan(db.pool);
    await expect(
      enqueueJob(db.pool, { requestId: request.id, planDigest: 'c'.repeat(64), pool: freshPoolName() }),
    ).rejects.toMatchObject({ code: 'APPROVAL_INVALID' });
  });
});

async function claimOne(poolName: string, runnerId: string, leaseSeconds: number): Promise<JobRecord> {
  await queuedJob(db.pool, poolName);
  const job = await claimNextJob(db.pool, { runnerId, poolName, leaseSeconds });
  if (!job) throw new Error('expected a job to claim');
  return job;
}

describe('leases', () => {
  it('detects a dead runner: the job fails with RUNNER_LOST and the runner is fenced out', async () => {
    const job = await claimOne(freshPoolName(), 'dies', 0.2);
    await sleep(400);
    const reaped = await reapExpiredLeases(db.pool);
    expect(reaped.map((j) => j.id)).toContain(job.id);

    const after = await getJob(db.pool, job.id);
    expect(after).toMatchObject({ status: 'failed', error: { code: 'RUNNER_LOST' } });
    expect(after?.finishedAt).toBeInstanceOf(Date);
    const events = await listEvents(db.pool, job.id);
    expect(events.map((e) => e.event)).toContainEqual(expect.objectContaining({ type: 'job.failed', code: 'RUNNER_LOST' }));
    expect((await getRequest(db.pool, job.requestId))?.status).toBe('failed');

    await expect(heartbeat(db.pool, { jobId: job.id, runnerId: 'dies', leaseSeconds: 30 })).rejects.toMatchObject({
      code: 'LEASE_LOST',
    });
    await expect(
      finishJob(db.pool, { jobId: job.id, runnerId: 'dies', outcome: { status: 'succeeded' } }),
    ).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect((await reapExpiredLeases(db.pool)).map((j) => j.id)).not.toContain(job.id);
  });

  it('a heartbeat extends the lease so a live runner is not reaped', async () => {
    const job = await claimOne(freshPoolName(), 'alive', 0.3);
    const beat = await heartbeat(db.pool, { jobId: job.id, runnerId: 'alive', leaseSeconds: 30 });
    expect(beat.cancelRequested).toBe(false);
    await sleep(500);
    expect((await reapExpiredLeases(db.pool)).map((j) => j.id)).not.toContain(job.id);
    expect((await getJob(db.pool, job.id))?.status).toBe('running');
  });

  it('only the runner holding the job can heartbeat it', async () => {
    const job = await claimOne(freshPoolName(), 'holder', 30);
    await expect(heartbeat(db.pool, { jobId: job.id, runnerId: 'other', leaseSeconds: 30 })).rejects.toMatchObject({
      code: 'LEASE_LOST',
    });
  });

  it('refuses a non-positive lease', async () => {
    await expect(
      claimNextJob(db.pool, { runnerId: 'r', poolName: freshPoolName(), leaseSeconds: 0 }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('cancellation', () => {
  it('round trip: requested while running, seen by the runner, finished as cancelled', async () => {
    const job = await claimOne(freshPoolName(), 'runner', 30);
    expect(await isCancelRequested(db.pool, job.id)).toBe(false);

    expect((await requestCancel(db.pool, job.id, 'U_OPS')).effect).toBe('requested');
    expect((await requestCancel(db.pool, job.id, 'U_OPS')).effect).toBe('already-requested');
    expect(await isCancelRequested(db.pool, job.id)).toBe(true);
    expect(await heartbeat(db.pool, { jobId: job.id, runnerId: 'runner', leaseSeconds: 30 })).toMatchObject({
      cancelRequested: true,
    });

    const finished = await finishJob(db.pool, { jobId: job.id, runnerId: 'runner', outcome: { status: 'cancelled' } });
    expect(finished).toMatchObject({ status: 'cancelled', cancelRequestedBy: 'U_OPS' });
    const events = await listEvents(db.pool, job.id);
    expect(events.map((e) => e.event.type)).toEqual(['job.cancelled']);
    expect((await requestCancel(db.pool, job.id, 'U_OPS')).effect).toBe('already-finished');
  });

  it('a queued job is cancelled at once and never claimed', async () => {
    const poolName = freshPoolName();
    const job = await queuedJob(db.pool, poolName);
    const { job: cancelled, effect } = await requestCancel(db.pool, job.id, 'U_OPS');
    expect(effect).toBe('cancelled');
    expect(cancelled.status).toBe('cancelled');
    expect(await claimNextJob(db.pool, { runnerId: 'r', poolName, leaseSeconds: 30 })).toBeNull();
    expect((await getRequest(db.pool, job.requestId))?.status).toBe('cancelled');
  });
});

describe('finishing', () => {
  it('records the outcome, the terminal event and the request status together', async () => {
    const job = await claimOne(freshPoolName(), 'runner', 30);
    const done = await finishJob(db.pool, {
      jobId: job.id,
      runnerId: 'runner',
      outcome: { status: 'succeeded', result: { rowsRestored: 1200n } },
    });
    expect(done).toMatchObject({ status: 'succeeded', result: { rowsRestored: '1200' } });
    const events = await listEvents(db.pool, job.id);
    expect(events.map((e) => e.event)).toEqual([
      expect.objectContaining({ type: 'job.succeeded', result: { rowsRestored: '1200' } }),
    ]);
    expect((await getRequest(db.pool, job.requestId))?.status).toBe('succeeded');
  });
});

describe('listing', () => {
  it('lists every active job of a pool plus the most recent finished ones', async () => {
    const poolName = freshPoolName();
    const finished: JobRecord[] = [];
    for (let i = 0; i < 3; i += 1) {
      const job = await claimOne(poolName, 'lister', 30);
      finished.push(await finishJob(db.pool, { jobId: job.id, runnerId: 'lister', outcome: { status: 'succeeded' } }));
    }
    const running = await claimOne(poolName, 'lister', 30);
    const queued = await queuedJob(db.pool, poolName);

    const listed = await listJobs(db.pool, { pool: poolName, recentLimit: 2 });
    expect(listed.map((j) => j.id)).toEqual([queued.id, running.id, finished[2]!.id, finished[1]!.id]);
    expect((await listJobs(db.pool, { recentLimit: 0 })).every((j) => j.status === 'queued' || j.status === 'running')).toBe(true);
    expect(await getJob(db.pool, '00000000-0000-0000-0000-000000000000')).toBeNull();
  });

  it('keeps Slack message references, merging partial updates', async () => {
    const job = await queuedJob(db.pool, freshPoolName());
    await setJobSlackRefs(db.pool, job.id, { channel: 'C1', statusTs: '1700000000.000100' });
    const updated = await setJobSlackRefs(db.pool, job.id, { threadTs: '1700000000.000200' });
    expect(updated.slackRefs).toEqual({ channel: 'C1', statusTs: '1700000000.000100', threadTs: '1700000000.000200' });
  });
});
