/**
 * Replay tuning, one lever at a time: the WAL is built once (pgbench scale 50, a base backup,
 * pgbench until ≥ N segments are archived in Azurite), then the same target (latest) is
 * restored to side instances again and again, each with another set of replay-only settings,
 * in alternating order. Prints per-variant medians of the restore (base + replay + putting the
 * instance back on its own settings) and PostgreSQL's own "redo done … elapsed". Never asserts.
 *
 *   npx tsx bench/replay.ts [segments=200] [rounds=3] [variants, comma-separated] [pgbench scale=50]
 *
 * Production runs on PostgreSQL's defaults (shared_buffers 128MB, max_wal_size 1GB,
 * checkpoint_timeout 5min) and its base backup carries fsync=on, as a real one would: the
 * restored instance starts from those, and "baseline" is what a restore did before tuning.
 *
 * Measured here (2 cores shared with six other jobs, load 6-26, so single runs swing ±50 %;
 * "replay" = the replay step incl. the reload / sync + restart that ends the tuning):
 * - run 3, quietest (64 segments, 3 rounds), replay medians: baseline 26.4 s; checkpoints rare
 *   22.0 s (0.83); fsync-off with its initdb --sync-only + restart 23.5 s (0.89); both together
 *   ("tuned", what side restores that promote now use) 18.4 s (0.70, faster in every round:
 *   23.5/31.5, 18.4/26.4, 16.4/20.8); PostgreSQL's redo elapsed 9.0 s vs 16.6 s. The startup
 *   process's own CPU was ~5 s in every variant: the rest of redo is waiting (disk, run queue).
 * - run 2 (83 segments, load ~20): replay medians baseline 45.9 s, checkpoints 48.7, fsync-off
 *   33.4, tuned 57.7, recovery_prefetch=off 49.4 — noise larger than the levers.
 * - run 1 (82 segments, load ~20, two rounds): shared_buffers=1GB was slower in both rounds
 *   (replay 78.4/70.6 s vs baseline 61.3/54.3 s: the pages stay in the kernel's page cache anyway,
 *   a big pool moves the writing to the end-of-recovery checkpoint and needs a restart);
 *   recovery_prefetch=on with maintenance_io_concurrency=64, wal_decode_buffer_size=4MB and
 *   recovery_prefetch=off both left redo where baseline had it (40.6/40.7 and 38.8/41.8 s vs
 *   41.6/39.5 s; 'try' is already the default).
 * - 2026-11-29, quiet machine (load < 3), 222 segments, 3 rounds, with restartpoints still rare:
 *   tuned 15.50 s (15.5, 13.3, 17.9), +shared_buffers=1GB 17.16 s (startup CPU 7.0 s against
 *   8.7 s, but not faster), +recovery_prefetch=off 15.47 s: neither kept.
 * - 2026-11-29, the same WAL restored by `recover pitr` again and again (a rig that sampled the
 *   startup process's /proc schedstat and the kernel's Dirty pages): the startup process spent
 *   ~3.7 s of a 12.3 s redo neither running nor waiting for a CPU, and Dirty reached 2.2 GB,
 *   the kernel's background-writeback line: every restored segment stays in pg_wal until a
 *   restartpoint, and with restartpoints rare that was all 3.6 GB of them. max_wal_size 256MB
 *   with wal_recycle=off: replay step 10.4, 10.9, 10.6, 10.9 s against 14.0, 15.1, 14.1 s
 *   (redo 9.2-9.5 s against 12.3-13.3 s); 96MB and 512MB the same within noise; 256MB without
 *   wal_recycle=off 11.5 s; wal_recycle=off with rare restartpoints no better (15.6, 16.3 s).
 *   With fsync on (in place): 256MB + wal_recycle=off 15.2, 14.1 s against rare restartpoints
 *   16.6, 15.8 s; 1GB + wal_recycle=off 16.4, 17.0 s. shared_buffers 512MB / 1GB on top: no gain.
 */
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startSandbox } from '../devkit/sandbox.js';
import { takeBaseBackup } from '../src/engine/backup.js';
import { stopCluster } from '../src/engine/local-cluster.js';
import { ownerFor } from '../src/engine/os-user.js';
import { replayOnlySettings } from '../src/engine/pg-settings.js';
import { planPitr } from '../src/engine/pitr.js';
import { restoreSideInstance } from '../src/engine/restore-to-target.js';
import { parseConnectionUrl } from '../src/util/connection-url.js';

const MIN_SEGMENTS = Number(process.argv[2] ?? 200);
const ROUNDS = Number(process.argv[3] ?? 3);
const SCALE = process.argv[5] ?? '50';
const checkpointsRare = { checkpoint_timeout: '1d', max_wal_size: '64GB' };
const tuned = replayOnlySettings({ syncBeforeHandover: true, walSegmentSize: 16 * 1024 * 1024 });
const VARIANTS: Record<string, Record<string, string>> = {
  baseline: {},
  shared_buffers: { shared_buffers: '1GB' },
  checkpoints: checkpointsRare,
  prefetch: { recovery_prefetch: 'on', maintenance_io_concurrency: '64', wal_decode_buffer_size: '4MB' },
  'no-prefetch': { recovery_prefetch: 'off' },
  'fsync-off': { fsync: 'off' },
  'full_page_writes-off': { full_page_writes: 'off' },
  'checkpoints+shared_buffers': { shared_buffers: '1GB', ...checkpointsRare },
  // The tuning before restartpoints were made frequent: rare restartpoints and fsync off.
  'rare+fsync-off': { ...checkpointsRare, fsync: 'off' },
  // What a side restore that promotes now uses (replayOnlySettings): the winners together.
  tuned,
  'tuned+shared_buffers': { ...tuned, shared_buffers: '1GB' },
  'tuned+no-prefetch': { ...tuned, recovery_prefetch: 'off' },
  // In place or paused: the same without fsync off.
  'tuned-fsync-on': replayOnlySettings({ syncBeforeHandover: false, walSegmentSize: 16 * 1024 * 1024 }),
};
const chosen = (process.argv[4] ?? 'baseline,rare+fsync-off,tuned').split(',');
for (const name of chosen) if (!VARIANTS[name]) throw new Error(`unknown variant ${name}; known: ${Object.keys(VARIANTS).join(', ')}`);

