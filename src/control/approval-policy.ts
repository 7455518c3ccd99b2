/**
 * Who may approve what, as pure functions. The bot evaluates them to tell people where a
 * request stands; the runner evaluates them again, on state it read from the control DB
 * itself, before every destructive step (`assertApprovedForRun`), because the bot is the
 * less trusted process.
 */
import { RecoverError } from '../errors.js';
import type { Plan, Risk } from '../types.js';
import { planDigest } from './digest.js';

export type ApprovalDecision = 'approve' | 'reject';

export interface ApproverSet {
  userIds: readonly string[];
  /** Members of the configured approver user groups, resolved by the caller (the runner has no Slack access). */
  usergroupMembers: readonly string[];
}

export interface ApprovalPolicy {
  /** Keyed by Slack team id: an approver of one workspace is nobody in another. */
  approvers: Readonly<Record<string, ApproverSet>>;
  required: number;
  ttlMinutes: number;
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
}

export type RefusalReason = 'own-request' | 'not-an-approver' | 'plan-changed' | 'expired';

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

export function evaluateApprovals(input: EvaluateApprovalsInput): ApprovalEvaluation {
  const { policy, teamId, requesterId, now } = input;
  const ttlMs = policy.ttlMinutes * 60_000;
  const approvedBy: string[] = [];
  const refusals: Refusal[] = [];
  let rejectedBy: string | undefined;
  const inOrder = [...input.approvals].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());

  for (const vote of inOrder) {
    const userId = vote.approverId;
    const refusal = voterRefusal(policy, { teamId, requesterId, userId, decision: vote.decision });
    if (refusal) {
      refusals.push({ userId, reason: refusal });
    } else if (vote.decision === 'reject') {
      // A reject ends the request whatever plan it was given for and however old it is.
      rejectedBy ??= userId;
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
};

export function describeRefusal(refusal: Refusal): string {
  return `<@${refusal.userId}> ${REFUSAL_TEXT[refusal.reason]}`;
}

/** What the runner reads from the control DB before a destructive step (see loadApprovalState). */
export interface ApprovalState {
  jobId: string;
  requestId: string;
  teamId: string;
  requesterId: string;
  requestStatus: string;
  jobPlanDigest: string;
  currentPlan: { plan: Plan; digest: string } | null;
  approvals: ApprovalVote[];
  /** The control DB's clock, so that runners with skewed clocks agree on expiry. */
  now: Date;
}

const short = (digest: string): string => digest.slice(0, 12);

/**
 * Throws APPROVAL_INVALID unless the job may run a destructive step now. A destructive plan
 * needs at least one approver whatever the configured number says.
 */
export function assertApprovedForRun(input: { policy: ApprovalPolicy; state: ApprovalState }): ApprovalEvaluation {
  const { state } = input;
  const stop = (message: string, hint: string): never => {
    throw new RecoverError('APPROVAL_INVALID', message, { hint });
  };
  if (!state.currentPlan) {
    return stop(`Job ${state.jobId} has no plan on record, so nothing will run.`, 'Start a new request.');
  }
  const { plan, digest } = state.currentPlan;
  if (planDigest(plan) !== digest) {
    return stop(
      `The stored plan of this request no longer matches its digest \`${short(digest)}\`: ` +
        'it was changed in the control DB. Nothing more will run.',
      'Check the audit log (`recover audit verify`) and start a new request.',
    );
  }
  if (state.jobPlanDigest !== digest) {
    return stop(
      `The plan changed after this job was queued (job \`${short(state.jobPlanDigest)}\`, ` +
        `current \`${short(digest)}\`). Nothing more will run.`,
      'Review the new plan; approving it starts a new job.',
    );
  }
  const destructive = plan.steps.some((step) => step.destructive);
  const policy = { ...input.policy, required: Math.max(input.policy.required, destructive ? 1 : 0) };
  const evaluation = evaluateApprovals({
    policy,
    teamId: state.teamId,
    requesterId: state.requesterId,
    planDigest: digest,
    approvals: state.approvals,
    now: state.now,
  });
  if (evaluation.rejectedBy !== undefined || state.requestStatus === 'rejected') {
    const who = evaluation.rejectedBy === undefined ? 'An approver' : `<@${evaluation.rejectedBy}>`;
    return stop(
      `${who} rejected this request; nothing more will run.`,
      'Start a new request if recovery is still needed.',
    );
  }
  if (!evaluation.complete) {
    const notCounted = evaluation.refusals.length
      ? ` Not counted: ${evaluation.refusals.map(describeRefusal).join('; ')}.`
      : '';
    const approvals = evaluation.missing === 1 ? 'approval' : 'approvals';
    return stop(
      `Plan \`${short(digest)}\` needs ${evaluation.missing} more ${approvals} before its next destructive step ` +
        `(${evaluation.approvedBy.length} of ${policy.required} valid).${notCounted}`,
      'Ask an approver other than the requester to approve the current plan in the request thread ' +
        `(approvals last ${policy.ttlMinutes} min), then resume the job.`,
    );
  }
  return evaluation;
}
