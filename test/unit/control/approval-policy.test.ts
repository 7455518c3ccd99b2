import { describe, expect, it } from 'vitest';
import {
  assertApprovedForRun,
  defaultRequiredApprovals,
  evaluateApprovals,
  policyStamp,
  stampDifferences,
  type ApprovalPolicy,
  type ApprovalState,
  type ApprovalVote,
  type EvaluateApprovalsInput,
  type RunPhase,
} from '../../../src/control/approval-policy.js';
import { planDigest } from '../../../src/control/digest.js';
import { RecoverError } from '../../../src/errors.js';
import type { Plan } from '../../../src/types.js';

const NOW = new Date('2024-05-01T12:00:00Z');
const DIGEST = 'a'.repeat(64);
const OLD_DIGEST = 'b'.repeat(64);
const minutesAgo = (m: number): Date => new Date(NOW.getTime() - m * 60_000);

const policy: ApprovalPolicy = {
  approvers: {
    T1: { userIds: ['ALICE', 'BOB', 'REQ'], usergroupMembers: ['CAROL'] },
    T2: { userIds: ['MALLORY'], usergroupMembers: [] },
  },
  required: 1,
  ttlMinutes: 30,
};

function vote(approverId: string, overrides: Partial<ApprovalVote> = {}): ApprovalVote {
  const createdAt = overrides.createdAt ?? minutesAgo(5);
  return {
    approverId,
    decision: 'approve',
    planDigest: DIGEST,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 30 * 60_000),
    voidedAt: null,
    ...overrides,
  };
}

function evaluate(approvals: ApprovalVote[], overrides: Partial<EvaluateApprovalsInput> = {}) {
  return evaluateApprovals({ policy, teamId: 'T1', requesterId: 'REQ', planDigest: DIGEST, approvals, now: NOW, ...overrides });
}

describe('evaluateApprovals', () => {
  it.each([
    { rule: 'no votes: one missing', votes: [], complete: false, approvedBy: [], missing: 1, refusals: [] },
    { rule: 'a configured approver counts', votes: [vote('ALICE')], complete: true, approvedBy: ['ALICE'], missing: 0, refusals: [] },
    { rule: 'a usergroup member counts', votes: [vote('CAROL')], complete: true, approvedBy: ['CAROL'], missing: 0, refusals: [] },
    {
      rule: 'the requester cannot approve their own request, even as an approver',
      votes: [vote('REQ')],
      complete: false,
      approvedBy: [],
      missing: 1,
      refusals: [{ userId: 'REQ', reason: 'own-request' }],
    },
    {
      rule: 'only configured approvers count',
      votes: [vote('EVE')],
      complete: false,
      approvedBy: [],
      missing: 1,
      refusals: [{ userId: 'EVE', reason: 'not-an-approver' }],
    },
    {
      rule: 'an approver of another team does not count',
      votes: [vote('MALLORY')],
      complete: false,
      approvedBy: [],
      missing: 1,
      refusals: [{ userId: 'MALLORY', reason: 'not-an-approver' }],
    },
    {
      rule: 'an approval of another plan digest does not count',
      votes: [vote('ALICE', { planDigest: OLD_DIGEST })],
      complete: false,
      approvedBy: [],
      missing: 1,
      refusals: [{ userId: 'ALICE', reason: 'plan-changed' }],
    },
    {
      rule: 'a voided approval does not count even with the same digest',
      votes: [vote('ALICE', { voidedAt: minutesAgo(1) })],
      complete: false,
      approvedBy: [],
      missing: 1,
      refusals: [{ userId: 'ALICE', reason: 'plan-changed' }],
    },
    {
      rule: 'an approval past its expires_at does not count',
      votes: [vote('ALICE', { createdAt: minutesAgo(10), expiresAt: minutesAgo(1) })],
      complete: false,
      approvedBy: [],
      missing: 1,
      refusals: [{ userId: 'ALICE', reason: 'expired' }],
    },
    {
      rule: 'an approval older than the policy TTL does not count whatever expires_at says',
      votes: [vote('ALICE', { createdAt: minutesAgo(31), expiresAt: new Date(NOW.getTime() + 60_000) })],
      complete: false,
      approvedBy: [],
      missing: 1,
      refusals: [{ userId: 'ALICE', reason: 'expired' }],
    },
    {
      rule: 'an approval expiring exactly now does not count',
      votes: [vote('ALICE', { createdAt: minutesAgo(30) })],
      complete: false,
      approvedBy: [],
      missing: 1,
      refusals: [{ userId: 'ALICE', reason: 'expired' }],
    },
  ])('$rule', ({ votes, complete, approvedBy, missing, refusals }) => {
    const result = evaluate(votes);
    expect(result).toEqual({ complete, approvedBy, missing, refusals });
  });

  it('needs N distinct people: the same person twice is one approval', () => {
    const two = { ...policy, required: 2 };
    expect(evaluate([vote('ALICE'), vote('ALICE', { createdAt: minutesAgo(1) })], { policy: two })).toMatchObject({
      complete: false,
      approvedBy: ['ALICE'],
      missing: 1,
    });
    expect(evaluate([vote('ALICE'), vote('BOB')], { policy: two })).toMatchObject({
      complete: true,
      approvedBy: ['ALICE', 'BOB'],
      missing: 0,
    });
  });

  it.each([
    ['an approver', 'BOB'],
    ['the requester (withdrawing)', 'REQ'],
  ])('a reject by %s ends the request even with enough approvals', (_who, rejecter) => {
    const result = evaluate([vote('ALICE'), vote(rejecter, { decision: 'reject', planDigest: OLD_DIGEST, createdAt: minutesAgo(300) })]);
    expect(result).toMatchObject({ complete: false, rejectedBy: rejecter, approvedBy: ['ALICE'], missing: 0 });
  });

  it('a reject by someone who is not an approver is refused, not obeyed', () => {
    const result = evaluate([vote('ALICE'), vote('EVE', { decision: 'reject' })]);
    expect(result).toEqual({
      complete: true,
      approvedBy: ['ALICE'],
      missing: 0,
      refusals: [{ userId: 'EVE', reason: 'not-an-approver' }],
    });
  });

  it('read-only plans need no approval by default; the others one', () => {
    expect(defaultRequiredApprovals('read-only')).toBe(0);
    expect(defaultRequiredApprovals('side-copy')).toBe(1);
    expect(defaultRequiredApprovals('destructive')).toBe(1);
    expect(evaluate([], { policy: { ...policy, required: 0 } })).toMatchObject({ complete: true, missing: 0 });
  });
});

