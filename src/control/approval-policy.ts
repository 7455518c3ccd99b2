/**
 * Who may approve what, as pure functions. The bot evaluates them to tell people where a
 * request stands; the runner evaluates them again, on state it read from the control DB
 * itself (`assertApprovedForRun`), because the bot is the less trusted process:
 * - when the job starts (`phase: 'start'`) the approvals must be complete and unexpired:
 *   that is when authorization is decided;
 * - before every destructive step (`phase: 'before-destructive-step'`) the same rules are
 *   applied as of that authorization time, so a long step (a base-backup download) cannot
 *   expire them half-way through a restore, while a reject, a changed plan or digest, a
 *   vote that lost its audit entry, or a cancel still stops the job.
 */
import { RecoverError } from '../errors.js';
import type { Plan, PolicyStamp, Risk } from '../types.js';
import { planDigest } from './digest.js';
import { assertSameSettings } from './approval-settings.js';

export type ApprovalDecision = 'approve' | 'reject';

export interface ApproverSet {
  userIds: readonly string[];
  /** Members of the configured approver user groups, resolved by the caller (the runner has no Slack access). */
  usergroupMembers: readonly string[];
  /**
   * The configured approver user groups themselves (the runner's): a vote counts through one
   * of them only when its audited entry says the bot resolved the voter as a member of that
   * group, under the same policy digest (`vouchedByGroup`). The runner cannot ask Slack; it
   * trusts the bot's audited word on membership, bounded by the groups its own config lists.
   */
  usergroups?: readonly string[];
}

export type { PolicyStamp };
export { isPolicyStamp, policyStamp, stampDifferences, type ApprovalSettings } from './approval-settings.js';

/** How the bot judged a voter to be an approver (recorded in the vote's audit entry). */
export type ApproverVia = { kind: 'user' } | { kind: 'usergroup'; usergroup: string };

export interface ApprovalPolicy {
  /** Keyed by Slack team id: an approver of one workspace is nobody in another. */
  approvers: Readonly<Record<string, ApproverSet>>;
  required: number;
  ttlMinutes: number;
  /** The settings this policy came from (policyStamp); absent in policies built by hand. */
  stamp?: PolicyStamp;
}

export const DEFAULT_APPROVAL_TTL_MINUTES = 30;

export function defaultRequiredApprovals(risk: Risk): number {
  return risk === 'read-only' ? 0 : 1;
}

export interface ApprovalVote {
  approverId: string;
  decision: ApprovalDecision;
  planDigest: string;
  createdAt: Date;
  expiresAt: Date;
  /** Set when a newer plan replaced the one this vote was given for. */
  voidedAt?: Date | null;
  /**
   * Whether the vote has a matching, intact entry in the hash-chained audit log. The runner
   * always sets it (see loadApprovalState); an approval with `false` does not count (a row
   * written straight into the control DB). Undefined: not checked (the bot's own display).
   */
  audited?: boolean;
  /** From the vote's audit entry (the runner's view): how the bot judged the voter, and under which settings. */
  via?: ApproverVia;
  policy?: PolicyStamp;
}

export type RefusalReason = 'own-request' | 'not-an-approver' | 'plan-changed' | 'expired' | 'not-audited';

export interface Refusal {
  userId: string;
  reason: RefusalReason;
}

export interface ApprovalEvaluation {
  complete: boolean;
  approvedBy: string[];
  missing: number;
  rejectedBy?: string;
  refusals: Refusal[];
}

export interface EvaluateApprovalsInput {
  policy: ApprovalPolicy;
  teamId: string;
  requesterId: string;
  planDigest: string;
  approvals: readonly ApprovalVote[];
  now: Date;
}

export function isConfiguredApprover(policy: ApprovalPolicy, teamId: string, userId: string): boolean {
  const set = policy.approvers[teamId];
  return set !== undefined && (set.userIds.includes(userId) || set.usergroupMembers.includes(userId));
}

/**
 * Whether this person's vote can count at all, whatever the plan. The requester may reject
 * (withdraw) their own request but not approve it.
 */
