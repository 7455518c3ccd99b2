/**
 * The runner's start-up probe (issue 24, item 4): a second or two measuring this machine, so the
 * first restore of a pool is estimated from it rather than from fixed figures
 * (src/estimate/calibrate.ts turns the figures into rates).
 *
 * Kept in the runner's memory, not in the control DB: it describes this process's machine
 * (the disk under its restore root, its cores, its path to storage), which a redeploy can
 * change, and it costs a second to measure again at every start; a pool's other runners plan
 * with their own. Once the pool has measured a restore (table measured_rates) its history
 * takes over, phase by phase.
 *
 * Never in the way: it starts after the runner does and does not delay it; the whole probe is
 * bounded by `PROBE_BUDGET_MS` (a step still running then is abandoned and its figure stays
 * unknown); until it is done, or if it fails, plans use the fixed defaults and say so.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Exec } from '../engine/exec.js';
import { calibratedRates, type ProbeResult } from '../estimate/calibrate.js';
import { median, type MeasuredRates } from '../estimate/rates.js';
import { parseSegmentName } from '../catalog/segments.js';
import { decodeWalBuffer } from '../wal/compression.js';
import type { Storage } from '../storage/blob-store.js';
import type { Logger } from '../types.js';

export const PROBE_BUDGET_MS = 3000;
/** Disk probe: trials of this many bytes and an fsync, for `DISK_PROBE_MS`. */
const DISK_TRIAL_BYTES = 8 * 2 ** 20;
const DISK_PROBE_MS = 500;
const DISK_SHARE = 0.4;
/** Archived segments looked at for one to probe with (the fullest, by stored size, of the first ones listed). */
const SEGMENTS_LISTED = 16;

export interface ProbeDeps {
  config: Pick<Config, 'restoreRoot' | 'pg'>;
  storage: Storage;
  exec: Exec;
  log: Logger;
}

export interface Calibration {
  /** The rates the probe implies; undefined until it is done (or when it measured nothing). */
  rates(): MeasuredRates | undefined;
  /** Resolves when the probe is over, measured or not. */
  readonly done: Promise<ProbeResult | null>;
}

const now = () => performance.now();
const rate = (bytes: number, since: number) => bytes / Math.max(1e-3, (now() - since) / 1000);

/**
 * Writes of incompressible data into the restore root, each `DISK_TRIAL_BYTES` then an fsync,
 * for `DISK_PROBE_MS`: the median trial's bytes/s (one trial on a shared disk swings 10x). An
 * fsync still waiting when `signal` aborts (other writers ahead of it) gives that trial's rate
 * so far: at most that, which is what a restore would see then too.
 */
export async function probeDisk(dir: string, signal: AbortSignal, log: Logger): Promise<number> {
  const path = join(dir, `.recover-probe-${process.pid}`);
  const chunk = randomBytes(DISK_TRIAL_BYTES);
  const began = now();
  // A fresh host has no restore root until the first restore makes it; the probe makes it
  // (as that restore would) rather than measure nothing.
  await mkdir(dir, { recursive: true });
  const file = await open(path, 'w');
  const aborted = new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
  let synced: Promise<void> = Promise.resolve();
  try {
    const trials: number[] = [];
    do {
      const trialBegan = now();
      // A write held up by writeback (other writers' dirty pages) counts as slow as the fsync would.
      await Promise.race([file.write(chunk, 0, chunk.length, 0), aborted]);
      synced = signal.aborted ? synced : file.sync();
      await Promise.race([synced, aborted]);
      trials.push(rate(chunk.length, trialBegan));
    } while (now() - began < DISK_PROBE_MS && !signal.aborted);
    return median(trials);
  } finally {
    await rm(path, { force: true });
    // Closed once a pending fsync is over; the probe does not wait for it.
    const close = () => file.close();
    void synced.then(close, close).catch((error: unknown) => log.warn({ err: error }, 'runner probe: closing its disk probe file failed'));
  }
}

