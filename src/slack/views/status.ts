/**
 * The one status message per job, updated in place as events arrive (progress bar, current
 * step, checklist, outcome), and the `/recover status` listing. Pure.
 */
import { formatAmount, progressBar } from '../../util/format.js';
import type { JobStatus } from '../../control/index.js';
import { isTerminal, type JobView, type ProgressView, type StepView } from './job-view.js';
import { currentStepLines } from './progress.js';
import {
  ACTIONS, actions, code, context, fitMessage, formatDuration, formatUtc, header, section,
  sectionsFromLines, truncate, user, type Block, type SlackMessage,
} from './common.js';

export interface StatusMeta {
  requestId: string;
  requesterId: string;
  approvedBy: string[];
  summary: string;
  command: string;
  cancelRequestedBy?: string | null;
  /** The runner has not renewed its lease for a while (runnerSilence); null or absent: it has. */
  silence?: RunnerSilence | null;
}

export interface RunnerSilence {
  /** Rounded down to 5 s, so the message changes every 5 s at most. */
  seconds: number;
  leaseSeconds: number;
}

/**
 * Whether to say the runner went quiet: it renews every third of its lease (at most every 5 s),
 * so two missed renewals and 5 s more, or half the lease if that comes first, is worth telling
 * the channel, before the lease runs out and the job is failed as RUNNER_LOST.
 */
export function runnerSilence(silentSeconds: number, leaseSeconds: number): RunnerSilence | null {
  const beat = Math.min(leaseSeconds / 3, 5);
  if (!(silentSeconds >= Math.min(2 * beat + 5, leaseSeconds / 2))) return null;
  return { seconds: Math.floor(silentSeconds / 5) * 5, leaseSeconds: Math.round(leaseSeconds) };
}

function silenceLine(silence: RunnerSilence): string {
  const left = silence.leaseSeconds - silence.seconds;
  const when = left > 0 ? `if it is not back within about ${left} s, the job is marked failed (RUNNER_LOST)` : 'the job is about to be marked failed (RUNNER_LOST)';
  return `:warning: Runner not heartbeating for ${silence.seconds} s (its lease is ${silence.leaseSeconds} s): ${when}. The runner host or the control DB may be down.`;
}

const HEADLINE: Record<JobStatus, string> = {
  queued: ':hourglass: Queued',
  running: ':arrows_counterclockwise: Running',
  succeeded: ':white_check_mark: Succeeded',
  failed: ':x: Failed',
  cancelled: ':no_entry_sign: Cancelled',
};

const STEP_ICON: Record<StepView['state'], string> = {
  pending: ':white_large_square:',
  running: ':arrows_counterclockwise:',
  done: ':white_check_mark:',
  failed: ':x:',
};

/** `replay-wal [#####-----] 52% replayed to 0/3A000000` */
export function progressLine(step: string, progress: ProgressView | undefined): string {
  if (!progress) return `${step} …`;
  const amount = progress.total === null
    ? `${formatAmount(progress.done, progress.unit)}`
    : progressBar(progress.done, progress.total);
  return `${step} ${amount}${progress.detail ? ` ${truncate(progress.detail, 200)}` : ''}`;
}

function stepLine(step: StepView, index: number): string {
  const seconds = step.seconds === undefined ? '' : ` — ${formatDuration(step.seconds)}`;
  const mark = step.destructive ? ' :warning:' : '';
  return `${STEP_ICON[step.state]} ${index + 1}. ${truncate(step.title, 300)}${mark}${seconds}`;
}

function outcomeLines(view: JobView, meta: StatusMeta, now: Date): string[] {
  // The running step: its phase, bytes or replayed LSN against the target LSN, and the ETA (progress.ts).
  const lines: string[] = view.current ? currentStepLines(view, now) : [];
  if (view.integrity) {
    const passed = view.integrity.checks.filter((c) => c.ok).length;
    lines.push(`*Integrity:* ${view.integrity.ok ? 'passed' : ':x: FAILED'} (${passed}/${view.integrity.checks.length} checks)`);
  }
  if (view.status === 'failed' && view.error) {
    lines.push(`*Error* ${code(view.error.code)}: ${truncate(view.error.message, 1500)}`);
  }
  if (meta.silence && view.status === 'running') lines.push(silenceLine(meta.silence));
  if (meta.cancelRequestedBy && !isTerminal(view.status)) {
    lines.push(`:octagonal_sign: Cancel requested by ${user(meta.cancelRequestedBy)}; the runner stops at the next safe point.`);
  }
  if (isTerminal(view.status)) lines.push(`Finished ${formatUtc(view.finishedAt)}. Summary, step details and integrity report are in the thread.`);
  return lines;
}