describe('assertApprovedForRun', () => {
  const plan: Plan = {
    command: 'pitr-in-place',
    summary: 'Replace production with its state at 11:55',
    risk: 'destructive',
    steps: [
      { kind: 'stop-production', title: 'Stop production', params: {}, destructive: true },
      { kind: 'restore-base-backup', title: 'Restore', params: { lsn: '0/16B3748' }, destructive: true },
    ],
    facts: {},
  };
  const digest = planDigest(plan, 'req-1');

  function state(overrides: Partial<ApprovalState> = {}): ApprovalState {
    return {
      jobId: 'job-1',
      requestId: 'req-1',
      teamId: 'T1',
      requesterId: 'REQ',
      requestStatus: 'running',
      approvalRequestedAt: minutesAgo(6),
      jobPlanDigest: digest,
      jobCancelRequested: false,
      authorizedAt: null,
      currentPlan: { plan, digest },
      approvals: [vote('ALICE', { planDigest: digest, audited: true })],
      now: NOW,
      ...overrides,
    };
  }

  function failure(s: ApprovalState, p: ApprovalPolicy = policy, phase: RunPhase = 'start'): RecoverError {
    try {
      assertApprovedForRun({ policy: p, state: s, phase });
    } catch (error) {
      if (error instanceof RecoverError) return error;
      throw error;
    }
    throw new Error('expected APPROVAL_INVALID');
  }

  it('passes with a valid approval and returns the evaluation', () => {
    expect(assertApprovedForRun({ policy, state: state(), phase: 'start' })).toMatchObject({ complete: true, approvedBy: ['ALICE'], judgedAt: NOW });
  });

  it.each([
    ['no plan on record', state({ currentPlan: null }), /no plan on record/],
    ['a stored plan that no longer matches its digest', state({ currentPlan: { plan: { ...plan, summary: 'x' }, digest } }), /no longer matches its digest/],
    ['a job queued for an earlier plan', state({ jobPlanDigest: OLD_DIGEST }), /plan changed after this job was queued/],
    ['a reject', state({ approvals: [vote('ALICE', { planDigest: digest }), vote('BOB', { decision: 'reject' })] }), /@BOB rejected/],
    ['a request marked rejected', state({ requestStatus: 'rejected' }), /rejected this request/],
    ['an expired approval', state({ approvals: [vote('ALICE', { planDigest: digest, createdAt: minutesAgo(45) })] }), /needs 1 more approval.*@ALICE approval has expired/],
    ['only the requester approved', state({ approvals: [vote('REQ', { planDigest: digest })] }), /needs 1 more approval.*@REQ asked for this recovery/],
    ['an approval with no audit entry (written straight into the DB)', state({ approvals: [vote('ALICE', { planDigest: digest, audited: false })] }), /needs 1 more approval.*@ALICE approval has no matching entry in the audit log/],
    ['a request whose approval was never requested', state({ approvalRequestedAt: null }), /Approval was never requested/],
    ['the same plan approved for another request', state({ jobPlanDigest: planDigest(plan, 'req-2'), currentPlan: { plan, digest: planDigest(plan, 'req-2') } }), /no longer matches its digest/],
  ])('refuses %s with APPROVAL_INVALID', (_name, s, message) => {
    const error = failure(s);
    expect(error.code).toBe('APPROVAL_INVALID');
    expect(error.message).toMatch(message);
    expect(error.hint).toBeTruthy();
  });

  it('requires at least one approver for a destructive plan even if configured for none', () => {
    const error = failure(state({ approvals: [] }), { ...policy, required: 0 });
    expect(error.forChannel()).toMatch(/needs 1 more approval .*\(0 of 1 valid\)[\s\S]*ask an approver/);
  });

  describe('before a destructive step (authorization was decided when the job started)', () => {
    const startedAt = minutesAgo(40);
    // Approved 45 min ago with a 30 min TTL: valid when the job started 40 min ago, expired now.
    const approvedThen = vote('ALICE', { planDigest: digest, createdAt: minutesAgo(45), audited: true });
    const midJob = (overrides: Partial<ApprovalState> = {}) => state({ authorizedAt: startedAt, approvals: [approvedThen], ...overrides });

    it('still passes when the approvals expired after the job started', () => {
      expect(failure(state({ approvals: [approvedThen] })).message).toMatch(/approval has expired/);
      expect(assertApprovedForRun({ policy, state: midJob(), phase: 'before-destructive-step' })).toMatchObject({ complete: true, judgedAt: startedAt });
    });

    it.each([
      ['a reject after the start', midJob({ approvals: [approvedThen, vote('BOB', { decision: 'reject', createdAt: minutesAgo(1) })] }), 'APPROVAL_INVALID', /@BOB rejected/],
      ['a changed plan digest', midJob({ jobPlanDigest: OLD_DIGEST }), 'APPROVAL_INVALID', /plan changed after this job was queued/],
      ['a voided approval', midJob({ approvals: [{ ...approvedThen, voidedAt: minutesAgo(1) }] }), 'APPROVAL_INVALID', /approved an earlier version/],
      ['an approval that lost its audit entry', midJob({ approvals: [{ ...approvedThen, audited: false }] }), 'APPROVAL_INVALID', /no matching entry in the audit log/],
      ['a cancel', midJob({ jobCancelRequested: true }), 'CANCELLED', /cancelled before its next destructive step/],
      ['a job that was never authorized at its start', midJob({ authorizedAt: null }), 'APPROVAL_INVALID', /never authorized/],
    ])('fails on %s', (_name, s, code, message) => {
      const error = failure(s, policy, 'before-destructive-step');
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      expect(error.forChannel()).not.toMatch(/resume/i);
    });
  });
});

