/**
 * Gathers what the end-of-job summary shows from the control DB (request, approvals, job
 * times, step checkpoints) and the events already folded into the job view, then builds it
 * with the pure `summaryMessage`.
 */
import { getCurrentPlan, getJob, getRequest, listApprovals, listStepCheckpoints, type StepCheckpoint } from '../../control/index.js';
import { RecoverError } from '../../errors.js';
import type { SlackMessage } from '../views/common.js';
import { summaryMessage, type SummaryStep } from '../views/summary.js';
import { estimateBasisText } from '../views/plan.js';
import type { BotDeps } from '../context.js';
import type { JobView } from '../views/job-view.js';
import { summaryFactsOf } from './summary-facts.js';

/** Step durations from the events, completed from the checkpoints (keyed by plan step index). */
export function summarySteps(view: JobView, checkpoints: StepCheckpoint[]): SummaryStep[] {
  const steps: SummaryStep[] = view.steps.map((s) => ({ title: s.title, state: s.state, seconds: s.seconds ?? null, ...(s.estimateSeconds !== undefined ? { estimateSeconds: s.estimateSeconds } : {}) }));
  for (const checkpoint of checkpoints) {
    const step = steps[checkpoint.stepIndex];
    if (!step) continue;
    if (checkpoint.status === 'failed') step.state = 'failed';
    if (step.seconds === null && checkpoint.finishedAt) {
      step.seconds = (checkpoint.finishedAt.getTime() - checkpoint.startedAt.getTime()) / 1000;
      if (checkpoint.status === 'succeeded') step.state = 'done';
    }
  }
  return steps;
}

export async function buildSummary(deps: BotDeps, jobId: string, view: JobView): Promise<SlackMessage> {
  const { control } = deps;
  const job = await getJob(control, jobId);
  if (!job) throw new RecoverError('INTERNAL', `Job ${jobId} disappeared from the control DB.`);
  const [request, plan, approvals, checkpoints] = await Promise.all([
    getRequest(control, job.requestId),
    getCurrentPlan(control, job.requestId),
    listApprovals(control, job.requestId),
    listStepCheckpoints(control, jobId),
  ]);
  if (!request) throw new RecoverError('INTERNAL', `Request ${job.requestId} of job ${jobId} disappeared from the control DB.`);
  return summaryMessage({
    jobId,
    status: view.status,
    command: deps.typedText.get(request.id) ?? request.command,
    summary: plan?.plan.summary ?? request.command,
    requestedBy: request.requesterId,
    requestedAt: request.createdAt,
    approvals: approvals
      .filter((a) => a.decision === 'approve' && a.planDigest === job.planDigest && !a.voidedAt)
      .map((a) => ({ userId: a.approverId, at: a.createdAt })),
    queuedAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt ?? (view.finishedAt ? new Date(view.finishedAt) : null),
    steps: summarySteps(view, checkpoints),
    // A failed job keeps its result when it ran to the end and only its verdict failed (e.g. verification).
    facts: summaryFactsOf(plan?.plan, view.status === 'succeeded' ? (view.result ?? job.result) : view.status === 'failed' ? job.result : null),
    integrity: view.integrity,
    // As of the job's events, never the job's current error: a runner that later puts right
    // what a lost job left appends its note to that error and posts it as an event of its own,
    // so a summary built after the note (a late catch-up, a restart) would show it twice.
    error: view.error,
    cancelledBy: job.cancelRequestedBy,
    estimateBasis: plan ? estimateBasisText(plan.plan) : null,
    objectives: deps.config.objectives,
  });
}
