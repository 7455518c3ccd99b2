/**
 * Default rates calibrated from a short probe of the runner (pure): until a pool has measured a
 * restore, its plans estimate with what this runner's start-up probe (src/runner/calibration.ts)
 * says about its machine, not with one fixed figure for every machine.
 *
 * The probe measures three things in about a second or two:
 * - the restore root's disk: sequential writes and an fsync (bytes/s);
 * - storage: one archived WAL segment downloaded (stored bytes/s);
 * - one segment's decoding: pg_waldump --stats over it (WAL bytes/s, one core), the record
 *   decoding and CRC checks replay does before it applies a record.
 * Each phase's rate is a fixed multiple of what bounds it, the multiples measured on the
 * reference runner (bench/pitr.ts on the 2-core bench machine, see `REFERENCE`): replay against
 * the decoding rate, the base backup against the slower of the disk and the download. A machine
 * twice as fast at those gets estimates twice as fast. A figure the probe could not measure
 * (no WAL archived yet, probe over budget) leaves that phase on `DEFAULT_RATES`.
 *
 * The estimate is uncertain until the pool has history, and the preview says by how much:
 * `UNCERTAINTY` gives the range shown around it (src/slack/views/plan.ts).
 */
import { DEFAULT_RATES, type MeasuredRates, type PhaseRate } from './rates.js';

export interface ProbeResult {
  /** Sequential write + fsync in the restore root, bytes/s. */
  diskWriteBytesPerSecond: number | null;
  /** One WAL segment downloaded from storage, stored bytes/s. */
  downloadBytesPerSecond: number | null;
  /** pg_waldump --stats over one decoded segment, WAL bytes/s. */
  walDecodeBytesPerSecond: number | null;
  /** How long the probe took. */
  seconds: number;
}

/**
 * The reference runner's probe and the rates its restore then ran at, taken together on the
 * 2-core bench machine under the same load (2026-12-07, load average ~20 from other work):
 * bench/pitr.ts's first round (204 segments, pgbench scale 50; its src/estimate/observe.ts
 * samples: base 9 MB/s of stored bytes, replay 38 MB/s) after its probe (download 37 MB/s,
 * pg_waldump 79 MB/s); the disk's figure is the median of 5 probes minutes later (335–733 MB/s,
 * median 367). Re-measure probe and rates together when either changes.
 */
export const REFERENCE = {
  probe: { diskWriteBytesPerSecond: 370e6, downloadBytesPerSecond: 37e6, walDecodeBytesPerSecond: 79e6 },
  rates: { 'restore-base-backup': 9e6, 'replay-wal': 38e6 },
} as const;

/** Estimates from a probe are taken as right within this factor (both ways); from fixed defaults, `DEFAULT_UNCERTAINTY`. */
export const UNCERTAINTY = 2;
export const DEFAULT_UNCERTAINTY = 3;

const usable = (value: number | null | undefined): value is number => typeof value === 'number' && Number.isFinite(value) && value > 0;

/** A default's rate scaled by how this runner compares with the reference at what bounds the phase. */
function scaled(phase: keyof typeof REFERENCE.rates, ratio: number | null): PhaseRate | undefined {
  if (ratio === null || !usable(ratio)) return undefined;
  return { ...DEFAULT_RATES[phase], bytesPerSecond: Math.round(REFERENCE.rates[phase] * ratio), samples: 0, probed: true };
}

/** The rates a probe implies for the phases it could measure (samples 0, `probed`). */
export function calibratedRates(probe: ProbeResult): MeasuredRates {
  const ref = REFERENCE.probe;
  const ratios = [
    usable(probe.diskWriteBytesPerSecond) ? probe.diskWriteBytesPerSecond / ref.diskWriteBytesPerSecond : null,
    usable(probe.downloadBytesPerSecond) ? probe.downloadBytesPerSecond / ref.downloadBytesPerSecond : null,
  ].filter((r): r is number => r !== null);
  const base = scaled('restore-base-backup', ratios.length ? Math.min(...ratios) : null);
  const replay = scaled('replay-wal', usable(probe.walDecodeBytesPerSecond) ? probe.walDecodeBytesPerSecond / ref.walDecodeBytesPerSecond : null);
  return { ...(base ? { 'restore-base-backup': base } : {}), ...(replay ? { 'replay-wal': replay } : {}) };
}

/** The pool's measured rates, each phase with no sample falling back to the probe's (then to the defaults, in phaseEstimate). */
export function withCalibration(measured: MeasuredRates, calibrated: MeasuredRates | undefined): MeasuredRates {
  return { ...calibrated, ...measured };
}

/** The range shown around an estimate of `seconds` that rests on no measured restore. */
export function uncertaintyRange(seconds: number, probed: boolean): { low: number; high: number } {
  const factor = probed ? UNCERTAINTY : DEFAULT_UNCERTAINTY;
  return { low: Math.max(1, Math.round(seconds / factor)), high: Math.round(seconds * factor) };
}
