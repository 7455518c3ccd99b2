/**
 * The summary posted in the job's thread when it ends, whatever the outcome: timeline (who
 * asked and approved, when; each step and its duration), recovery point reached against
 * the target, the data-loss window against the RPO, the time taken against the RTO, the
 * integrity verdict and what to do next. Also the per-step thread reply. Pure.
 */
import type { JobStatus } from '../../control/index.js';
import type { IntegrityReport } from '../../engine/verify.js';
import { countSummary } from '../../engine/integrity/count-plan.js';
import type { SummaryFacts } from '../../../commands/types.js';
import type { RecoveryObjectives } from '../../config.js';
import {
  code, context, fitMessage, formatDuration, formatUtc, header, section, sectionsFromLines, truncate, user,
  type SlackMessage,
} from './common.js';

export interface SummaryStep {
  title: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  seconds: number | null;
  /** The plan's estimate for the step, if it had one. */
  estimateSeconds?: number | null;
}

export interface SummaryInput {
  jobId: string;
  status: JobStatus;
  command: string;
  summary: string;
  requestedBy: string;
  requestedAt: Date;
  approvals: { userId: string; at: Date }[];
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  steps: SummaryStep[];
  /** What the command contributes (commands/<name>.ts summary()): its target, where it restored, what it reached. */
  facts: SummaryFacts;
  integrity: IntegrityReport | null;
  error: { code: string; message: string } | null;
  cancelledBy: string | null;
  /** Where the plan's estimates came from (plan.ts estimateBasisText), if from rates. */
  estimateBasis?: string | null;
  /** The RPO and RTO the data-loss window and the time taken are measured against (RECOVER_RPO_MINUTES, RECOVER_RTO_MINUTES). */
  objectives: RecoveryObjectives;
}

const time = (d: Date | null): string => (d ? code(formatUtc(d)) : '—');
const ICON = { pending: ':white_large_square:', running: ':grey_question:', done: ':white_check_mark:', failed: ':x:' } as const;

function timeline(input: SummaryInput): string[] {
  const lines = [`${time(input.requestedAt)} requested by ${user(input.requestedBy)}`];
  for (const a of input.approvals) lines.push(`${time(a.at)} approved by ${user(a.userId)}`);
  lines.push(`${time(input.queuedAt)} queued as job ${code(input.jobId)}`);
  if (input.startedAt) lines.push(`${time(input.startedAt)} started on a runner`);
  for (const step of input.steps) {
    const took = step.seconds === null ? (step.state === 'pending' ? 'not run' : 'did not finish') : formatDuration(step.seconds);
    const estimated = step.estimateSeconds ? ` (estimated ~${formatDuration(step.estimateSeconds)})` : '';
    lines.push(`      ${ICON[step.state]} ${truncate(step.title, 200)} — ${took}${estimated}`);
  }
  lines.push(`${time(input.finishedAt)} finished: *${input.status}*${input.cancelledBy ? ` (cancel asked by ${user(input.cancelledBy)})` : ''}`);
  return lines;
}

/** Data-loss window = target − reached, compared with the RPO; null when it cannot be known. */
export function dataLossSeconds(target: Date | null, reached: string | null): number | null {
  if (!target || !reached) return null;
  const r = new Date(reached);
  return Number.isNaN(r.getTime()) ? null : (target.getTime() - r.getTime()) / 1000;
}

function recoveryPoint(input: SummaryInput): string {
  const r = input.facts.recovery;
  const asked = summaryTarget(input.facts.target);
  const target = asked.text ? code(asked.text) : '—';
  let reached = input.status === 'succeeded' ? '_no transaction replayed_' : '_not reached_';
  if (r?.reachedTime) reached = code(formatUtc(r.reachedTime, true));
  const timeline = r?.timeline !== null && r?.timeline !== undefined ? `, timeline ${r.timeline}` : '';
  const lsn = r?.replayLsn ? ` (LSN ${code(r.replayLsn)}${timeline})` : '';
  return `*Recovery point:* target ${target} · reached ${reached}${lsn}`;
}

/** `within the 15 min RPO` or `:warning: *exceeds* the 15 min RPO by 3 min` (the configured objective). */
function against(seconds: number, limit: number, name: string, over: string, share = false): string {
  const used = share ? ` (${Math.round((seconds / limit) * 100)}% used)` : '';
  return seconds <= limit
    ? `within the ${formatDuration(limit)} ${name}${used}`
    : `:warning: *${over}* the ${formatDuration(limit)} ${name} by ${formatDuration(seconds - limit)}`;
}