export function voterRefusal(
  policy: ApprovalPolicy,
  vote: { teamId: string; requesterId: string; userId: string; decision: ApprovalDecision },
): RefusalReason | null {
  if (vote.decision === 'approve' && vote.userId === vote.requesterId) return 'own-request';
  if (vote.decision === 'reject' && vote.userId === vote.requesterId) return null;
  return isConfiguredApprover(policy, vote.teamId, vote.userId) ? null : 'not-an-approver';
}

/**
 * A vote that counts through a user group without the evaluator resolving the group itself
 * (the runner): its audited entry says the bot resolved the voter as a member of a group that
 * the evaluator's own config lists for the team, under the evaluator's own policy digest.
 */
export function vouchedByGroup(policy: ApprovalPolicy, teamId: string, vote: ApprovalVote): boolean {
  const set = policy.approvers[teamId];
  if (!set?.usergroups || vote.via?.kind !== 'usergroup' || vote.audited !== true) return false;
  if (!policy.stamp || vote.policy?.digest !== policy.stamp.digest) return false;
  return set.usergroups.includes(vote.via.usergroup);
}

export function evaluateApprovals(input: EvaluateApprovalsInput): ApprovalEvaluation {
  const { policy, teamId, requesterId, now } = input;
  const ttlMs = policy.ttlMinutes * 60_000;
  const approvedBy: string[] = [];
  const refusals: Refusal[] = [];
  let rejectedBy: string | undefined;
  const inOrder = [...input.approvals].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());

  for (const vote of inOrder) {
    const userId = vote.approverId;
    let refusal = voterRefusal(policy, { teamId, requesterId, userId, decision: vote.decision });
    if (refusal === 'not-an-approver' && vouchedByGroup(policy, teamId, vote)) refusal = null;
    if (refusal) {
      refusals.push({ userId, reason: refusal });
    } else if (vote.decision === 'reject') {
      // A reject ends the request whatever plan it was given for and however old it is.
      rejectedBy ??= userId;
    } else if (vote.audited === false) {
      refusals.push({ userId, reason: 'not-audited' });
    } else if (vote.voidedAt || vote.planDigest !== input.planDigest) {
      refusals.push({ userId, reason: 'plan-changed' });
    } else if (now.getTime() >= Math.min(vote.expiresAt.getTime(), vote.createdAt.getTime() + ttlMs)) {
      refusals.push({ userId, reason: 'expired' });
    } else if (!approvedBy.includes(userId)) {
      approvedBy.push(userId);
    }
  }

  const missing = Math.max(0, policy.required - approvedBy.length);
  return {
    complete: rejectedBy === undefined && missing === 0,
    approvedBy,
    missing,
    ...(rejectedBy === undefined ? {} : { rejectedBy }),
    refusals,
  };
}

const REFUSAL_TEXT: Record<RefusalReason, string> = {
  'own-request': 'asked for this recovery, so cannot approve it',
  'not-an-approver': 'is not a configured approver',
  'plan-changed': 'approved an earlier version of the plan',
  expired: 'approval has expired',
  'not-audited': 'approval has no matching entry in the audit log (it was not recorded by recover-bot)',
};

/** `mention` names the voter: `@U…` in plain text by default (the control DB and the runner write no Slack markup); the bot passes its views' user() (only those stay live there). */
export function describeRefusal(refusal: Refusal, mention: (userId: string) => string = (id) => `@${id}`): string {
  return `${mention(refusal.userId)} ${REFUSAL_TEXT[refusal.reason]}`;
}

/** What the runner reads from the control DB before it starts a job and before each destructive step (see loadApprovalState). */
export interface ApprovalState {
  jobId: string;
  requestId: string;
  teamId: string;
  requesterId: string;
  requestStatus: string;
  /** When the requester asked for approval (Request approval / typed confirmation); null: never. */
  approvalRequestedAt: Date | null;
  jobPlanDigest: string;
  jobCancelRequested: boolean;
  /** When the runner decided at job start that the approvals were complete; null before that. */
  authorizedAt: Date | null;
  currentPlan: { plan: Plan; digest: string } | null;
  approvals: ApprovalVote[];
  /** The control DB's clock, so that runners with skewed clocks agree on expiry. */
  now: Date;
}

