/**
 * Base backup and base restore over one pgbench database in Azurite, three ways, alternating
 * within each round (the machine is shared): (gzip) the old layout, pg_basebackup client-gzip:1
 * into one blob, restored through `tar --extract --gzip` (formatVersion 1); (lz4, zstd) the
 * uncompressed tar cut into parts moved in parallel (formatVersion 2, engine/backup-parts/) with
 * each codec. Prints per run seconds, stored MiB, peak RSS (sampled every 50 ms, this process
 * only) and CPU seconds of the runner and its finished tools (not PostgreSQL's nor Azurite's),
 * and medians; never asserts.
 *
 *   npm run bench:backup -- [pgbench scale, default 100] [part MiB, default 64] [parallel, default: the runner's cores, 2 to 16] [rounds, default 2]
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { startSandbox } from '../devkit/sandbox.js';
import { defaultBaseParallel } from '../src/config.js';
import { takeBaseBackup } from '../src/engine/backup.js';
import { restoreBaseBackup } from '../src/engine/restore-base.js';
import { pgBasebackupArgs } from '../src/engine/pg-args.js';
import { makeOwnedDir } from '../src/engine/local-cluster.js';
import { osUserIds } from '../src/engine/os-user.js';
import { parseConnectionUrl } from '../src/util/connection-url.js';
import type { BackupManifest } from '../src/catalog/catalog.js';
import { listAll } from '../src/storage/blob-store.js';

const SCALE = Number(process.argv[2] ?? 100);
const PART_MIB = Number(process.argv[3] ?? 64);
const PARALLEL = Number(process.argv[4] ?? defaultBaseParallel(availableParallelism()));
const ROUNDS = Number(process.argv[5] ?? 2);
const MiB = 1024 * 1024;
const log = (text: string) => process.stderr.write(`${text}\n`);

/** CPU seconds of this process and of its finished children (pg_basebackup, tar, runuser) from /proc/self/stat. */
function cpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // utime, stime, cutime, cstime are fields 14-17 of stat(5); after "pid (comm) " they start at index 11.
  return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) / 100;
}

/** Seconds, CPU seconds (runner and its tools; not PostgreSQL nor Azurite) and sampled peak RSS of one phase. */
async function timed<T>(label: string, work: () => Promise<T>): Promise<{ value: T; seconds: number; cpu: number; peakRssMiB: number; growthMiB: number }> {
  const before = process.memoryUsage().rss;
  const cpuBefore = cpuSeconds();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const start = performance.now();
  try {
    const value = await work();
    const seconds = (performance.now() - start) / 1000;
    const cpu = cpuSeconds() - cpuBefore;
    log(`${label}: ${seconds.toFixed(1)} s, ${cpu.toFixed(1)} CPU s, peak RSS ${(peak / MiB).toFixed(0)} MiB (${((peak - before) / MiB).toFixed(0)} MiB over its start)`);
    return { value, seconds, cpu: +cpu.toFixed(1), peakRssMiB: Math.round(peak / MiB), growthMiB: Math.round((peak - before) / MiB) };
  } finally {
    clearInterval(sampler);
  }
}