/** Whether the command restores to a target at all (pitr does; verify does not): only then a recovery point and data loss. */
const restores = (input: SummaryInput): boolean => input.facts.target !== null || input.facts.recovery !== null;

function outcome(input: SummaryInput): string[] {
  const { rpoSeconds, rtoSeconds } = input.objectives;
  const lines: string[] = [];
  if (restores(input)) {
    const target = summaryTarget(input.facts.target);
    const loss = dataLossSeconds(target.time, input.facts.recovery?.reachedTime ?? null);
    lines.push(
      recoveryPoint(input),
      loss === null
        ? `*Data-loss window:* unknown${target.time ? '' : ' (not a time target)'} — RPO is ${formatDuration(rpoSeconds)}`
        : `*Data-loss window:* ${formatDuration(Math.max(0, loss))} (target − reached), ${against(loss, rpoSeconds, 'RPO', 'exceeds')}`,
    );
  }
  if (input.finishedAt) {
    const took = (input.finishedAt.getTime() - input.requestedAt.getTime()) / 1000;
    lines.push(`*Time to recover:* ${formatDuration(took)} from request to finish, ${against(took, rtoSeconds, 'RTO', 'over', true)}`);
  }
  const estimate = estimateAgainstActual(input);
  if (estimate) lines.push(estimate);
  const report = input.integrity;
  if (!report) {
    lines.push(`*Integrity:* not verified${input.status === 'succeeded' ? '' : ' (the job did not get that far)'}`);
  } else if (report.ok) {
    lines.push(`*Integrity:* passed (${report.checks.length}/${report.checks.length} checks)`);
  } else {
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
    lines.push(`*Integrity:* :x: FAILED — ${failed.join(', ') || 'see the report'}`);
  }
  // Which row counts are exact, whenever any is not (large tables report the statistics' estimate).
  const kinds = report?.databases.flatMap((db) => db.tables.map((t) => t.count)) ?? [];
  if (kinds.some((k) => k !== undefined)) lines.push(`*Row counts:* ${countSummary(kinds)}; estimates are pg_class.reltuples`);
  return lines;
}

/**
 * The plan's expected duration against the job's run (start to finish on the runner), when
 * every step ran: `*Estimate:* about 3 min (…), took 3 min 20 s (+11%)`. Per step: the timeline.
 */
export function estimateAgainstActual(input: SummaryInput): string | null {
  if (input.status !== 'succeeded' || !input.startedAt || !input.finishedAt) return null;
  const estimates = input.steps.map((s) => s.estimateSeconds ?? null);
  if (estimates.length === 0 || estimates.some((e) => e === null)) return null;
  const expected = estimates.reduce<number>((sum, e) => sum + e!, 0);
  const actual = (input.finishedAt.getTime() - input.startedAt.getTime()) / 1000;
  if (!(expected > 0) || !(actual > 0)) return null;
  const error = Math.round(((actual - expected) / expected) * 100);
  const basis = input.estimateBasis ? ` (${input.estimateBasis})` : '';
  return `*Estimate:* about ${formatDuration(expected)}${basis}; the steps took ${formatDuration(actual)} (${error >= 0 ? '+' : ''}${error}% against the estimate)`;
}

const FAILURE_ADVICE: Record<string, string> = {
  RUNNER_LOST: 'The runner stopped renewing its lease. Look at the runner host and at the step that was running (it may be half done) before running again.',
  WAL_GAP: 'The WAL archive has a gap before the target: pick a target inside the restorable window (`/recover backups`) and run again.',
  TARGET_OUTSIDE_WINDOW: 'Pick a target inside the restorable window (`/recover backups`) and run again.',
  NO_BASE_BACKUP: 'No usable base backup precedes the target: check `/recover backups`.',
  STORAGE_UNREACHABLE: 'The runner could not reach backup storage: check its network and credentials, then run again.',
  STORAGE_ERROR: 'Backup storage answered with an error: check the runner log and storage, then run again.',
  APPROVAL_INVALID: 'The approvals were no longer valid when the runner checked: start a new request and get it approved.',
  CANCELLED: 'The job was cancelled: steps that finished stay done.',
  REFUSED_AFTER_RESTORE: 'The side copy showed what production\'s catalog could not (see the message); nothing was written to production. The side instance is kept, running: look at it, then stop and remove it.',
};

