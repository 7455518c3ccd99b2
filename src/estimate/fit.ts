/**
 * Restore rates fitted over restores of growing size, and what they project for a larger one
 * (pure). `npm run bench:scale` times each phase of restores at several sizes of base and WAL;
 * a least-squares line per phase (seconds = fixed + size × seconds per byte) gives the same
 * structure planning uses (./rates.ts `PhaseRate`: bytes/s, start-up, tail), so the README's
 * projection and a plan's estimate are one model:
 *
 *     restore-base-backup: base bytes at bytesPerSecond after startupSeconds
 *     replay-wal:          WAL bytes at bytesPerSecond after startupSeconds, then tailSeconds
 *                          (end-of-recovery checkpoint and promotion: the median measured)
 *
 * Scaling with cores (an assumption, stated with the projection): the base restore moves parts
 * in parallel, one per core (download, decompression, extraction), so its rate is taken to grow
 * with the cores until storage or disk bound it; WAL replay is one process (PostgreSQL's
 * startup process) whatever the cores, so its rate does not change.
 */
import { estimatedSeconds, phaseEstimate, type MeasuredRates, type PhaseRate } from './rates.js';

export interface Point {
  x: number;
  y: number;
}

export interface Line {
  intercept: number;
  slope: number;
  points: number;
}

/** Ordinary least squares y = intercept + slope·x; with one distinct x, the mean and slope 0. */
export function fitLine(points: readonly Point[]): Line {
  const usable = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const n = usable.length;
  if (n === 0) return { intercept: Number.NaN, slope: Number.NaN, points: 0 };
  const meanX = usable.reduce((s, p) => s + p.x, 0) / n;
  const meanY = usable.reduce((s, p) => s + p.y, 0) / n;
  const sxx = usable.reduce((s, p) => s + (p.x - meanX) ** 2, 0);
  const sxy = usable.reduce((s, p) => s + (p.x - meanX) * (p.y - meanY), 0);
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { intercept: meanY - slope * meanX, slope, points: n };
}

/** A fitted line as a phase rate: seconds per byte inverted, the intercept (never negative) as start-up. */
export function rateOf(line: Line, tailSeconds = 0): PhaseRate {
  return {
    bytesPerSecond: line.slope > 0 ? 1 / line.slope : Number.POSITIVE_INFINITY,
    startupSeconds: Math.max(0, line.intercept),
    tailSeconds: Math.max(0, tailSeconds),
    samples: line.points,
  };
}

export interface RestoreSize {
  baseBytes: number;
  walBytes: number;
}

export interface Projection {
  baseSeconds: number;
  replaySeconds: number;
  /** Phases that do not grow with the data (select, verify…), as measured. */
  fixedSeconds: number;
  totalSeconds: number;
  /** The phase that takes the longest. */
  bound: 'base' | 'replay';
}

/**
 * What a restore of `size` takes from `rates` measured on a runner of `measuredCores`, on one of
 * `cores` (base rate scaled by cores / measuredCores; replay unchanged), through phaseEstimate:
 * the plan's own arithmetic.
 */
export function projectRestore(rates: MeasuredRates, size: RestoreSize, cores: number, measuredCores: number, fixedSeconds = 0): Projection {
  const base = rates['restore-base-backup'];
  const scaledRates: MeasuredRates = { ...rates, ...(base ? { 'restore-base-backup': { ...base, bytesPerSecond: (base.bytesPerSecond * cores) / measuredCores } } : {}) };
  const baseSeconds = estimatedSeconds(phaseEstimate('restore-base-backup', size.baseBytes, scaledRates));
  const replaySeconds = estimatedSeconds(phaseEstimate('replay-wal', size.walBytes, scaledRates));
  return { baseSeconds, replaySeconds, fixedSeconds, totalSeconds: baseSeconds + replaySeconds + fixedSeconds, bound: baseSeconds >= replaySeconds ? 'base' : 'replay' };
}
