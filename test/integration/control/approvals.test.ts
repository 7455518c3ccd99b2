import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertApprovedForRun, type ApprovalPolicy } from '../../../src/control/approval-policy.js';
import { listApprovals, markApprovalRequested, recordApproval } from '../../../src/control/approvals.js';
import { loadApprovalState, recordJobAuthorized } from '../../../src/control/approval-state.js';
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

  it('refuses an approval (and a job) until the requester has requested approval; a reject is always possible', async () => {
    const { request, digest } = await requestWithPlan(db.pool, { approvalRequested: false });
    await expect(
      recordApproval(db.pool, { requestId: request.id, approverId: 'ALICE', decision: 'approve', planDigest: digest, policy }),
    ).rejects.toMatchObject({ code: 'NOT_PERMITTED', message: expect.stringMatching(/not awaiting approval .*has not requested approval/) });
    expect(await listApprovals(db.pool, request.id)).toEqual([]);
    await expect(enqueueJob(db.pool, { requestId: request.id, planDigest: digest, pool: 'never' })).rejects.toMatchObject({ code: 'NOT_PERMITTED' });

    await expect(markApprovalRequested(db.pool, { requestId: request.id, userId: 'ALICE', planDigest: digest })).rejects.toMatchObject({ code: 'NOT_PERMITTED' });
    await expect(markApprovalRequested(db.pool, { requestId: request.id, userId: 'REQ', planDigest: 'f'.repeat(64) })).rejects.toMatchObject({ code: 'APPROVAL_INVALID' });
    expect((await getRequest(db.pool, request.id))?.approvalRequestedAt).toBeNull();

    expect((await markApprovalRequested(db.pool, { requestId: request.id, userId: 'REQ', planDigest: digest })).changed).toBe(true);
    expect((await markApprovalRequested(db.pool, { requestId: request.id, userId: 'REQ', planDigest: digest })).changed).toBe(false);
    const recorded = await recordApproval(db.pool, { requestId: request.id, approverId: 'ALICE', decision: 'approve', planDigest: digest, policy });
    expect(recorded.changed).toBe(true);

    const withdrawn = await requestWithPlan(db.pool, { approvalRequested: false });
    const reject = await recordApproval(db.pool, { requestId: withdrawn.request.id, approverId: 'REQ', decision: 'reject', planDigest: withdrawn.digest, policy });
    expect(reject.requestStatus).toBe('rejected');
  });

  it('refuses an approval once the request is no longer awaiting approval (a job was queued)', async () => {
    const { request, digest } = await requestWithPlan(db.pool);
    await recordApproval(db.pool, { requestId: request.id, approverId: 'ALICE', decision: 'approve', planDigest: digest, policy });
    await enqueueJob(db.pool, { requestId: request.id, planDigest: digest, pool: `queued-${request.id}` });
    await expect(
      recordApproval(db.pool, { requestId: request.id, approverId: 'BOB', decision: 'approve', planDigest: digest, policy }),
    ).rejects.toMatchObject({ code: 'NOT_PERMITTED', message: expect.stringMatching(/already queued/) });
  });

  it('two requests with the same plan have different digests, so an approval of one does not fit the other', async () => {
    const first = await requestWithPlan(db.pool);
    const second = await requestWithPlan(db.pool);
    expect(second.digest).not.toBe(first.digest);
    await expect(
      recordApproval(db.pool, { requestId: second.request.id, approverId: 'ALICE', decision: 'approve', planDigest: first.digest, policy }),
    ).rejects.toMatchObject({ code: 'APPROVAL_INVALID' });
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
    expect(state.approvals[0]?.audited).toBe(true);
    expect(assertApprovedForRun({ policy, state, phase: 'start' })).toMatchObject({ complete: true, approvedBy: ['BOB'] });
  });

  it('fails at the start once the approval has expired (by the database clock)', async () => {
    const { job } = await runningJob();
    const state = await loadApprovalState(db.pool, job.id);
    // A zero time limit: the approval given a moment ago has expired by now.
    expect(() => assertApprovedForRun({ policy: { ...policy, ttlMinutes: 0 }, state, phase: 'start' })).toThrow(
      /needs 1 more approval.*@BOB approval has expired/,
    );
  });

  it('mid-job, approvals that expired after the job was authorized still count; a reject does not', async () => {
    const { job, request, digest } = await runningJob();
    const atStart = assertApprovedForRun({ policy, state: await loadApprovalState(db.pool, job.id), phase: 'start' });
    await recordJobAuthorized(db.pool, { jobId: job.id, runnerId: 'runner', at: atStart.judgedAt, approvedBy: atStart.approvedBy, planDigest: digest });
    // As if the base-backup download took 45 minutes: approved 50 min ago, authorized 45 min
    // ago. (Only created_at moves; the expiry the audit entry recorded stays as it was.)
    await db.pool.query(`UPDATE approvals SET created_at = created_at - interval '50 minutes' WHERE request_id = $1`, [request.id]);
    await db.pool.query(`UPDATE jobs SET authorized_at = authorized_at - interval '45 minutes' WHERE id = $1`, [job.id]);
    const later = await loadApprovalState(db.pool, job.id);
    expect(later.approvals[0]?.audited).toBe(true);
    expect(() => assertApprovedForRun({ policy, state: later, phase: 'start' })).toThrow(/approval has expired/);
    expect(assertApprovedForRun({ policy, state: later, phase: 'before-destructive-step' })).toMatchObject({ complete: true, approvedBy: ['BOB'] });

    await recordApproval(db.pool, { requestId: request.id, approverId: 'ALICE', decision: 'reject', planDigest: digest, policy });
    const rejected = await loadApprovalState(db.pool, job.id);
    expect(() => assertApprovedForRun({ policy, state: rejected, phase: 'before-destructive-step' })).toThrow(/@ALICE rejected this request/);
  });

  it('a job is authorized once, only by the runner holding it, with an audit entry', async () => {
    const { job, digest } = await runningJob();
    const at = new Date();
    await expect(recordJobAuthorized(db.pool, { jobId: job.id, runnerId: 'someone-else', at, approvedBy: ['BOB'], planDigest: digest })).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await recordJobAuthorized(db.pool, { jobId: job.id, runnerId: 'runner', at, approvedBy: ['BOB'], planDigest: digest });
    // The same record again is a retry after a lost reply (the control DB restarted): a no-op, audited once.
    await recordJobAuthorized(db.pool, { jobId: job.id, runnerId: 'runner', at, approvedBy: ['BOB'], planDigest: digest });
    // A second authorization (another time) is refused.
    await expect(recordJobAuthorized(db.pool, { jobId: job.id, runnerId: 'runner', at: new Date(at.getTime() + 1000), approvedBy: ['BOB'], planDigest: digest })).rejects.toMatchObject({ code: 'LEASE_LOST' });
    const { rows } = await db.pool.query(`SELECT actor, details FROM audit_log WHERE action = 'job.authorized' AND subject = $1`, [`job:${job.id}`]);
    expect(rows).toEqual([{ actor: 'runner', details: { planDigest: digest, approvedBy: ['BOB'], at: at.toISOString() } }]);
  });

  it('an approval row written straight into the DB (no audit entry) does not count; a recorded one does', async () => {
    const { job, request, digest } = await runningJob();
    await db.pool.query(
      `INSERT INTO approvals (request_id, approver_id, plan_digest, decision, expires_at) VALUES ($1, 'CAROL', $2, 'approve', now() + interval '30 minutes')`,
      [request.id, digest],
    );
    const state = await loadApprovalState(db.pool, job.id);
    expect(state.approvals.map((a) => [a.approverId, a.audited])).toEqual([['BOB', true], ['CAROL', false]]);
    expect(assertApprovedForRun({ policy: { ...policy, required: 1 }, state, phase: 'start' }).approvedBy).toEqual(['BOB']);
    const two = { ...policy, required: 2 };
    expect(() => assertApprovedForRun({ policy: two, state, phase: 'start' })).toThrow(/@CAROL approval has no matching entry in the audit log/);
    await db.pool.query(`UPDATE approvals SET expires_at = now() + interval '2 days' WHERE request_id = $1 AND approver_id = 'BOB'`, [request.id]);
    // A recorded vote whose row is rewritten (a longer expiry) no longer matches its audit entry.
    const tampered = await loadApprovalState(db.pool, job.id);
    expect(tampered.approvals.find((a) => a.approverId === 'BOB')?.audited).toBe(false);
  });

  it('fails when the stored plan was altered behind the digest', async () => {
    const { job, request } = await runningJob();
    await db.pool.query(
      `UPDATE plans SET plan = jsonb_set(plan, '{steps,1,params,table}', '"public.users"') WHERE request_id = $1`,
      [request.id],
    );
    const state = await loadApprovalState(db.pool, job.id);
    expect(() => assertApprovedForRun({ policy, state, phase: 'start' })).toThrow(
      expect.objectContaining({ code: 'APPROVAL_INVALID', message: expect.stringMatching(/no longer matches its digest/) }),
    );
  });

  it('fails after a reject arrives while the job runs, and asks the runner to stop', async () => {
    const { job, request, digest } = await runningJob();
    await recordApproval(db.pool, { requestId: request.id, approverId: 'ALICE', decision: 'reject', planDigest: digest, policy });
    expect((await getJob(db.pool, job.id))?.cancelRequested).toBe(true);
    const state = await loadApprovalState(db.pool, job.id);
    expect(() => assertApprovedForRun({ policy, state, phase: 'before-destructive-step' })).toThrow(/@ALICE rejected this request/);
  });
});
