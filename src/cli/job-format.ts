/**
 * The recover CLI's text for jobs (`recover jobs`, `recover status <job>`): the facts Slack's
 * jobs list and status message show, as plain lines. Pure.
 */
import type { JobSnapshot, JobSummaryRow } from '../slack/flows/job-snapshot.js';
import { isTerminal, type JobView, type StepView } from '../slack/views/job-view.js';
import { progressLine } from '../slack/views/status.js';
import { formatDuration } from '../util/format.js';
import { countSummary } from '../engine/integrity/count-plan.js';

const time = (value: Date | string | null | undefined): string => (value ? new Date(value).toISOString().replace(/\.\d{3}Z$/, 'Z') : '—');

const MARK: Record<StepView['state'], string> = { pending: '·', running: '…', done: '✓', failed: '✗' };

/** The step running now with its progress bar, amount and detail (the status message's line). */
function currentLine(view: JobView | null): string | null {
  if (!view?.current) return null;
  const step = view.steps.find((s) => s.step === view.current);
  return progressLine(view.current, step?.progress);
}

function rowLine(row: JobSummaryRow): string {
  const { job, request } = row;
  const what = request ? `${request.command}${row.summary ? ` — ${row.summary}` : ''}` : '?';
  const who = request ? `requested by ${request.requesterId}` : 'request not found';
  const times = [`created ${time(job.createdAt)}`, ...(job.startedAt ? [`started ${time(job.startedAt)}`] : []), ...(job.finishedAt ? [`finished ${time(job.finishedAt)}`] : [])];
  const now = currentLine(row.view);
  return [
    `  ${job.status.padEnd(9)} ${job.id}  pool ${job.pool}`,
    `    ${what.length > 160 ? `${what.slice(0, 159)}…` : what}`,
    `    ${who} · ${times.join(' · ')}${job.cancelRequested && !isTerminal(job.status) ? ` · cancel requested by ${job.cancelRequestedBy ?? '?'}` : ''}`,
    ...(now ? [`    now: ${now}`] : []),
    ...(job.error ? [`    error [${job.error.code}]: ${job.error.message.split('\n')[0]!.slice(0, 200)}`] : []),
  ].join('\n');
}

/** `pool`: the pool listed; null: every pool. */
export function formatJobList(rows: JobSummaryRow[], pool: string | null): string {
  const active = rows.filter((r) => !isTerminal(r.job.status));
  const recent = rows.filter((r) => isTerminal(r.job.status));
  return [
    `Jobs of ${pool === null ? 'every pool' : `pool ${pool}`}`,
    `Running and queued (${active.length}):`,
    ...(active.length ? active.map(rowLine) : ['  none']),
    `Recent (${recent.length}):`,
    ...(recent.length ? recent.map(rowLine) : ['  none']),
    `recover status <job id> shows one job; recover cancel <job id> stops it.${pool === null ? '' : ' recover jobs --all lists every pool.'}`,
  ].join('\n');
}

function stepLine(step: StepView, index: number): string {
  const took = step.seconds === undefined ? '' : ` — ${formatDuration(step.seconds)}`;
  const estimate = step.seconds === undefined && step.estimateSeconds ? ` (estimated ~${formatDuration(step.estimateSeconds)})` : '';
  return `  ${MARK[step.state]} ${index + 1}. ${step.title}${step.destructive ? '  (destructive)' : ''}${took}${estimate}`;
}

/** One job as its Slack status message shows it: state, steps, the running step's progress, integrity, error, who and when. */
export function formatJobStatus(snapshot: JobSnapshot): string {
  const { job, request, plan, approvedBy, view, silence } = snapshot;
  const lines = [
    `Job ${job.id}: ${job.status}`,
    `  ${request?.command ?? '?'}: ${plan?.summary ?? '(no plan)'}`,
    `  pool ${job.pool}${job.runnerId ? ` · runner ${job.runnerId}` : ''}`,
    `  requested by ${request?.requesterId ?? '?'} at ${time(request?.createdAt)}${approvedBy.length ? ` · approved by ${approvedBy.join(', ')}` : ''}`,
    `  queued ${time(job.createdAt)} · started ${time(job.startedAt)} · finished ${time(job.finishedAt)}`,
  ];
  const now = currentLine(view);
  if (now) lines.push(`Now: ${now}`);
  if (silence && job.status === 'running') lines.push(`WARNING: the runner has not renewed its lease for ${silence.seconds} s (lease ${silence.leaseSeconds} s): the job is marked failed (RUNNER_LOST) if it does not come back.`);
  if (job.cancelRequested && !isTerminal(job.status)) lines.push(`Cancel requested by ${job.cancelRequestedBy ?? '?'} at ${time(job.cancelRequestedAt)}; the runner stops at the next safe point.`);
  if (view.steps.length) lines.push('Steps:', ...view.steps.map(stepLine));
  if (view.integrity) {
    const passed = view.integrity.checks.filter((c) => c.ok).length;
    lines.push(`Integrity: ${view.integrity.ok ? 'passed' : 'FAILED'} (${passed}/${view.integrity.checks.length} checks)`);
    for (const check of view.integrity.checks.filter((c) => !c.ok)) lines.push(`  ✗ ${check.name}: ${check.message}`);
    const kinds = view.integrity.databases.flatMap((db) => db.tables.map((t) => t.count));
    if (kinds.some((k) => k !== undefined)) lines.push(`  row counts: ${countSummary(kinds)} (estimates: pg_class.reltuples)`);
  }
  const error = view.error ?? job.error;
  if (job.status === 'failed' && error) lines.push(`Error [${error.code}]: ${error.message}`);
  if (job.status === 'cancelled') lines.push(`Cancelled${job.cancelRequestedBy ? ` (asked by ${job.cancelRequestedBy})` : ''}.`);
  return lines.join('\n');
}