const sandbox = await startSandbox({ productionSettings: { max_wal_size: '8GB', checkpoint_timeout: '30min', shared_buffers: '256MB' } });
try {
  const pgbench = join(sandbox.config.pg.bin, 'pgbench');
  log(`initialising pgbench scale ${SCALE} …`);
  await sandbox.exec.run(pgbench, ['-i', '-s', String(SCALE), '-q', '-h', sandbox.production.socketDir, '-p', String(sandbox.production.port), '-U', 'postgres', 'postgres'], { timeoutMs: 3_600_000 });
  await sandbox.query('CHECKPOINT');
  const source = parseConnectionUrl(sandbox.productionUrl);
  const owner = await osUserIds('postgres');
  const ctx = sandbox.context();
  const pg = { ...sandbox.config.pg, baseTransfer: { partBytes: PART_MIB * MiB, parallel: PARALLEL } };
  let lastManifest: BackupManifest | undefined;
  // A format 1 manifest borrows the facts of a parted backup (restore reads only its files).
  const anyManifest = async () => lastManifest ?? takeBaseBackup(ctx, { ...pg, baseTransfer: { ...pg.baseTransfer, codec: 'zstd' } }, source).then((m) => (lastManifest = m));
  const record = (into: (typeof runs)[keyof typeof runs], phase: { seconds: number; cpu: number; peakRssMiB: number }, which: 'backup' | 'restore') => {
    into[`${which}_s`].push(+phase.seconds.toFixed(1));
    into[`${which}_cpu_s`].push(phase.cpu);
    into[`${which}_peak_rss_mib`].push(phase.peakRssMiB);
  };
  const freshDir = async (name: string) => {
    const dir = join(sandbox.root, 'bench', name);
    await makeOwnedDir(dir, owner);
    return dir;
  };

  // Old: one client-gzip:1 stream into one blob (formatVersion 1).
  const oldBackup = async (id: string) => {
    const [file, args] = pgBasebackupArgs(pg.bin, source, `bench ${id}`, 'gzip');
    const child = sandbox.exec.spawn(file, args, { stdoutStream: true, timeoutMs: 3_600_000 });
    const hash = createHash('sha256');
    let bytes = 0;
    const measured = new PassThrough();
    child.stdout!.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    child.stdout!.pipe(measured);
    await Promise.all([child, sandbox.storage.backups.put(`${sandbox.storage.backupPrefix}${id}/base.tar.gz`, measured)]);
    return { bytes, sha256: hash.digest('hex') };
  };

  // Variants alternate within each round so the shared machine's load hits them alike.
  const variants = ['gzip', 'lz4', 'zstd'] as const;
  type Variant = (typeof variants)[number];
  const runs: Record<Variant, { backup_s: number[]; restore_s: number[]; stored_mib: number; backup_cpu_s: number[]; restore_cpu_s: number[]; backup_peak_rss_mib: number[]; restore_peak_rss_mib: number[] }> = Object.fromEntries(
    variants.map((v) => [v, { backup_s: [], restore_s: [], stored_mib: 0, backup_cpu_s: [], restore_cpu_s: [], backup_peak_rss_mib: [], restore_peak_rss_mib: [] }]),
  ) as never;
  let tarBytes = 0;
  let parts = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) {
      let manifest: BackupManifest;
      const label = `round ${round + 1} ${variant}`;
      if (variant === 'gzip') {
        const backup = await timed(`${label} backup (gzip, one blob)`, () => oldBackup(`old-${round}`));
        manifest = { ...(await anyManifest()), formatVersion: 1, id: `old-${round}`, files: [{ name: 'base.tar.gz', bytes: backup.value.bytes, sha256: backup.value.sha256 }] };
        record(runs.gzip, backup, 'backup');
      } else {
        const tools = { ...pg, baseTransfer: { ...pg.baseTransfer, codec: variant } };
        const backup = await timed(`${label} backup (${variant} parts of ${PART_MIB} MiB, ${PARALLEL} at once)`, () => takeBaseBackup(ctx, tools, source));
        manifest = backup.value;
        lastManifest = manifest;
        tarBytes = manifest.files.reduce((sum, f) => sum + (f.rawBytes ?? 0), 0);
        parts = manifest.files.length;
        record(runs[variant], backup, 'backup');
      }
      runs[variant].stored_mib = Math.round(manifest.files.reduce((sum, f) => sum + f.bytes, 0) / MiB);
      const restore = await timed(`${label} restore`, async () => restoreBaseBackup(ctx, pg, manifest, await freshDir(`${variant}-${round}`)));
      record(runs[variant], restore, 'restore');
      await rm(join(sandbox.root, 'bench'), { recursive: true, force: true });
      for (const blob of await listAll(sandbox.storage.backups, `${sandbox.storage.backupPrefix}${manifest.id}/`)) await sandbox.storage.backups.delete(blob.key);
    }
  }

  const median = (values: number[]) => {
    const sorted = [...values].sort((x, y) => x - y);
    const mid = Math.floor(sorted.length / 2);
    return +(sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2).toFixed(1);
  };
  const result = {
    scale: SCALE,
    tar_mib: Math.round(tarBytes / MiB),
    parts,
    rounds: ROUNDS,
    stored_mib: Object.fromEntries(variants.map((v) => [v, runs[v].stored_mib])),
    backup_s_median: Object.fromEntries(variants.map((v) => [v, median(runs[v].backup_s)])),
    restore_s_median: Object.fromEntries(variants.map((v) => [v, median(runs[v].restore_s)])),
    runs,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await sandbox.cleanup();
}
