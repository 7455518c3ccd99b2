/**
 * The runner's control-DB writes are retried while the control DB restarts, and a write whose
 * commit happened but whose reply was lost is then tried again. Each of them, repeated as it
 * is, records nothing a second time (events, step ends, the authorization and its audit entry,
 * the job's outcome and its audit entry); a runner that lost its job still cannot write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordJobAuthorized } from '../../../src/control/approval-state.js';
import { listEvents } from '../../../src/control/events.js';
import { claimNextJob, finishJob, reapExpiredLeases, reclaimUnstartedJob } from '../../../src/control/queue.js';
import { appendRunnerEvent, finishStep, listStepCheckpoints, startStep } from '../../../src/control/steps.js';
import { verifyAudit } from '../../../src/control/audit.js';
import { COPY_RECORDED_ACTION, recordDatabaseCopy } from '../../../src/control/database-copies.js';
import { createTestDatabase, queuedJob, type TestDatabase } from './test-database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

let counter = 0;
async function claimed(leaseSeconds = 60) {
  const poolName = `retried-${++counter}`;
  await queuedJob(db.pool, poolName);
  const job = await claimNextJob(db.pool, { runnerId: 'runner-a', poolName, leaseSeconds });
  return { job: job!, poolName };
}

async function auditCount(jobId: string, action: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log WHERE subject = $1 AND action = $2', [`job:${jobId}`, action]);
  return rows[0]!.n;
}

describe('writes repeated after a lost reply', () => {
  it('an event with the same number is written once; numbers keep the order; other jobs are not affected', async () => {
    const { job } = await claimed();
    const ref = { jobId: job.id, runnerId: 'runner-a' };
    const at = new Date().toISOString();
    const first = await appendRunnerEvent(db.pool, { ...ref, seq: 1 }, { type: 'step.started', at, step: 'restore', title: 'Restore' });
    expect(first?.event.type).toBe('step.started');
    expect(await appendRunnerEvent(db.pool, { ...ref, seq: 1 }, { type: 'step.started', at, step: 'restore', title: 'Restore' })).toBeNull();
    await appendRunnerEvent(db.pool, { ...ref, seq: 2 }, { type: 'step.finished', at, step: 'restore', seconds: 1 });
    expect(await appendRunnerEvent(db.pool, { ...ref, seq: 2 }, { type: 'step.finished', at, step: 'restore', seconds: 1 })).toBeNull();
    expect((await listEvents(db.pool, job.id)).map((e) => e.event.type)).toEqual(['step.started', 'step.finished']);

    const other = await claimed();
    expect(await appendRunnerEvent(db.pool, { jobId: other.job.id, runnerId: 'runner-a', seq: 1 }, { type: 'step.started', at, step: 'restore', title: 'Restore' })).not.toBeNull();
  });

  it("a runner that does not hold the job cannot append its events", async () => {
    const { job } = await claimed();
    await expect(appendRunnerEvent(db.pool, { jobId: job.id, runnerId: 'runner-b', seq: 1 }, { type: 'job.cancelled', at: new Date().toISOString() })).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(await listEvents(db.pool, job.id)).toEqual([]);
  });

  it('a step finished again the same way is a no-op; finishing it another way is still refused', async () => {
    const { job } = await claimed();
    const ref = { jobId: job.id, runnerId: 'runner-a', stepIndex: 0 };
    await startStep(db.pool, { ...ref, kind: 'restore-base-backup' });
    await startStep(db.pool, { ...ref, kind: 'restore-base-backup' });
    await finishStep(db.pool, { ...ref, status: 'succeeded' });
    await finishStep(db.pool, { ...ref, status: 'succeeded' });
    await expect(finishStep(db.pool, { ...ref, status: 'failed' })).rejects.toThrow(/was not running/);
    expect((await listStepCheckpoints(db.pool, job.id)).map((s) => [s.kind, s.status])).toEqual([['restore-base-backup', 'succeeded']]);
  });

  it('the authorization repeated as it was is audited once', async () => {
    const { job } = await claimed();
    const input = { jobId: job.id, runnerId: 'runner-a', at: new Date(), approvedBy: ['BOB'], planDigest: job.planDigest };
    await recordJobAuthorized(db.pool, input);
    await recordJobAuthorized(db.pool, input);
    expect(await auditCount(job.id, 'job.authorized')).toBe(1);
  });

  it('the outcome repeated as it was is recorded and audited once; a different one is refused', async () => {
    const { job } = await claimed();
    const outcome = { status: 'succeeded' as const, result: { ok: true } };
    await finishJob(db.pool, { jobId: job.id, runnerId: 'runner-a', outcome });
    const again = await finishJob(db.pool, { jobId: job.id, runnerId: 'runner-a', outcome });
    expect(again.status).toBe('succeeded');
    expect(await auditCount(job.id, 'job.succeeded')).toBe(1);
    expect((await listEvents(db.pool, job.id)).filter((e) => e.event.type === 'job.succeeded')).toHaveLength(1);
    await expect(finishJob(db.pool, { jobId: job.id, runnerId: 'runner-a', outcome: { status: 'cancelled' } })).rejects.toMatchObject({ code: 'LEASE_LOST' });

    const failing = await claimed();
    const failed = { status: 'failed' as const, error: { code: 'RESTORE_FAILED', message: 'x' } };
    await finishJob(db.pool, { jobId: failing.job.id, runnerId: 'runner-a', outcome: failed });
    await finishJob(db.pool, { jobId: failing.job.id, runnerId: 'runner-a', outcome: failed });
    expect(await auditCount(failing.job.id, 'job.failed')).toBe(1);
    expect((await verifyAudit(db.pool)).ok).toBe(true);
  });

  it('a database copy recorded again as it was is recorded and audited once; another copy for the job is still refused', async () => {
    const { job } = await claimed();
    const copy = { jobId: job.id, runnerId: 'runner-a', production: 'aiagent_prod', database: 'app', restoredName: 'app_restored_x', restoredOid: '16999', targetText: '2025-01-15T14:29:59Z', verified: true, failedChecks: [] };
    const first = await recordDatabaseCopy(db.pool, copy);
    const again = await recordDatabaseCopy(db.pool, copy);
    expect(again).toEqual(first);
    expect(await auditCount(job.id, COPY_RECORDED_ACTION)).toBe(1);
    await expect(recordDatabaseCopy(db.pool, { ...copy, restoredName: 'app_other', restoredOid: '17000' })).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await expect(recordDatabaseCopy(db.pool, { ...copy, runnerId: 'runner-b' })).rejects.toMatchObject({ code: 'LEASE_LOST' });
  });

  it('a job reaped as RUNNER_LOST is not taken for this runner having failed it', async () => {
    const { job } = await claimed(0.001);
    await db.pool.query(`SELECT pg_sleep(0.01)`);
    expect((await reapExpiredLeases(db.pool)).map((j) => j.id)).toContain(job.id);
    await expect(finishJob(db.pool, { jobId: job.id, runnerId: 'runner-a', outcome: { status: 'failed', error: { code: 'RESTORE_FAILED', message: 'x' } } })).rejects.toMatchObject({ code: 'LEASE_LOST' });
  });
});

describe('a claim whose reply was lost', () => {
  it('is handed back to its runner while nothing ran for it, never to another runner, never once authorized', async () => {
    const { job, poolName } = await claimed();
    const input = { runnerId: 'runner-a', poolName, leaseSeconds: 60 };
    expect(await reclaimUnstartedJob(db.pool, { ...input, runnerId: 'runner-b' })).toBeNull();
    expect((await reclaimUnstartedJob(db.pool, input))?.id).toBe(job.id);
    expect(await auditCount(job.id, 'job.claimed')).toBe(1);
    await recordJobAuthorized(db.pool, { jobId: job.id, runnerId: 'runner-a', at: new Date(), approvedBy: [], planDigest: job.planDigest });
    expect(await reclaimUnstartedJob(db.pool, input)).toBeNull();
  });
});
