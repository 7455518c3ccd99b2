/**
 * Measured restore rates and the estimates built from them (pure).
 *
 * A restore has two phases whose duration grows with the data: streaming the base backup in
 * (`restore-base-backup`, bytes of the backup) and WAL replay (`replay-wal`, bytes of WAL
 * between the backup's start LSN and the end of the last needed segment, the same span its
 * progress events count). Each is modelled as
 *
 *     seconds = startup + bytes / bytesPerSecond + tail
 *
 * A runner records one sample per finished phase (src/runner/job-events.ts, table
 * `measured_rates`); planning uses, per phase, the median of each figure over this pool's last
 * `RATE_HISTORY` samples. With no sample the documented `DEFAULT_RATES` apply and the estimate
 * says so (`samples: 0`: not yet measured on this runner pool).
 */
import type { StepEstimate } from '../types.js';
import { PROFILE_TENTHS, profileApplies, type Profile } from './profile.js';

export const MEASURED_PHASES = ['restore-base-backup', 'replay-wal'] as const;
export type MeasuredPhase = (typeof MEASURED_PHASES)[number];

export const isMeasuredPhase = (step: string): step is MeasuredPhase => (MEASURED_PHASES as readonly string[]).includes(step);

/** One finished phase of one job, as measured. */
export interface PhaseSample {
  phase: MeasuredPhase;
  bytes: number;
  seconds: number;
  bytesPerSecond: number;
  startupSeconds: number;
  tailSeconds: number;
  /** When each tenth of the bytes was done, as shares of the time to the last byte (./profile.ts); null: unknown. */
  profile: Profile | null;
}

/** What planning uses for one phase: medians of the last samples (`samples` of them; 0 = defaults). */
export interface PhaseRate {
  bytesPerSecond: number;
  startupSeconds: number;
  tailSeconds: number;
  samples: number;
  /** Not measured: scaled from this runner's start-up probe (./calibrate.ts). */
  probed?: true;
  /** The median profile of those samples that have one, and the median bytes of those samples. */
  profile?: { shares: Profile; bytes: number };
}

export type MeasuredRates = Partial<Record<MeasuredPhase, PhaseRate>>;

/** How many recent samples per phase the median is taken over. */
export const RATE_HISTORY = 5;

/**
 * Until a runner pool has measured itself: a base backup streamed at 80 MB/s (blob download,
 * checksum and tar on one core) and WAL replayed at 100 MB/s with the prefetching fetcher,
 * plus a few seconds to start the server and to checkpoint and promote at the end. Deliberate
 * round figures: the preview labels estimates from them as not yet measured.
 */
export const DEFAULT_RATES: Record<MeasuredPhase, PhaseRate> = {
  'restore-base-backup': { bytesPerSecond: 80e6, startupSeconds: 2, tailSeconds: 0, samples: 0 },
  'replay-wal': { bytesPerSecond: 100e6, startupSeconds: 3, tailSeconds: 2, samples: 0 },
};

/**
 * How a replay starts, for the ETA of a pool's first restore (no measured profile yet): its first
 * 512 MiB of WAL count 2.5 times (they replay that much slower than the rest). Measured with
 * bench:pitr on 2026-12-07 (2 cores, 203-210 segments = 3.4-3.5 GB of WAL, 19 replays): every
 * replay ran at 110-150 MB/s for its first 250-350 MB, whatever the load, then at 300-450 MB/s
 * on the idle machine (first tenth: 17-26 % of the replay's time). The spool was full (the agent
 * waited 0 ms for segments) and the early sync of the base backup's pages made no difference
 * (alternate rounds without it were as slow at first), so the slow start is the restored
 * server's own. Counted in bytes, not as a share of the phase: at 10 % of a 100 GB replay it is
 * a small part of what was observed, where a shape measured on a 3.4 GB replay would make that
 * ETA far too short. The ETA at 10 % of those replays: off by -29 to +46 % idle and with one
 * busy-looping process beside (15 replays; on the default rate +104 to +265 %, on the observed
 * rate alone +49 to +185 %); with three busy loops and a test suite beside (load 8-10; replay
 * CPU-bound at 140-220 MB/s from the start, so no speed-up came) -34 to -55 % (4 replays), where
 * the observed rate alone was right within 26 %. Once the pool has measured a replay its own
 * profile replaces this (./profile.ts).
 */