export function statusMessage(view: JobView, meta: StatusMeta, now: Date): SlackMessage {
  const blocks: Block[] = [
    header(`${HEADLINE[view.status].replace(/:[a-z_]+: /, '')}: /recover ${meta.command}`),
    section(`${HEADLINE[view.status]} · ${truncate(meta.summary, 1000)}`),
    ...sectionsFromLines(outcomeLines(view, meta, now), 2),
    ...sectionsFromLines(view.steps.map(stepLine), 3),
    context(
      `Job ${code(view.jobId)} · requested by ${user(meta.requesterId)}` +
        (meta.approvedBy.length ? ` · approved by ${meta.approvedBy.map(user).join(', ')}` : '') +
        ` · updated ${formatUtc(now)}`,
    ),
  ];
  if (!isTerminal(view.status) && !meta.cancelRequestedBy) {
    blocks.push(
      actions(`job:${view.jobId}`, [
        {
          actionId: ACTIONS.cancelJob,
          text: 'Cancel job',
          value: view.jobId,
          style: 'danger',
          confirm: { title: 'Cancel this job?', text: 'The runner stops at the next safe point; finished steps stay done.', confirm: 'Cancel job', deny: 'Keep running' },
        },
      ]),
    );
  }
  const step = view.current ? view.steps.find((s) => s.step === view.current) : undefined;
  const now_ = view.current ? ` — ${progressLine(view.current, step?.progress)}` : '';
  return fitMessage({ text: `${HEADLINE[view.status].replace(/:[a-z_]+: /, '')}: ${meta.summary}${now_}`, blocks });
}

export interface JobListRow {
  jobId: string;
  status: JobStatus;
  createdAt: Date;
  finishedAt: Date | null;
  command: string | null;
  requesterId: string | null;
  view: JobView | null;
}

function rowLine(row: JobListRow): string {
  const who = row.requesterId ? ` by ${user(row.requesterId)}` : '';
  const what = row.command ? ` /recover ${truncate(row.command, 200)}` : '';
  let progress = '';
  if (row.view?.current) {
    const step = row.view.steps.find((s) => s.step === row.view?.current);
    progress = ` · ${code(progressLine(row.view.current, step?.progress))}`;
  }
  const when = row.finishedAt ? `finished ${formatUtc(row.finishedAt)}` : `created ${formatUtc(row.createdAt)}`;
  return `${HEADLINE[row.status]} ${code(row.jobId)}${what}${who} · ${when}${progress}`;
}

/** `pool`: the runner pool listed; null: every pool (`--all`). */
export function jobsListMessage(rows: JobListRow[], pool: string | null = null): SlackMessage {
  const active = rows.filter((r) => !isTerminal(r.status));
  const recent = rows.filter((r) => isTerminal(r.status));
  const lines = [
    `*Running and queued* (${active.length})`,
    ...(active.length ? active.map(rowLine) : ['_none_']),
    '',
    `*Recent* (${recent.length})`,
    ...(recent.length ? recent.map(rowLine) : ['_none_']),
  ];
  return fitMessage({
    text: `${active.length} active job(s), ${recent.length} recent`,
    blocks: [
      header(pool === null ? 'Recovery jobs' : `Recovery jobs (pool ${truncate(pool, 64)})`),
      ...sectionsFromLines(lines, 8),
      context(`\`/recover status <job id>\` shows one job; \`/recover cancel <job id>\` stops it.${pool === null ? '' : ' `/recover jobs --all` lists every pool.'}`),
    ],
  });
}