function succeededFollowUps(input: SummaryInput): string[] {
  const r = input.facts.recovery;
  const items: string[] = [];
  const quoted = (text: string): string => code(text);
  if (!restores(input)) {
    // nothing was restored: only the command's own follow-ups
  } else if (input.facts.to === 'in-place') {
    const timeline = r?.timeline !== null && r?.timeline !== undefined ? ` on timeline ${r.timeline}` : '';
    items.push(`Production now runs the recovered data${timeline}. Point applications back at it and watch errors.`);
    if (r?.oldDataDir) items.push(`The previous data directory is kept at ${quoted(r.oldDataDir)}: remove it once you are sure.`);
  } else if (!input.facts.sideInstanceHandled) {
    const where = r?.connect ? quoted(r.connect) : r?.port ? `port ${r.port}` : 'the runner host';
    const data = r?.dataDir ? ` (data ${quoted(r.dataDir)})` : '';
    // The instance's name is its directory under the restore root (<root>/<name>/data).
    const name = r?.dataDir ? /([^/]+)\/data\/?$/.exec(r.dataDir)?.[1] : undefined;
    const remove = name ? `: on the runner's host, ${quoted(`recover instances remove ${name} --stop`)}` : '';
    items.push(`The side instance is running at ${where}${data}: extract the rows you need, then stop and remove it${remove}.`);
  }
  if (input.integrity && !input.integrity.ok) {
    items.push(restores(input) ? 'Integrity checks failed: do not use the restored data before looking at the failed checks.' : 'Integrity checks failed: look at the failed checks in the report above.');
  }
  const loss = dataLossSeconds(summaryTarget(input.facts.target).time, r?.reachedTime ?? null);
  if (loss !== null && loss > input.objectives.rpoSeconds) items.push('The data-loss window exceeds the RPO: tell the incident lead and look for the missing writes elsewhere.');
  items.push(...input.facts.followUps);
  return items;
}

function followUps(input: SummaryInput): string[] {
  const items: string[] = [];
  if (input.status === 'succeeded') {
    items.push(...succeededFollowUps(input));
  } else if (input.status === 'failed') {
    const failedStep = input.steps.find((s) => s.state === 'failed');
    if (failedStep) items.push(`The failing step was "${failedStep.title}": check it on the runner host; it may be half done.`);
    const advice = input.error ? FAILURE_ADVICE[input.error.code] : undefined;
    items.push(advice ?? (input.error ? 'Read the error above: it says what to fix. Then start a new request.' : 'See the runner log, then start a new request.'));
  } else if (input.status === 'cancelled') {
    const by = input.cancelledBy ? ` by ${user(input.cancelledBy)}` : '';
    items.push(`Cancelled${by}. Steps that finished stay done; a partly restored side instance may be left on the runner host: stop and remove it.`);
  }
  return items.map((item) => `• ${item}`);
}

export function summaryMessage(input: SummaryInput): SlackMessage {
  const error = input.error ? [`*Error* ${code(input.error.code)}: ${truncate(input.error.message, 1500)}`] : [];
  return fitMessage({
    text: `Summary of /recover ${input.command}: ${input.status}`,
    blocks: [
      header(`Summary: /recover ${input.command} — ${input.status}`),
      section(truncate(input.summary, 1000)),
      ...sectionsFromLines(['*Timeline*', ...timeline(input)], 3),
      ...sectionsFromLines([...error, ...outcome(input)], 2),
      ...sectionsFromLines(['*Follow-ups*', ...followUps(input)], 2),
      context(`Job ${code(input.jobId)} · RPO ${formatDuration(input.objectives.rpoSeconds)} · RTO ${formatDuration(input.objectives.rtoSeconds)}`),
    ],
  });
}

/** The thread reply when a step finishes. */
export function stepFinishedMessage(input: { index: number | null; title: string; seconds: number; detail?: string }): SlackMessage {
  const n = input.index === null ? '' : `${input.index + 1}. `;
  const detail = input.detail ? `\n${truncate(input.detail, 2000)}` : '';
  return fitMessage({
    text: `Step done: ${input.title} (${formatDuration(input.seconds)})`,
    blocks: [section(`:white_check_mark: *${n}${truncate(input.title, 300)}* — ${formatDuration(input.seconds)}${detail}`)],
  });
}

/** A command's target as the summary shows it: a time target formatted (microseconds kept), and as a Date for the data-loss arithmetic. */
export function summaryTarget(target: SummaryFacts['target']): { text: string | null; time: Date | null } {
  if (!target) return { text: null, time: null };
  if (target.time === null) return { text: target.text, time: null };
  const time = new Date(target.time);
  // The text from the stored string, microseconds included; the Date only for the data-loss arithmetic.
  return Number.isNaN(time.getTime()) ? { text: target.time, time: null } : { text: formatUtc(target.time, true), time };
}
