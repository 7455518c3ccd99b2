import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertApprovedForRun, type ApprovalPolicy } from '../../../src/control/approval-policy.js';
import { listApprovals, loadApprovalState, recordApproval } from '../../../src/control/approvals.js';
import { getJob } from '../../../src/control/jobs.js';
import { claimNextJob, enqueueJob } from '../../../src/control/queue.js';
import { getRequest, savePlan } from '../../../src/control/requests.js';
import { createTestDatabase, requestWithPlan, testPlan, type TestDatabase } from './test-database.js';

const policy: ApprovalPolicy = {
  approvers: { T1: { userIds: ['ALICE', 'BOB'], usergroupMembers: ['CAROL'] } },
  required: 1,
  ttlMinutes: 30,
};

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('recordApproval', () => {
  it('a double click is one approval, with its original time', async () => {
    const { request, digest } = await requestWithPlan(db.pool);
    const vote = { requestId: request.id, approverId: 'ALICE', decision: 'approve' as const, planDigest: digest, policy };
    const [first, second] = await Promise.all([recordApproval(db.pool, vote), recordApproval(db.pool, vote)]);
    expect([first.changed, second.changed].sort()).toEqual([false, true]);
    const third = await recordApproval(db.pool, vote);
    expect(third.changed).toBe(false);
    const approvals = await listApprovals(db.pool, request.id);
    expect(approvals).toHaveLength(1);
    expect(approvals[0]?.createdAt).toEqual(first.approval.createdAt);
    expect(approvals[0]!.expiresAt.getTime() - approvals[0]!.createdAt.getTime()).toBe(30 * 60_000);
  });

  it.each([
    ['the requester', 'REQ', 'NOT_PERMITTED'],
    ['someone who is not an approver', 'EVE', 'NOT_PERMITTED'],
  ])('refuses an approval by %s', async (_who, approverId, code) => {
    const { request, digest } = await requestWithPlan(db.pool);
    await expect(
      recordApproval(db.pool, { requestId: request.id, approverId, decision: 'approve', planDigest: digest, policy }),
    ).rejects.toMatchObject({ code });
    expect(await listApprovals(db.pool, request.id)).toEqual([]);
  });

  it('refuses an approval of a plan that is no longer current', async () => {
    const { request, digest } = await requestWithPlan(db.pool);
    await savePlan(db.pool, { requestId: request.id, plan: testPlan({ summary: 'changed' }) });
    await expect(
      recordApproval(db.pool, { requestId: request.id, approverId: 'ALICE', decision: 'approve', planDigest: digest, policy }),
    ).rejects.toMatchObject({ code: 'APPROVAL_INVALID' });
  });

  it('a new plan voids earlier approvals, also when going back to the first plan', async () => {
    const { request, digest } = await requestWithPlan(db.pool);
    await recordApproval(db.pool, { requestId: request.id, approverId: 'ALICE', decision: 'approve', planDigest: digest, policy });
    const changed = await savePlan(db.pool, { requestId: request.id, plan: testPlan({ summary: 'B' }) });
    expect(changed).toMatchObject({ changed: true, voidedApprovals: 1 });
    const back = await savePlan(db.pool, { requestId: request.id, plan: testPlan() });
    expect(back.plan.digest).toBe(digest);
    const same = await savePlan(db.pool, { requestId: request.id, plan: testPlan() });
    expect(same.changed).toBe(false);

    const [approval] = await listApprovals(db.pool, request.id);
    expect(approval?.voidedAt).toBeInstanceOf(Date);
    const again = await recordApproval(db.pool, {
      requestId: request.id,
      approverId: 'ALICE',
      decision: 'approve',
      planDigest: digest,
      policy,
    });
    expect(again.changed).toBe(true);
    expect(again.approval.voidedAt).toBeNull();
  });

  it('a reject ends the request: status rejected, queued job cancelled, later votes refused', async () => {
    const { request, digest } = await requestWithPlan(db.pool);
    await recordApproval(db.pool, { requestId: request.id, approverId: 'ALICE', decision: 'approve', planDigest: digest, policy });
    const { job } = await enqueueJob(db.pool, { requestId: request.id, planDigest: digest, pool: 'reject-pool' });
    const rejected = await recordApproval(db.pool, {
      requestId: request.id,
      approverId: 'CAROL',
      decision: 'reject',
      planDigest: 'stale'.padEnd(64, '0'),
      policy,
    });
    expect(rejected.requestStatus).toBe('rejected');
    expect((await getRequest(db.pool, request.id))?.status).toBe('rejected');
    expect((await getJob(db.pool, job.id))?.status).toBe('cancelled');
    await expect(
      recordApproval(db.pool, { requestId: request.id, approverId: 'BOB', decision: 'approve', planDigest: digest, policy }),
    ).rejects.toMatchObject({ code: 'NOT_PERMITTED' });
    await expect(savePlan(db.pool, { requestId: request.id, plan: testPlan({ summary: 'C' }) })).rejects.toMatchObject({
      code: 'NOT_PERMITTED',
    });
  });
});