const log = (text: string) => process.stderr.write(`${text}\n`);
const median = (values: number[]) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const sandbox = await startSandbox();
try {
  const pgbench = join(sandbox.config.pg.bin, 'pgbench');
  const connArgs = ['-h', sandbox.production.socketDir, '-p', String(sandbox.production.port), '-U', 'postgres', 'postgres'];
  log(`initialising pgbench scale ${SCALE} …`);
  await sandbox.exec.run(pgbench, ['-i', '-s', SCALE, '-q', ...connArgs], { timeoutMs: 900_000 });
  // The sandbox runs production with fsync=off for speed; the base backup (which carries
  // postgresql.auto.conf) must say fsync=on, as a real production's does.
  await sandbox.query('ALTER SYSTEM SET fsync = on');
  await sandbox.query('SELECT pg_reload_conf()');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query('ALTER SYSTEM SET fsync = off');
  await sandbox.query('SELECT pg_reload_conf()');
  const startLsn = (await sandbox.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn;
  log(`writing at least ${MIN_SEGMENTS} WAL segments with pgbench …`);
  for (;;) {
    await sandbox.exec.run(pgbench, ['-n', '-c', '4', '-j', '2', '-T', '15', ...connArgs], { timeoutMs: 600_000 });
    const [row] = await sandbox.query<{ segments: string }>(`SELECT ((pg_current_wal_lsn() - $1::pg_lsn) / (16*1024*1024))::int AS segments`, [startLsn]);
    log(`  ${row!.segments} segments so far`);
    if (Number(row!.segments) >= MIN_SEGMENTS) break;
  }
  await sandbox.switchAndArchive();
  // Production is no longer needed: stopped, so its checkpoints do not slow the first restore.
  await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', sandbox.production.dataDir, 'fast');
  await sandbox.exec.run('sync', []);
  const ctx = sandbox.context();
  const selection = await planPitr(ctx, { target: { kind: 'latest' } }, sandbox.config.pg);
  log(`${selection.requiredSegments.length} segments to replay`);
  const owner = await ownerFor('postgres');

  const totals: Record<string, number[]> = {};
  const redo: Record<string, number[]> = {};
  const replay: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate the order (and rotate it) so no variant always runs first or last.
    const rotated = [...chosen.slice(round % chosen.length), ...chosen.slice(0, round % chosen.length)];
    for (const name of round % 2 === 1 ? rotated : rotated.reverse()) {
      const restored = await restoreSideInstance(
        ctx,
        sandbox.config,
        selection,
        { target: { kind: 'latest' }, inclusive: true, action: 'promote', instanceName: `${name.replace(/[^\w-]/g, '-')}-${round}`, replaySettingsOverride: VARIANTS[name]! },
        owner,
      );
      const total = restored.baseSeconds + restored.replaySeconds;
      const text = await readFile(restored.layout.logFile, 'utf8');
      // PostgreSQL's own account of the startup process: CPU (less sensitive to a loaded machine) and elapsed.
      const done = /redo done at .*CPU: user: ([0-9.]+) s, system: ([0-9.]+) s, elapsed: ([0-9.]+) s/.exec(text);
      const redoSeconds = done ? Number(done[3]) : Number.NaN;
      const redoCpu = done ? Number(done[1]) + Number(done[2]) : Number.NaN;
      (totals[name] ??= []).push(total);
      (redo[name] ??= []).push(redoSeconds);
      (replay[name] ??= []).push(restored.replaySeconds);
      (cpu[name] ??= []).push(redoCpu);
      log(`${name} #${round}: ${total.toFixed(2)} s (base ${restored.baseSeconds.toFixed(2)}, replay ${restored.replaySeconds.toFixed(2)}${restored.tuningEnd !== 'none' && restored.tuningEnd !== 'reloaded' ? ` incl. ${restored.tuningEnd}` : ''}), redo elapsed ${redoSeconds.toFixed(2)} s, startup CPU ${redoCpu.toFixed(2)} s`);
      await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', restored.layout.dataDir, 'immediate');
      await rm(dirname(restored.layout.dataDir), { recursive: true, force: true });
    }
  }
  // The replay step (replay and putting the instance back) is what the settings change; the base
  // backup step before it only shows how loaded the machine was.
  const base = median(replay.baseline ?? []);
  for (const name of chosen) {
    const m = median(replay[name]!);
    log(
      `${name.padEnd(22)} replay median ${m.toFixed(2)} s (${replay[name]!.map((v) => v.toFixed(1)).join(', ')})  total ${median(totals[name]!).toFixed(2)} s  redo ${median(redo[name]!).toFixed(2)} s  startup CPU ${median(cpu[name]!).toFixed(2)} s${Number.isNaN(base) ? '' : `  replay vs baseline ${(m / base).toFixed(2)}`}`,
    );
  }
  process.stdout.write(`${chosen.map((name) => `replay_${name.replace(/[^\w]/g, '_')}_s=${median(replay[name]!).toFixed(2)}`).join(' ')}\n`);
} finally {
  await sandbox.cleanup();
}
