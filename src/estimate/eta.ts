/**
 * The time left in a running phase, from its measured progress (pure; the Slack status message
 * and the benchmarks use this one function).
 *
 * - Before any progress: the plan's estimate minus the time elapsed since the step started.
 * - Then the bytes left at a rate, plus the expected tail (checkpoint and promotion after the
 *   last byte). The rate is the one observed over the window since the first progress event,
 *   once that window is `MIN_WINDOW_SECONDS` long; before that (replay's first event often comes
 *   only when the server accepts connections, with a good share already replayed) the bytes done
 *   over the time since the step started less the expected start-up. Until `TRUST_FRACTION` (half) of the bytes are done
 *   it is blended (in time, weight growing with the fraction done) with the historical rate of
 *   the plan's estimate. Without a history the observed rate is used alone as soon as it exists.
 * - When the plan's rate is not measured yet (samples 0) and its estimate carries a `warmup`
 *   (replay: its first bytes move slower, ./rates.ts REPLAY_WARMUP): this run's rate over the
 *   window since its first progress, with the window's bytes in the warm-up counted `pace` times,
 *   is taken as the rate after the warm-up; the bytes left in the warm-up are counted the same
 *   way. Alone, not blended with an unmeasured default (on this machine replay ran 3.5x the default).
 * - When the plan's estimate carries a measured profile (./profile.ts) that knows the fraction
 *   done, the time this run took to get there, scaled by the profile, instead (blended with the
 *   plan's rate until `PROFILE_TRUST_FRACTION`): it follows this run's speed from the first
 *   tenth on without taking an early rate for the whole phase's.
 */
import type { StepEstimate } from '../types.js';
import { shareAt } from './profile.js';

export interface ProgressPoint {
  /** Milliseconds since the epoch. */
  at: number;
  done: number;
}

export interface PhaseProgress {
  /** Bytes the phase moves in all (its progress events' total); null: unknown. */
  total: number | null;
  /** When the step started (ms), if known. */
  startedAt: number | null;
  /** The first and the latest progress of the step. */
  first: ProgressPoint | null;
  last: ProgressPoint | null;
}

export interface Eta {
  remainingSeconds: number;
  /** The rate the remaining bytes are expected to move at (bytes/s); null before any progress. */
  bytesPerSecond: number | null;
  /** history: the plan's rate only; blended: both; observed: this run's own rate only; profile: this run's time so far, scaled by the measured profile; warmup: this run's own rate, allowing for the slow start of a phase not yet measured (the plan's `warmup`). */
  basis: 'history' | 'blended' | 'observed' | 'profile' | 'warmup';
}

/**
 * Share of the bytes after which the observed rate alone is trusted. Half, not a tenth: in
 * bench:pitr (204 segments, 2 cores) the first tenth of a replay ran ~2.5x slower than the
 * rest (probably the prefetch filling its spool, competing with the startup process for the cores), so
 * at 10 % the observed rate alone was 112-117 % too pessimistic while the runner's measured
 * history was within ~20 %. With no history the observed rate is still used alone at once.
 */
export const TRUST_FRACTION = 0.5;
/**
 * Share of the bytes after which the pace so far, scaled by the measured profile, is trusted
 * alone. In bench:pitr (7 replays of ~210 segments on 2 cores, replayed offline against each
 * other): at 10 % the profile alone was off by up to 28 % (one replay whose first tenth stalled),
 * half-and-half with the history's rate by at most 14 %; from 20 % on the profile alone was best.
 */
export const PROFILE_TRUST_FRACTION = 0.2;
/** Shortest observed window (seconds) a rate is taken over. */
export const MIN_WINDOW_SECONDS = 2;

/**
 * The rate observed between the first and the latest progress, if that window is long enough and
 * bytes moved; else the bytes done since the step started, over its time less `startupSeconds`.
 */
export function observedRate(progress: PhaseProgress, startupSeconds = 0): number | null {
  const { first, last } = progress;
  if (!first || !last) return null;
  const window = (last.at - first.at) / 1000;
  const moved = last.done - first.done;
  if (window >= MIN_WINDOW_SECONDS && moved > 0) return moved / window;
  if (progress.startedAt === null || !(last.done > 0)) return null;
  const busy = (last.at - progress.startedAt) / 1000 - startupSeconds;
  return busy >= MIN_WINDOW_SECONDS ? last.done / busy : null;
}