export const REPLAY_WARMUP = { bytes: 512 * 2 ** 20, pace: 2.5 } as const;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Per tenth, the median of the profiles that know it (null where none does); null without profiles. */
export function medianProfile(profiles: readonly Profile[]): Profile | null {
  const usable = profiles.filter((p) => p.length === PROFILE_TENTHS);
  if (usable.length === 0) return null;
  const shares = Array.from({ length: PROFILE_TENTHS }, (_, i) => {
    const known = usable.flatMap((p) => (typeof p[i] === 'number' && Number.isFinite(p[i]) ? [p[i] as number] : []));
    return known.length === 0 ? null : Number(median(known).toFixed(3));
  });
  return shares.every((s) => s === null) ? null : shares;
}

const usable = (s: PhaseSample): boolean =>
  Number.isFinite(s.bytesPerSecond) && s.bytesPerSecond > 0 && Number.isFinite(s.startupSeconds) && s.startupSeconds >= 0 && Number.isFinite(s.tailSeconds) && s.tailSeconds >= 0;

/** Per phase, the median of each figure over the newest `history` usable samples (`samples` newest first). */
export function aggregateRates(samples: readonly PhaseSample[], history = RATE_HISTORY): MeasuredRates {
  const rates: MeasuredRates = {};
  for (const phase of MEASURED_PHASES) {
    const recent = samples.filter((s) => s.phase === phase && usable(s)).slice(0, history);
    if (recent.length === 0) continue;
    const profiled = recent.filter((s) => s.profile);
    const shares = medianProfile(profiled.map((s) => s.profile!));
    rates[phase] = {
      bytesPerSecond: median(recent.map((s) => s.bytesPerSecond)),
      startupSeconds: median(recent.map((s) => s.startupSeconds)),
      tailSeconds: median(recent.map((s) => s.tailSeconds)),
      samples: recent.length,
      ...(shares ? { profile: { shares, bytes: median(profiled.map((s) => s.bytes)) } } : {}),
    };
  }
  return rates;
}

/**
 * The estimate of moving `bytes` in a phase, from measured rates or else the defaults; with the
 * measured profile when it was measured on phases of a comparable size.
 */
export function phaseEstimate(phase: MeasuredPhase, bytes: number, rates: MeasuredRates | undefined): StepEstimate {
  const rate = rates?.[phase] ?? DEFAULT_RATES[phase];
  // Plans are hashed after a round trip through jsonb: keep the figures short and exact (profile shares have 3 digits).
  const round = (value: number, digits: number) => Number(value.toFixed(digits));
  const whole = Math.max(0, Math.round(bytes));
  return {
    bytes: whole,
    bytesPerSecond: Math.max(1, Math.round(rate.bytesPerSecond)),
    startupSeconds: round(rate.startupSeconds, 1),
    tailSeconds: round(rate.tailSeconds, 1),
    samples: rate.samples,
    ...(rate.samples === 0 && rate.probed ? { probed: true as const } : {}),
    ...(rate.profile && profileApplies(whole, rate.profile.bytes) ? { profile: [...rate.profile.shares] } : {}),
    ...(phase === 'replay-wal' && rate.samples === 0 ? { warmup: { ...REPLAY_WARMUP } } : {}),
  };
}

/** Whole seconds the estimate expects the phase to take (at least 1). */
export function estimatedSeconds(estimate: StepEstimate): number {
  return Math.max(1, Math.ceil(estimate.startupSeconds + estimate.bytes / estimate.bytesPerSecond + estimate.tailSeconds));
}

/** `measured: median of the last 3 restores on this runner pool` or `not yet measured on this runner pool`. */
export function estimateBasis(samples: number, probed = false): string {
  if (samples <= 0) return `not yet measured on this runner pool (${probed ? "rates from this runner's start-up probe" : 'default rates'})`;
  return `measured: median of the last ${samples === 1 ? 'restore' : `${samples} restores`} on this runner pool`;
}