describe('loadApprovalState + assertApprovedForRun (what the runner does)', () => {
  async function runningJob() {
    const { request, digest } = await requestWithPlan(db.pool);
    await recordApproval(db.pool, { requestId: request.id, approverId: 'BOB', decision: 'approve', planDigest: digest, policy });
    const poolName = `assert-${request.id}`;
    await enqueueJob(db.pool, { requestId: request.id, planDigest: digest, pool: poolName });
    const job = await claimNextJob(db.pool, { runnerId: 'runner', poolName, leaseSeconds: 60 });
    if (!job) throw new Error('expected a job');
    return { job, request, digest };
  }

  it('passes for an approved job, with the plan read back from jsonb', async () => {
    const { job, digest } = await runningJob();
    const state = await loadApprovalState(db.pool, job.id);
    expect(state.currentPlan?.digest).toBe(digest);
    expect(state.approvals.map((a) => a.approverId)).toEqual(['BOB']);
    expect(state.approvals[0]?.createdAt).toBeInstanceOf(Date);
    expect(assertApprovedForRun({ policy, state })).toMatchObject({ complete: true, approvedBy: ['BOB'] });
  });

  it('fails once the approval has expired (by the database clock)', async () => {
    const { job, request } = await runningJob();
    await db.pool.query(`UPDATE approvals SET expires_at = now() - interval '1 second' WHERE request_id = $1`, [request.id]);
    const state = await loadApprovalState(db.pool, job.id);
    expect(() => assertApprovedForRun({ policy, state })).toThrow(/needs 1 more approval.*<@BOB> approval has expired/);
  });

  it('fails when the stored plan was altered behind the digest', async () => {
    const { job, request } = await runningJob();
    await db.pool.query(
      `UPDATE plans SET plan = jsonb_set(plan, '{steps,1,params,table}', '"public.users"') WHERE request_id = $1`,
      [request.id],
    );
    const state = await loadApprovalState(db.pool, job.id);
    expect(() => assertApprovedForRun({ policy, state })).toThrow(
      expect.objectContaining({ code: 'APPROVAL_INVALID', message: expect.stringMatching(/no longer matches its digest/) }),
    );
  });

  it('fails after a reject arrives while the job runs, and asks the runner to stop', async () => {
    const { job, request, digest } = await runningJob();
    await recordApproval(db.pool, { requestId: request.id, approverId: 'ALICE', decision: 'reject', planDigest: digest, policy });
    expect((await getJob(db.pool, job.id))?.cancelRequested).toBe(true);
    const state = await loadApprovalState(db.pool, job.id);
    expect(() => assertApprovedForRun({ policy, state })).toThrow(/<@ALICE> rejected this request/);
  });
});