/** 'start': authorization is decided now (time limits apply); later checks judge as of then. */
export type RunPhase = 'start' | 'before-destructive-step';

const short = (digest: string): string => digest.slice(0, 12);

/**
 * Throws unless the job may start (phase 'start') or go on with a destructive step: APPROVAL_INVALID,
 * or CANCELLED when someone asked to cancel. A destructive plan needs at least one approver whatever
 * the configured number says. Returns the evaluation and the time it was judged at (the
 * authorization time to record at start).
 */
export function assertApprovedForRun(input: {
  policy: ApprovalPolicy;
  state: ApprovalState;
  phase: RunPhase;
}): ApprovalEvaluation & { judgedAt: Date } {
  const { state, phase } = input;
  const midJob = phase === 'before-destructive-step';
  const nothingMore = midJob ? 'Nothing more will run; the channel shows what state production is in.' : 'Nothing ran.';
  const stop = (message: string, hint: string): never => {
    throw new RecoverError('APPROVAL_INVALID', message, { hint });
  };
  const newRequest = 'Start a new request with `/recover` if recovery is still needed, and have it approved.';
  if (!state.currentPlan) {
    return stop(`Job ${state.jobId} has no plan on record. ${nothingMore}`, newRequest);
  }
  const { plan, digest } = state.currentPlan;
  if (planDigest(plan, state.requestId) !== digest) {
    return stop(
      `The stored plan of this request no longer matches its digest \`${short(digest)}\`: ` +
        `it was changed in the control DB. ${nothingMore}`,
      `Check the audit log (\`recover audit verify\`). ${newRequest}`,
    );
  }
  if (state.jobPlanDigest !== digest) {
    return stop(
      `The plan changed after this job was queued (job \`${short(state.jobPlanDigest)}\`, ` +
        `current \`${short(digest)}\`). ${nothingMore}`,
      `Review the new plan. ${newRequest}`,
    );
  }
  assertSameSettings(input.policy, plan, state, nothingMore);
  const judgedAt = midJob && state.authorizedAt ? state.authorizedAt : state.now;
  const destructive = plan.steps.some((step) => step.destructive);
  const policy = { ...input.policy, required: Math.max(input.policy.required, destructive ? 1 : 0) };
  const evaluation = evaluateApprovals({
    policy,
    teamId: state.teamId,
    requesterId: state.requesterId,
    planDigest: digest,
    approvals: state.approvals,
    now: judgedAt,
  });
  if (evaluation.rejectedBy !== undefined || state.requestStatus === 'rejected') {
    const who = evaluation.rejectedBy === undefined ? 'An approver' : `@${evaluation.rejectedBy}`;
    return stop(`${who} rejected this request. ${nothingMore}`, 'Start a new request if recovery is still needed.');
  }
  if (state.jobCancelRequested) {
    throw new RecoverError('CANCELLED', `The job was cancelled before ${midJob ? 'its next destructive step' : 'it started'}. ${nothingMore}`);
  }
  if (state.approvalRequestedAt === null) {
    return stop(
      `Approval was never requested for this request, so no approval of it counts. ${nothingMore}`,
      `The requester clicks *Request approval* on the plan preview; then approvers approve. ${newRequest}`,
    );
  }
  if (midJob && state.authorizedAt === null) {
    return stop(`Job ${state.jobId} was never authorized when it started. ${nothingMore}`, newRequest);
  }
  if (!evaluation.complete) {
    const notCounted = evaluation.refusals.length
      ? ` Not counted: ${evaluation.refusals.map((refusal) => describeRefusal(refusal)).join('; ')}.`
      : '';
    const approvals = evaluation.missing === 1 ? 'approval' : 'approvals';
    const when = midJob ? 'to go on with its next destructive step' : 'to start';
    return stop(
      `Plan \`${short(digest)}\` needs ${evaluation.missing} more ${approvals} ${when} ` +
        `(${evaluation.approvedBy.length} of ${policy.required} valid).${notCounted} ${nothingMore}`,
      'Start a new request with `/recover` and ask an approver other than the requester to approve it ' +
        `(approvals last ${policy.ttlMinutes} min, counted until the job starts).`,
    );
  }
  return { ...evaluation, judgedAt };
}

