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
 * The base backup's rate is a fixed multiple of what bounds it, the slower of the disk and the
 * download, the multiple measured on the reference runner (bench/pitr.ts on the 2-core bench
 * machine, see `REFERENCE`): a machine twice as fast at those gets estimates twice as fast. A
 * figure the probe could not measure (probe over budget) leaves the phase on `DEFAULT_RATES`.
 *
 * Replay is NOT scaled by the decoding figure: it stays on `DEFAULT_RATES` until the pool has
 * measured a replay. Measured 2026-12-07 (load 19-30): pg_waldump decodes a segment several
 * times faster than replay applies it (150-400 MB/s against 94-149 MB/s of replay), so decoding
 * is not what bounds replay, and one segment's decoding (0.04-0.24 s for the same segment, one
 * run to the next) times mostly the scheduler on a loaded machine. Scaled by it, the first
 * restore's replay ETA was off by +159 % (probe 56 MB/s, replay ran at 94 MB/s) and -65 % (a
 * three-segment variant said 1051 MB/s, replay ran at 149); on the defaults the same two runs'
 * ETAs were off by -2 % and +41 %, and a third run (replay at 235 MB/s, load 10) by +121 %: the
 * defaults do not meet ±50 % either (README, bench:pitr). The decoding figure is still taken and
 * logged with the probe (the record a better replay probe can be checked against).
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
  /** pg_waldump --stats over one decoded segment, WAL bytes/s: logged, not used for a rate (see above). */
  walDecodeBytesPerSecond: number | null;
  /** How long the probe took. */
  seconds: number;
}

/**
 * The reference runner's probe and the base restore's rate then, taken together on the 2-core
 * bench machine under the same load (2026-12-07, load average ~20 from other work):
 * bench/pitr.ts's first round (pgbench scale 50; its src/estimate/observe.ts sample: base 9 MB/s
 * of stored bytes) after its probe (download 37 MB/s); the disk's figure is the median of 5
 * probes minutes later (335–733 MB/s, median 367). Re-measure probe and rate together when
 * either changes.
 */
export const REFERENCE = {
  probe: { diskWriteBytesPerSecond: 370e6, downloadBytesPerSecond: 37e6 },
  rates: { 'restore-base-backup': 9e6 },
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
  // Replay: no probed rate (the defaults), see above.
  return base ? { 'restore-base-backup': base } : {};
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
