/**
 * The approval flow behind the buttons, free of Bolt types: request approval (through the
 * confirmation modal for destructive plans), approve, reject, cancel. Every click re-reads
 * the request, its current plan and its approvals from the control DB; recordApproval
 * enforces who may vote, and a complete approval enqueues exactly one job.
 */
import { findCommand } from '../../../commands/index.js';
import {
  describeRefusal, enqueueJob, evaluateApprovals, getCurrentPlan, getRequest, getSlackPost, listApprovals, markApprovalRequested, recordApproval, setRequestSlackRefs,
  type ApprovalDecision, type PlanRecord, type RequestRecord,
} from '../../control/index.js';
import { activeJobOf } from '../../control/jobs.js';
import { requireProductionName } from '../../config.js';
import { isRecoverError, RecoverError } from '../../errors.js';
import { approvalMessage, confirmModal, type ApprovalState } from '../views/approval.js';
import { formatUtc, user, type SlackMessage } from '../views/common.js';
import { commandErrorMessage, notice } from '../views/help.js';
import type { BotDeps } from '../context.js';
import type { JobWatcher } from './job-watcher.js';
import { PRIORITY } from '../io/outbox.js';
import { runsWithoutApproval, showPreview } from './plan-watcher.js';
import { settingsMismatch } from './approvers.js';

export interface FlowDeps extends BotDeps {
  jobs: JobWatcher;
}

export type Reply = (message: SlackMessage) => Promise<void>;

/** The key of a request's approval message in slack_posts (and in the message's metadata). */
export const approvalPostKey = (requestId: string): string => `request:${requestId}:approval`;

async function load(deps: FlowDeps, requestId: string): Promise<{ request: RequestRecord; plan: PlanRecord }> {
  const request = await getRequest(deps.control, requestId);
  if (!request) throw new RecoverError('BAD_INPUT', `There is no request ${requestId}.`);
  const plan = await getCurrentPlan(deps.control, requestId);
  if (!plan) throw new RecoverError('BAD_INPUT', 'This request has no plan yet.', { hint: 'Wait for the plan preview, then try again.' });
  return { request, plan };
}

/** "Request approval": only the requester; destructive plans first confirm in a modal. */
export async function requestApproval(
  deps: FlowDeps,
  input: { requestId: string; userId: string; triggerId: string; reply: Reply; shownDigest: string | undefined },
): Promise<void> {
  await deps.locks.serial(input.requestId, async () => {
    const { request, plan } = await load(deps, input.requestId);
    if (input.userId !== request.requesterId) {
      const who = `Only ${user(request.requesterId)}, who asked for this recovery, can request approval for it.`;
      return input.reply(notice(`${who} Approvers vote on the approval message once it is posted.`));
    }
    if (request.status !== 'pending') return input.reply(notice(`This request is already ${request.status}; nothing to approve.`));
    if (request.slackRefs.approvalTs) return input.reply(notice('Approval was already requested: see the approval message in the channel.'));
    if (input.shownDigest !== plan.digest) {
      showPreview(deps, request, plan, { kind: 'open' });
      return input.reply(notice('The plan changed since this preview was shown; the preview now shows the new plan. Review it, then request approval again.'));
    }
    const mismatch = settingsMismatch(deps.config.approval, plan.plan);
    if (mismatch) return input.reply(commandErrorMessage(mismatch));
    const expect = findCommand(request.command)?.confirmation(request.args, { production: { name: requireProductionName(deps.config) } }) ?? null;
    if (expect) {
      await deps.out.openView(input.triggerId, confirmModal({ requestId: request.id, digest: plan.digest, expect, plan: plan.plan }));
      return;
    }
    await postApprovalRequest(deps, request, plan, input);
  });
}

/** After the modal: the request must still be pending with the plan that was confirmed. */
export async function confirmed(deps: FlowDeps, input: { requestId: string; digest: string; userId: string; reply: Reply }): Promise<void> {
  await deps.locks.serial(input.requestId, async () => {
    const { request, plan } = await load(deps, input.requestId);
    if (input.userId !== request.requesterId) return input.reply(notice(`Only ${user(request.requesterId)} can request approval for this recovery.`));
    if (plan.digest !== input.digest) return input.reply(notice('The plan changed while you were confirming; review the new preview and request approval again.'));
    if (request.status !== 'pending' || request.slackRefs.approvalTs) return input.reply(notice(`Approval was already requested (request is ${request.status}).`));
    const mismatch = settingsMismatch(deps.config.approval, plan.plan);
    if (mismatch) return input.reply(commandErrorMessage(mismatch));
    await postApprovalRequest(deps, request, plan, input);
  });
}

