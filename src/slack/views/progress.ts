/**
 * What the status message says about the running step (pure): its phase (the step's title),
 * how far it is (bytes of the base backup; replayed LSN against the LSN replay must reach), the
 * rate, and the ETA of the step and of the job, from src/estimate/eta.ts.
 */
import { formatLsn, parseLsn } from '../../catalog/segments.js';
import { phaseEta, type Eta } from '../../estimate/eta.js';
import { formatAmount, progressBar } from '../../util/format.js';
import type { JobView, StepView } from './job-view.js';
import { formatDuration, truncate } from './common.js';

const ms = (iso: string | undefined): number | null => {
  if (!iso) return null;
  const at = new Date(iso).getTime();
  return Number.isFinite(at) ? at : null;
};

/** The ETA of a running step from its progress window and the plan's estimate; null when nothing can be said. */
export function stepEta(step: StepView, now: Date): Eta | null {
  const progress = step.progress;
  const lastAt = ms(progress?.at);
  const firstAt = ms(step.firstProgress?.at);
  const eta = phaseEta(
    {
      total: progress?.total ?? null,
      startedAt: ms(step.startedAt),
      first: step.firstProgress && firstAt !== null ? { at: firstAt, done: step.firstProgress.done } : null,
      last: progress && lastAt !== null ? { at: lastAt, done: progress.done } : null,
    },
    step.estimate ?? null,
    now.getTime(),
  );
  if (eta || progress) return eta;
  // A step that moves no bytes: its plan estimate minus the time it has run.
  const started = ms(step.startedAt);
  if (step.estimateSeconds === undefined || started === null) return null;
  return { remainingSeconds: Math.max(0, step.estimateSeconds - (now.getTime() - started) / 1000), bytesPerSecond: null, basis: 'history' };
}

/** Time left in the job: the running step's ETA plus the estimates of the steps not started. Null if a part is unknown. */
export function jobRemainingSeconds(view: JobView, now: Date): number | null {
  let remaining = 0;
  for (const step of view.steps) {
    if (step.state === 'running') {
      const eta = stepEta(step, now);
      if (!eta) return null;
      remaining += eta.remainingSeconds;
    } else if (step.state === 'pending') {
      if (step.estimateSeconds === undefined) return null;
      remaining += step.estimateSeconds;
    }
  }
  return remaining;
}

/** `0/3A000000` out of `replayed to 0/3A000000 · 12/58 segments fetched`; null if absent. */
export function replayedLsn(detail: string | undefined): string | null {
  const match = /replayed to ([0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8})/.exec(detail ?? '');
  return match ? match[1]!.toUpperCase() : null;
}

/** What replay must reach: the replayed LSN plus the bytes still to go (progress counts from the backup's start LSN). */
export function targetLsn(step: StepView): string | null {
  const { progress } = step;
  const replayed = replayedLsn(progress?.detail);
  if (!progress || progress.total === null || replayed === null) return null;
  return formatLsn(parseLsn(replayed) + BigInt(Math.max(0, Math.round(progress.total - progress.done))));
}

const rate = (bytesPerSecond: number | null): string => (bytesPerSecond ? `${formatAmount(bytesPerSecond, 'bytes')}/s` : '');

const BASIS: Record<Eta['basis'], string> = {
  observed: 'at the rate measured so far',
  blended: "blending this run's rate with the measured history",
  history: 'from the plan',
  profile: "from this run's pace so far and how past restores sped up",
  warmup: "at the rate measured so far, allowing for replay's slower first half-gigabyte (not yet measured on this pool)",
};

/** The running step's lines: phase, how far (bytes or LSNs), ETA. */
export function currentStepLines(view: JobView, now: Date): string[] {
  const step = view.steps.find((s) => s.step === view.current && s.state === 'running') ?? view.steps.find((s) => s.step === view.current);
  if (!step) return [];
  const lines = [`*Now:* ${truncate(step.title, 300)}`];
  const progress = step.progress;
  if (progress) {
    const bar = progressBar(progress.done, progress.total);
    const replayed = replayedLsn(progress.detail);
    const target = targetLsn(step);
    const extra = progress.detail?.split(' · ').slice(1).join(' · ');
    if (replayed) {
      lines.push(`*Replayed:* \`${replayed}\`${target ? ` of \`${target}\`` : ''} ${bar} (${formatAmount(progress.done, progress.unit)}${progress.total !== null ? ` of ${formatAmount(progress.total, progress.unit)}` : ''})${extra ? ` · ${truncate(extra, 200)}` : ''}`);
    } else {
      const amount = progress.total === null ? formatAmount(progress.done, progress.unit) : `${formatAmount(progress.done, progress.unit)} of ${formatAmount(progress.total, progress.unit)}`;
      lines.push(`*Progress:* ${amount} ${bar}${progress.detail ? ` · ${truncate(progress.detail, 200)}` : ''}`);
    }
  }
  const eta = stepEta(step, now);
  const job = jobRemainingSeconds(view, now);
  if (eta) {
    const speed = rate(eta.bytesPerSecond);
    const jobPart = job !== null && job - eta.remainingSeconds >= 1 ? `, about ${formatDuration(job)} for the whole job` : '';
    lines.push(`*ETA:* about ${formatDuration(eta.remainingSeconds)} left in this step${speed ? ` at ${speed}` : ''} (${BASIS[eta.basis]})${jobPart}`);
  }
  return lines;
}
