import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimNextJob, enqueueJob, finishJob, reapExpiredLeases } from '../../../src/control/queue.js';
import { findOperationState, finishStep, listFinishedSteps, listStepCheckpoints, saveStepState, startStep } from '../../../src/control/steps.js';
import type { JobRecord } from '../../../src/control/model.js';
import { createTestDatabase, requestWithPlan, sleep, type TestDatabase } from './test-database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function claim(poolName: string, runnerId: string, leaseSeconds = 60): Promise<JobRecord> {
  const job = await claimNextJob(db.pool, { runnerId, poolName, leaseSeconds });
  if (!job) throw new Error('expected a job');
  return job;
}

describe('step checkpoints', () => {
  it('records start and finish; a finished step cannot start again; a failed one can', async () => {
    const { request, digest } = await requestWithPlan(db.pool);
    await enqueueJob(db.pool, { requestId: request.id, planDigest: digest, pool: 'steps-1' });
    const job = await claim('steps-1', 'r1');
    const ref = { jobId: job.id, runnerId: 'r1' };

    await startStep(db.pool, { ...ref, stepIndex: 0, kind: 'restore-base-backup' });
    await finishStep(db.pool, { ...ref, stepIndex: 0, status: 'succeeded', detail: { bytes: 123n } });
    await startStep(db.pool, { ...ref, stepIndex: 1, kind: 'copy-back' });
    await finishStep(db.pool, { ...ref, stepIndex: 1, status: 'failed', detail: { error: 'boom' } });

    await expect(startStep(db.pool, { ...ref, stepIndex: 0, kind: 'restore-base-backup' })).rejects.toThrow(/already finished/);
    const retried = await startStep(db.pool, { ...ref, stepIndex: 1, kind: 'copy-back' });
    expect(retried).toMatchObject({ status: 'running', finishedAt: null, detail: {} });

    const checkpoints = await listStepCheckpoints(db.pool, job.id);
    expect(checkpoints.map((c) => [c.stepIndex, c.status])).toEqual([
      [0, 'succeeded'],
      [1, 'running'],
    ]);
    expect(checkpoints[0]?.detail).toEqual({ bytes: '123' });
    expect(await listFinishedSteps(db.pool, job.id)).toEqual([0]);
    await expect(finishStep(db.pool, { ...ref, stepIndex: 5, status: 'succeeded' })).rejects.toThrow(/was not running/);
  });

  it('a runner that lost its job cannot record steps (fencing)', async () => {
    const { request, digest } = await requestWithPlan(db.pool);
    await enqueueJob(db.pool, { requestId: request.id, planDigest: digest, pool: 'steps-2' });
    const job = await claim('steps-2', 'slow', 0.2);
    await sleep(400);
    await reapExpiredLeases(db.pool);
    await expect(startStep(db.pool, { jobId: job.id, runnerId: 'slow', stepIndex: 0, kind: 'x' })).rejects.toMatchObject({
      code: 'LEASE_LOST',
    });
  });

  it('a resumed job sees the steps finished by the job it resumes', async () => {
    const { request, digest } = await requestWithPlan(db.pool);
    await enqueueJob(db.pool, { requestId: request.id, planDigest: digest, pool: 'steps-3' });
    const first = await claim('steps-3', 'r1');
    await startStep(db.pool, { jobId: first.id, runnerId: 'r1', stepIndex: 0, kind: 'restore-base-backup' });
    await finishStep(db.pool, { jobId: first.id, runnerId: 'r1', stepIndex: 0, status: 'succeeded' });
    await finishJob(db.pool, {
      jobId: first.id,
      runnerId: 'r1',
      outcome: { status: 'failed', error: { code: 'RESTORE_FAILED', message: 'disk full' } },
    });

    await expect(
      enqueueJob(db.pool, { requestId: request.id, planDigest: digest, pool: 'steps-3', resumeOf: '00000000-0000-0000-0000-000000000000' }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });
    const { job: resumed } = await enqueueJob(db.pool, {
      requestId: request.id,
      planDigest: digest,
      pool: 'steps-3',
      resumeOf: first.id,
    });
    expect(resumed.resumeOf).toBe(first.id);
    const second = await claim('steps-3', 'r2');
    expect(second.id).toBe(resumed.id);
    expect(await listFinishedSteps(db.pool, second.id)).toEqual([0]);
    await startStep(db.pool, { jobId: second.id, runnerId: 'r2', stepIndex: 1, kind: 'copy-back' });
    await finishStep(db.pool, { jobId: second.id, runnerId: 'r2', stepIndex: 1, status: 'succeeded' });
    expect(await listFinishedSteps(db.pool, second.id)).toEqual([0, 1]);
  });
});

describe('a long-running operation\'s poller state kept with its step', () => {
  it('is found by the next job once the runner that saved it is lost; it cannot write any more; a finished step keeps none', async () => {
    const { request, digest } = await requestWithPlan(db.pool);
    await enqueueJob(db.pool, { requestId: request.id, planDigest: digest, pool: 'steps-state' });
    const job = await claim('steps-state', 'killed', 0.2);
    const ref = { jobId: job.id, runnerId: 'killed', stepIndex: 0 };
    const operation = `georestore:/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/${job.id}`;
    await startStep(db.pool, { ...ref, kind: 'geo-restore' });
    await saveStepState(db.pool, { ...ref, operation, resumeFrom: '{"state":{"status":"running"}}' });
    await saveStepState(db.pool, { ...ref, operation, resumeFrom: '{"state":{"status":"running","n":2}}' });
    await sleep(400);
    await reapExpiredLeases(db.pool);
    expect(await findOperationState(db.pool, operation)).toBe('{"state":{"status":"running","n":2}}');
    await expect(saveStepState(db.pool, { ...ref, operation, resumeFrom: '{}' })).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(await findOperationState(db.pool, `${operation}-other`)).toBeNull();

    const second = await requestWithPlan(db.pool);
    await enqueueJob(db.pool, { requestId: second.request.id, planDigest: second.digest, pool: 'steps-state-2' });
    const done = await claim('steps-state-2', 'r2');
    const other = `promote:${done.id}`;
    await startStep(db.pool, { jobId: done.id, runnerId: 'r2', stepIndex: 0, kind: 'azure-promote' });
    await saveStepState(db.pool, { jobId: done.id, runnerId: 'r2', stepIndex: 0, operation: other, resumeFrom: '{"state":{}}' });
    await finishStep(db.pool, { jobId: done.id, runnerId: 'r2', stepIndex: 0, status: 'succeeded', detail: { detail: 'promoted' } });
    expect(await findOperationState(db.pool, other)).toBeNull();
  });
});