/**
 * Opens the request for approvals in the control DB (which refuses approvals before this,
 * whatever process records them), then posts the approval message.
 */
async function postApprovalRequest(
  deps: FlowDeps,
  request: RequestRecord,
  plan: PlanRecord,
  by: { userId: string; reply: Reply },
): Promise<void> {
  try {
    await markApprovalRequested(deps.control, { requestId: request.id, userId: by.userId, planDigest: plan.digest });
  } catch (error) {
    if (!isRecoverError(error) || (error.code !== 'NOT_PERMITTED' && error.code !== 'APPROVAL_INVALID')) throw error;
    return by.reply(commandErrorMessage(error));
  }
  const channel = request.slackRefs.channel ?? request.channelId;
  // Recorded before it is posted and marked with its key: a slow Slack or a restart finds it instead of posting twice.
  const about = { key: approvalPostKey(request.id), kind: 'approval', requestId: request.id };
  const ts = await deps.out.post(channel, approvalMessage(await approvalInput(deps, request, plan, { kind: 'open' })), undefined, about);
  await setRequestSlackRefs(deps.control, request.id, { approvalTs: ts });
  const updated = { ...request, slackRefs: { ...request.slackRefs, approvalTs: ts } };
  showPreview(deps, updated, plan, { kind: 'approval-requested', by: request.requesterId });
  await refreshApproval(deps, request.id);
}

export async function approvalInput(deps: FlowDeps, request: RequestRecord, plan: PlanRecord, state: ApprovalState) {
  const policy = await deps.approvers.policy(request.teamId, plan.plan);
  const now = deps.clock.now();
  const approvals = await listApprovals(deps.control, request.id);
  const evaluation = evaluateApprovals({ policy, teamId: request.teamId, requesterId: request.requesterId, planDigest: plan.digest, approvals, now });
  const votes = approvals
    .filter((a) => evaluation.approvedBy.includes(a.approverId) && a.decision === 'approve')
    .map((a) => ({ userId: a.approverId, at: a.createdAt, expiresAt: a.expiresAt }));
  return {
    evaluation,
    approvals,
    requestId: request.id,
    requesterId: request.requesterId,
    requestedAt: request.createdAt,
    plan: plan.plan,
    digest: plan.digest,
    required: policy.required,
    approvers: deps.approvers.mentions(request.teamId),
    votes,
    missing: evaluation.missing,
    notCounted: evaluation.refusals.map((refusal) => describeRefusal(refusal, user)),
    ttlMinutes: policy.ttlMinutes,
    state,
    now,
  };
}

/**
 * Re-reads everything and brings the approval message (and preview) up to date; when the
 * approvals are complete and the request is still pending, enqueues its job.
 */
export async function refreshApproval(deps: FlowDeps, requestId: string): Promise<void> {
  const { request, plan } = await load(deps, requestId);
  const input = await approvalInput(deps, request, plan, { kind: 'open' });
  const { evaluation } = input;
  let state: ApprovalState = { kind: 'open' };
  let startFailure: unknown = null;
  if (request.status === 'rejected' || evaluation.rejectedBy !== undefined) {
    const by = evaluation.rejectedBy ?? request.requesterId;
    const at = input.approvals.find((a) => a.approverId === by && a.decision === 'reject')?.createdAt ?? deps.clock.now();
    state = { kind: 'rejected', by, at };
    showPreview(deps, request, plan, { kind: 'cancelled', by });
  } else if (evaluation.complete && request.status === 'pending' && request.approvalRequestedAt !== null) {
    const { job, created } = await enqueueJob(deps.control, { requestId, planDigest: plan.digest, pool: request.pool, actor: 'recover-bot' });
    // The job is queued whatever happens to its status message: show the approval state anyway.
    if (created) startFailure = await deps.jobs.start(job).then(() => null, (error: unknown) => error ?? new Error('status message failed'));
    state = { kind: 'approved', jobId: job.id };
    showPreview(deps, request, plan, { kind: 'queued', jobId: job.id });
  } else if (request.status !== 'pending') {
    const job = await activeJobOf(deps.control, requestId);
    state = job ? { kind: 'approved', jobId: job.id } : { kind: 'closed', reason: `Approved; the recovery is ${request.status}.` };
  }
  // A message posted whose ts only the post record has (the bot stopped before saving it on the request) is updated too.
  const approvalTs = request.slackRefs.approvalTs ?? (await getSlackPost(deps.control, approvalPostKey(requestId)))?.ts ?? undefined;
  if (approvalTs) deps.out.update(request.slackRefs.channel ?? request.channelId, approvalTs, approvalMessage({ ...input, state }), PRIORITY.interactive);
  if (startFailure !== null) throw startFailure;
}

