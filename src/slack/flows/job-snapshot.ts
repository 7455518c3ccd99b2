/**
 * Jobs as the control DB has them, for whoever shows them: `/recover status <job>` and
 * `/recover jobs` in Slack, and the same words in the recover CLI when Slack is down. The view
 * is folded from all of a job's events with the status message's own reducer (job-view.ts),
 * so both surfaces show the same facts. Reads only; no Slack, no Bolt.
 */
import {
  getCurrentPlan, getJob, getRequest, heartbeatSilence, listApprovals, listEvents, listJobs,
  type Db, type JobRecord, type RequestRecord,
} from '../../control/index.js';
import type { Plan } from '../../types.js';
import { applyEvent, initialJobView, isTerminal, type JobView } from '../views/job-view.js';
import { runnerSilence, type RunnerSilence } from '../views/status.js';

export interface JobSnapshot {
  job: JobRecord;
  request: RequestRecord | null;
  plan: Plan | null;
  /** Approvals that count for this job: of its plan's digest, not voided. */
  approvedBy: string[];
  view: JobView;
  /** The runner of a running job has not renewed its lease for a while; null: it has (or the job is not running). */
  silence: RunnerSilence | null;
}

const PAGE = 500;

/** Every event of the job folded into the view the status message shows. */
export async function foldJobEvents(control: Db, jobId: string, plan: Plan | null): Promise<JobView> {
  let view = initialJobView(jobId, plan);
  for (;;) {
    const events = await listEvents(control, jobId, view.lastEventId, PAGE);
    for (const record of events) view = applyEvent(view, record.id, record.event);
    if (events.length < PAGE) return view;
  }
}

/** The job with everything its status shows; null when there is no such job. */
export async function loadJobSnapshot(control: Db, jobId: string): Promise<JobSnapshot | null> {
  const job = await getJob(control, jobId);
  if (!job) return null;
  const [request, plan, approvals, lease] = await Promise.all([
    getRequest(control, job.requestId),
    getCurrentPlan(control, job.requestId),
    listApprovals(control, job.requestId),
    heartbeatSilence(control, job.id),
  ]);
  const approvedBy = approvals.filter((a) => a.decision === 'approve' && a.planDigest === job.planDigest && !a.voidedAt).map((a) => a.approverId);
  const view = await foldJobEvents(control, job.id, plan?.plan ?? null);
  // The job row is the truth on the state (a queued job cancelled by a CLI, a reaped one); the events give steps and progress.
  const settled: JobView = { ...view, status: job.status, ...(job.error && !view.error ? { error: job.error } : {}) };
  return { job, request, plan: plan?.plan ?? null, approvedBy, view: settled, silence: lease ? runnerSilence(lease.silentSeconds, lease.leaseSeconds) : null };
}

export interface JobSummaryRow {
  job: JobRecord;
  request: RequestRecord | null;
  /** The plan's one-line summary, if it was planned. */
  summary: string | null;
  /** Folded from the events for jobs still queued or running (their step and progress); null for finished ones. */
  view: JobView | null;
}

/** Active jobs and the `recentLimit` newest finished ones, of one pool or (pool null) all of them. */
export async function listJobRows(control: Db, options: { pool: string | null; recentLimit?: number }): Promise<JobSummaryRow[]> {
  const jobs = await listJobs(control, { recentLimit: options.recentLimit ?? 10, ...(options.pool === null ? {} : { pool: options.pool }) });
  return Promise.all(
    jobs.map(async (job) => {
      const [request, plan] = await Promise.all([getRequest(control, job.requestId), getCurrentPlan(control, job.requestId)]);
      const view = isTerminal(job.status) ? null : await foldJobEvents(control, job.id, plan?.plan ?? null);
      return { job, request, summary: plan?.plan.summary ?? null, view };
    }),
  );
}