describe('approver groups and settings shared by bot and runner (issue 19 item 3)', () => {
  const settings = {
    approvers: { T1: { users: ['ALICE'], usergroups: ['SOPS'] } },
    required: { 'read-only': 0, 'side-copy': 1, destructive: 1 },
    ttlMinutes: 30,
  };
  const stamp = policyStamp(settings);
  // The runner's view: it lists the group but cannot resolve its members.
  const runner: ApprovalPolicy = { approvers: { T1: { userIds: ['ALICE'], usergroupMembers: [], usergroups: ['SOPS'] } }, required: 1, ttlMinutes: 30, stamp };
  const byGroup = (overrides: Partial<ApprovalVote> = {}) =>
    vote('CAROL', { audited: true, via: { kind: 'usergroup', usergroup: 'SOPS' }, policy: stamp, ...overrides });

  it.each([
    { rule: 'the bot vouched for the membership of a listed group under the same settings: counts', v: byGroup(), counts: true },
    { rule: 'no audit entry', v: byGroup({ audited: false }), counts: false },
    { rule: 'the audit entry names no group (an older bot)', v: byGroup({ via: undefined }), counts: false },
    { rule: 'a group the runner does not list', v: byGroup({ via: { kind: 'usergroup', usergroup: 'SOTHER' } }), counts: false },
    { rule: 'recorded under other settings', v: byGroup({ policy: policyStamp({ ...settings, ttlMinutes: 60 }) }), counts: false },
    { rule: 'the entry says "listed by id" but the runner does not list the person', v: byGroup({ via: { kind: 'user' } }), counts: false },
  ])('$rule', ({ v, counts }) => {
    const result = evaluateApprovals({ policy: runner, teamId: 'T1', requesterId: 'REQ', planDigest: DIGEST, approvals: [v], now: NOW });
    expect(result.complete).toBe(counts);
  });

  it('the stamp ignores order and duplicates, and changes with each setting', () => {
    expect(policyStamp({ ...settings, approvers: { T1: { users: ['ALICE', 'ALICE'], usergroups: ['SOPS'] } } }).digest).toBe(stamp.digest);
    const others = [
      policyStamp({ ...settings, ttlMinutes: 31 }),
      policyStamp({ ...settings, required: { ...settings.required, destructive: 2 } }),
      policyStamp({ ...settings, approvers: { T1: { users: ['ALICE'], usergroups: [] } } }),
    ];
    expect(new Set([stamp.digest, ...others.map((o) => o.digest)]).size).toBe(4);
  });

  it('names the setting that differs, with the values for the numbers', () => {
    const other = policyStamp({ ...settings, required: { ...settings.required, destructive: 2 } });
    expect(stampDifferences(stamp, other, ['bot', 'runner'])).toEqual([
      'RECOVER_APPROVALS_REQUIRED (bot: {"destructive":1,"read-only":0,"side-copy":1}, runner: {"destructive":2,"read-only":0,"side-copy":1})',
    ]);
    expect(stampDifferences(stamp, policyStamp({ ...settings, approvers: {} }), ['bot', 'runner'])).toEqual([expect.stringMatching(/^RECOVER_APPROVERS/)]);
    expect(stampDifferences(stamp, stamp, ['bot', 'runner'])).toEqual([]);
  });

  it('the runner refuses with CONFIG_INVALID when a vote or the plan was made under other settings', () => {
    const plan: Plan = { command: 'x', summary: 's', risk: 'destructive', steps: [{ kind: 'k', title: 't', params: {}, destructive: true }], facts: {} };
    const bot = policyStamp({ ...settings, required: { ...settings.required, destructive: 2 } });
    const base = {
      jobId: 'j', requestId: 'r', teamId: 'T1', requesterId: 'REQ', requestStatus: 'running', approvalRequestedAt: minutesAgo(6),
      jobCancelRequested: false, authorizedAt: null, now: NOW,
    };
    const digest = planDigest(plan, 'r');
    const voteState: ApprovalState = { ...base, jobPlanDigest: digest, currentPlan: { plan, digest }, approvals: [vote('ALICE', { planDigest: digest, audited: true, via: { kind: 'user' }, policy: bot })] };
    expect(() => assertApprovedForRun({ policy: runner, state: voteState, phase: 'start' })).toThrow(/bot and this runner have different approval settings: RECOVER_APPROVALS_REQUIRED \(bot: .*"destructive":2.*runner: .*"destructive":1/);
    const stamped = { ...plan, approvalPolicy: bot };
    const stampedDigest = planDigest(stamped, 'r');
    const planState: ApprovalState = { ...base, jobPlanDigest: stampedDigest, currentPlan: { plan: stamped, digest: stampedDigest }, approvals: [vote('ALICE', { planDigest: stampedDigest, audited: true })] };
    let caught: unknown;
    try { assertApprovedForRun({ policy: runner, state: planState, phase: 'start' }); } catch (error) { caught = error; }
    expect(caught).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/planned under other approval settings.*RECOVER_APPROVALS_REQUIRED/) });
    // Same settings everywhere: the same state passes.
    expect(assertApprovedForRun({ policy: runner, state: { ...voteState, approvals: [vote('ALICE', { planDigest: digest, audited: true, policy: stamp })] }, phase: 'start' }).complete).toBe(true);
  });
});