/** `asOf` (ms) only matters before the first progress: time elapsed since the step started. */
export function phaseEta(progress: PhaseProgress, expected: StepEstimate | null, asOf?: number): Eta | null {
  const { last } = progress;
  const total = progress.total ?? expected?.bytes ?? null;
  if (!last) {
    if (!expected) return null;
    const planned = expected.startupSeconds + expected.bytes / expected.bytesPerSecond + expected.tailSeconds;
    const elapsed = progress.startedAt !== null && asOf !== undefined ? Math.max(0, (asOf - progress.startedAt) / 1000) : 0;
    return { remainingSeconds: Math.max(0, planned - elapsed), bytesPerSecond: null, basis: 'history' };
  }
  if (total === null || total <= 0) return null;
  const remainingBytes = Math.max(0, total - last.done);
  const fraction = Math.max(0, Math.min(1, last.done / total));
  const observed = observedRate(progress, expected?.startupSeconds ?? 0);
  const history = expected && expected.bytesPerSecond > 0 ? expected.bytesPerSecond : null;
  const tail = expected?.tailSeconds ?? 0;
  const profiled = profileEta(progress, expected, fraction, remainingBytes);
  if (profiled) return profiled;
  const warming = warmupEta(progress, expected, total);
  if (warming) return warming;
  if (observed === null && history === null) return null;
  const weight = observed === null ? 0 : history === null ? 1 : Math.min(1, fraction / TRUST_FRACTION);
  const transferSeconds = remainingBytes * (weight / (observed ?? 1) + (1 - weight) / (history ?? 1));
  return {
    remainingSeconds: transferSeconds + tail,
    bytesPerSecond: transferSeconds > 0 ? remainingBytes / transferSeconds : (observed ?? history),
    basis: weight >= 1 ? 'observed' : weight > 0 ? 'blended' : 'history',
  };
}

/**
 * The ETA from the time to reach `fraction` and the measured profile; null when the profile does
 * not know that fraction. Until `PROFILE_TRUST_FRACTION` of the bytes the pace so far rests on a
 * few seconds, so it is blended (in time) with the plan's rate for the bytes left.
 */
function profileEta(progress: PhaseProgress, expected: StepEstimate | null, fraction: number, remainingBytes: number): Eta | null {
  if (!expected?.profile || progress.startedAt === null || !progress.last) return null;
  const share = shareAt(expected.profile, fraction);
  const elapsed = (progress.last.at - progress.startedAt) / 1000;
  if (share === null || !(elapsed > 0)) return null;
  const weight = Math.min(1, fraction / PROFILE_TRUST_FRACTION);
  const history = expected.bytesPerSecond > 0 ? remainingBytes / expected.bytesPerSecond : 0;
  const transferSeconds = weight * elapsed * (1 / share - 1) + (1 - weight) * history;
  return {
    remainingSeconds: transferSeconds + expected.tailSeconds,
    bytesPerSecond: transferSeconds > 0 ? remainingBytes / transferSeconds : null,
    basis: 'profile',
  };
}

/** Shortest window (seconds) a warm-up-corrected rate is taken over: replay reports every 250 ms, and a tenth of a small replay passes in two seconds. */
export const MIN_WARMUP_WINDOW_SECONDS = 1;

/**
 * The ETA of a phase not yet measured whose estimate says how it warms up: bytes inside the
 * first `warmup.bytes` count `warmup.pace` times (they took that much longer), for the window's
 * rate and for the bytes left alike. Null without a warm-up, with samples, or without a window.
 */
function warmupEta(progress: PhaseProgress, expected: StepEstimate | null, total: number): Eta | null {
  const warmup = expected?.warmup;
  const { first, last } = progress;
  if (!warmup || expected.samples > 0 || !first || !last || !(warmup.pace >= 1)) return null;
  const window = (last.at - first.at) / 1000;
  const weighted = (done: number) => warmup.pace * Math.min(done, warmup.bytes) + Math.max(0, done - warmup.bytes);
  const moved = weighted(last.done) - weighted(first.done);
  if (window < MIN_WARMUP_WINDOW_SECONDS || !(moved > 0)) return null;
  const rate = moved / window;
  const transferSeconds = Math.max(0, weighted(total) - weighted(Math.min(last.done, total))) / rate;
  const remainingBytes = Math.max(0, total - last.done);
  return {
    remainingSeconds: transferSeconds + expected.tailSeconds,
    bytesPerSecond: transferSeconds > 0 ? remainingBytes / transferSeconds : rate,
    basis: 'warmup',
  };
}

/** Signed error of an estimate against what happened, in percent of the actual (+: too long). */
export function errorPercent(estimated: number, actual: number): number {
  return actual > 0 ? ((estimated - actual) / actual) * 100 : Number.NaN;
}