/**
 * A read-only request that needs no approval (e.g. `/recover verify` with the default policy):
 * the requester asking is the request for its run, and with nothing to approve refreshApproval
 * queues the job. The runner re-checks the policy when the job starts, as for any job.
 */
export async function runWithoutApproval(deps: FlowDeps, requestId: string): Promise<void> {
  await deps.locks.serial(requestId, async () => {
    const { request, plan } = await load(deps, requestId);
    if (request.status !== 'pending' || !runsWithoutApproval(deps, request, plan)) return;
    await markApprovalRequested(deps.control, { requestId, userId: request.requesterId, planDigest: plan.digest });
    await refreshApproval(deps, requestId);
  });
}

/**
 * The runner saved a new plan for a request this bot shows (approvals given to the old one
 * were voided by savePlan): show the new plan where people look, so nobody approves blind.
 */
export async function planChanged(deps: FlowDeps, requestId: string): Promise<void> {
  await deps.locks.serial(requestId, async () => {
    const request = await getRequest(deps.control, requestId);
    if (!request || request.status !== 'pending' || !request.slackRefs.planTs) return;
    if (request.slackRefs.approvalTs) return refreshApproval(deps, requestId);
    const plan = await getCurrentPlan(deps.control, requestId);
    if (plan) showPreview(deps, request, plan, { kind: 'open' });
  });
}

/** Approve or reject (also the preview's Cancel, which is the requester withdrawing). */
export async function vote(
  deps: FlowDeps,
  input: { requestId: string; userId: string; decision: ApprovalDecision; reply: Reply; shownDigest: string | undefined; cancel?: boolean },
): Promise<void> {
  await deps.locks.serial(input.requestId, async () => {
    const { request, plan } = await load(deps, input.requestId);
    if (input.cancel && input.userId !== request.requesterId && !(await deps.approvers.isApprover(request.teamId, input.userId))) {
      return input.reply(notice(`Only ${user(request.requesterId)}, who asked, or a configured approver can cancel this request.`));
    }
    // A reject is always possible; an approval only under the settings the runner planned with (it would be refused at the start).
    const mismatch = input.decision === 'approve' ? settingsMismatch(deps.config.approval, plan.plan) : null;
    if (mismatch) return input.reply(commandErrorMessage(mismatch));
    const policy = await deps.approvers.policy(request.teamId, plan.plan);
    // An approval binds to the plan the message showed; a reject counts whatever was shown.
    const planDigest = input.decision === 'approve' ? (input.shownDigest ?? 'not shown') : (input.shownDigest ?? plan.digest);
    // How the bot found the voter an approver goes into the audited vote: the runner counts a group member's approval by it.
    const via = (await deps.approvers.via(request.teamId, input.userId)) ?? undefined;
    let recorded;
    try {
      recorded = await recordApproval(deps.control, { requestId: request.id, approverId: input.userId, decision: input.decision, planDigest, policy, ...(via ? { via } : {}) });
    } catch (error) {
      if (!isRecoverError(error) || (error.code !== 'NOT_PERMITTED' && error.code !== 'APPROVAL_INVALID')) throw error;
      await input.reply(commandErrorMessage(error));
      if (error.code === 'APPROVAL_INVALID') await refreshApproval(deps, request.id);
      return;
    }
    if (!recorded.changed) {
      const what = input.decision === 'approve' ? 'approved' : 'rejected';
      await input.reply(notice(`You already ${what} this at ${formatUtc(recorded.approval.createdAt)}; nothing changed.`));
    }
    await refreshApproval(deps, request.id);
  });
}
