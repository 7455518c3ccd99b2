/**
 * Default rates calibrated from a short probe of the runner (pure): until a pool has measured a
 * restore, its plans estimate with what this runner's start-up probe (src/runner/calibration.ts)
 * says about its machine, not with one fixed figure for every machine.
 *
 * The probe measures three things in about a second or two:
 * - the restore root's disk: sequential writes and an fsync (bytes/s);
 * - storage: a few consecutive archived WAL segments downloaded (stored bytes/s);
 * - their decoding: one pg_waldump --stats run over them (WAL bytes/s, one core, less the start
 *   of the process: `decodeRate`), the record decoding and CRC checks replay does before it
 *   applies a record.
 * Each phase's rate is a fixed multiple of what bounds it, the multiples measured on the
 * reference runner (bench/pitr.ts on the 2-core bench machine, see `REFERENCE`): replay against
 * the decoding rate, the base backup against the slower of the disk and the download. A machine
 * twice as fast at those gets estimates twice as fast. A figure the probe could not measure
 * (no WAL archived yet, probe over budget) leaves that phase on `DEFAULT_RATES`.
 *
 * The estimate is uncertain until the pool has history, and the preview says by how much:
 * `UNCERTAINTY` gives the range shown around it (src/slack/views/plan.ts).
 */
import { parseSegmentName } from '../catalog/segments.js';
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

/**
 * The decoding rate of one pg_waldump run over `bytes` of WAL, less the cost of starting a process
 * (`spawnSeconds`: `pg_waldump --version` through the same runuser path just before). Under load
 * starting a process took 6–140 ms against 90–190 ms for a whole segment's decoding (2026-12-07,
 * load 28): uncorrected, the figure measured mostly the scheduler, and said 56 MB/s while that
 * machine replayed at 94 MB/s. The start-up is taken off at most down to `MIN_DECODE_SHARE` of the
 * run (a baseline that happened to be slow cannot make decoding look free); null when the run took
 * no time at all.
 */
export const MIN_DECODE_SHARE = 0.25;
export function decodeRate(bytes: number, runSeconds: number, spawnSeconds: number): number | null {
  if (!(bytes > 0) || !(runSeconds > 0)) return null;
  const spawn = Number.isFinite(spawnSeconds) && spawnSeconds > 0 ? spawnSeconds : 0;
  return bytes / Math.max(runSeconds - spawn, runSeconds * MIN_DECODE_SHARE);
}

/**
 * Which archived segments the probe decodes (pure): the window of at most `max` consecutive
 * segments (one timeline, segno after segno) with the most stored bytes among those listed, in
 * order, so one pg_waldump run decodes several segments (a longer, steadier sample than one
 * segment's ~0.2 s) and reads across their boundaries as replay does. Names that are no segment
 * (history, backup labels, partial files) are ignored; [] when none is.
 */
export function probeWindow<T extends { name: string; size: number }>(listed: readonly T[], max: number): T[] {
  const segments = listed
    .flatMap((entry) => {
      const id = parseSegmentName(entry.name);
      return id ? [{ entry, id }] : [];
    })
    .sort((a, b) => (a.id.timeline - b.id.timeline) || (a.id.segno < b.id.segno ? -1 : a.id.segno > b.id.segno ? 1 : 0));
  let best: T[] = [];
  let bestBytes = -1;
  for (let start = 0; start < segments.length; start++) {
    const window = [segments[start]!];
    while (window.length < max) {
      const last = window[window.length - 1]!;
      const next = segments[start + window.length];
      if (!next || next.id.timeline !== last.id.timeline || next.id.segno !== last.id.segno + 1n) break;
      window.push(next);
    }
    const bytes = window.reduce((sum, { entry }) => sum + entry.size, 0);
    if (bytes > bestBytes) {
      best = window.map(({ entry }) => entry);
      bestBytes = bytes;
    }
  }
  return best;
}

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