/** One archived segment: downloaded (stored bytes/s) and decoded with pg_waldump --stats (WAL bytes/s). */
export async function probeWal(deps: ProbeDeps, signal: AbortSignal): Promise<Pick<ProbeResult, 'downloadBytesPerSecond' | 'walDecodeBytesPerSecond'>> {
  const { storage } = deps;
  let chosen: { key: string; name: string; size: number } | null = null;
  let listed = 0;
  for await (const blob of storage.wal.list(storage.walPrefix)) {
    const name = blob.key.slice(storage.walPrefix.length);
    if (parseSegmentName(name) && (!chosen || blob.size > chosen.size)) chosen = { key: blob.key, name, size: blob.size };
    if (++listed >= SEGMENTS_LISTED || signal.aborted) break;
  }
  if (!chosen) return { downloadBytesPerSecond: null, walDecodeBytesPerSecond: null };
  const began = now();
  const parts: Buffer[] = [];
  for await (const part of await storage.wal.getStream(chosen.key, signal)) parts.push(part as Buffer);
  const stored = Buffer.concat(parts);
  const downloadBytesPerSecond = rate(stored.length, began);
  const raw = await decodeWalBuffer(stored);
  const dir = await mkdtemp(join(tmpdir(), 'recover-probe-'));
  try {
    await chmod(dir, 0o755);
    await writeFile(join(dir, chosen.name), raw, { mode: 0o644 });
    // The faster of two runs: on a busy machine one run can lose the core for a while.
    let walDecodeBytesPerSecond: number | null = null;
    for (let run = 0; run < 2 && !signal.aborted; run++) {
      const decodeBegan = now();
      const dump = await deps.exec.run(join(deps.config.pg.bin, 'pg_waldump'), ['--stats', join(dir, chosen.name)], { asUser: deps.config.pg.osUser, signal, allowFailure: true, timeoutMs: PROBE_BUDGET_MS });
      // No statistics: pg_waldump read no record (not a WAL segment), so nothing was measured.
      if (!dump.stdout.includes('WAL statistics')) break;
      walDecodeBytesPerSecond = Math.max(walDecodeBytesPerSecond ?? 0, rate(raw.length, decodeBegan));
    }
    return { downloadBytesPerSecond, walDecodeBytesPerSecond };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The whole probe within `budgetMs`: what finished in time is measured, the rest null. */
export async function probeRunner(deps: ProbeDeps, budgetMs = PROBE_BUDGET_MS): Promise<ProbeResult> {
  const began = now();
  const signal = AbortSignal.timeout(budgetMs);
  // The disk gets at most `DISK_SHARE` of the budget: an fsync stuck behind other writers says enough by then.
  const diskSignal = AbortSignal.any([signal, AbortSignal.timeout(budgetMs * DISK_SHARE)]);
  const within = <T>(work: Promise<T>, signal: AbortSignal): Promise<T | null> =>
    Promise.race([work, new Promise<null>((resolve) => signal.addEventListener('abort', () => resolve(null), { once: true }))]).catch((error: unknown) => {
      deps.log.warn({ err: error }, 'runner probe: one measurement failed; its phase keeps the default rate');
      return null;
    });
  // At once: on a loaded machine the WAL probe (listing, download, two pg_waldump runs) needs most of the budget.
  const [disk, wal] = await Promise.all([
    within(probeDisk(deps.config.restoreRoot, diskSignal, deps.log), AbortSignal.any([signal, AbortSignal.timeout(budgetMs * DISK_SHARE + 100)])),
    within(probeWal(deps, signal), signal),
  ]);
  return {
    diskWriteBytesPerSecond: disk,
    downloadBytesPerSecond: wal?.downloadBytesPerSecond ?? null,
    walDecodeBytesPerSecond: wal?.walDecodeBytesPerSecond ?? null,
    seconds: (now() - began) / 1000,
  };
}

/** Starts the probe in the background; plans use its rates once it is done. */
export function startCalibration(deps: ProbeDeps, budgetMs = PROBE_BUDGET_MS): Calibration {
  let rates: MeasuredRates | undefined;
  const done = probeRunner(deps, budgetMs).then((probe) => {
    rates = calibratedRates(probe);
    deps.log.info({ probe, rates }, 'runner probe done: until this pool has measured a restore, plans estimate with these rates');
    return probe;
  });
  return { rates: () => rates, done };
}
