/**
 * Base backup and base restore, old layout against new, over one pgbench database in Azurite:
 * (old) pg_basebackup client-gzip:1 into one blob, restored through `tar --extract --gzip`
 * (formatVersion 1); (new) the uncompressed tar cut into LZ4 parts moved in parallel
 * (formatVersion 2, engine/backup-parts/); the floors: the raw tar uploaded to Azurite as one
 * stream, and `cp -a` of a data directory. Prints seconds, ratios and peak RSS (sampled every
 * 50 ms, this process only: tar and pg_basebackup run apart) and CPU seconds of the runner and
 * its tools (not PostgreSQL's nor Azurite's); never asserts.
 *
 *   npm run bench:backup -- [pgbench scale, default 100] [part MiB, default 64] [parallel, default 4]
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startSandbox } from '../devkit/sandbox.js';
import { takeBaseBackup } from '../src/engine/backup.js';
import { restoreBaseBackup } from '../src/engine/restore-base.js';
import { pgBasebackupArgs } from '../src/engine/pg-args.js';
import { makeOwnedDir } from '../src/engine/local-cluster.js';
import { osUserIds } from '../src/engine/os-user.js';
import { parseConnectionUrl } from '../src/util/connection-url.js';
import type { BackupManifest } from '../src/catalog/catalog.js';

const SCALE = Number(process.argv[2] ?? 100);
const PART_MIB = Number(process.argv[3] ?? 64);
const PARALLEL = Number(process.argv[4] ?? 4);
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
  const freshDir = async (name: string) => {
    const dir = join(sandbox.root, 'bench', name);
    await makeOwnedDir(dir, owner);
    return dir;
  };

  // Floor: the same tar, uncompressed, in a local file first, then uploaded as one stream.
  const rawTar = join(sandbox.root, 'raw.tar');
  await timed('pg_basebackup to a local file (uncompressed tar)', async () => {
    const [file, args] = pgBasebackupArgs(pg.bin, source, 'bench raw', 'none');
    const child = sandbox.exec.spawn(file, args, { stdoutStream: true, timeoutMs: 3_600_000 });
    await Promise.all([child, pipeline(child.stdout!, createWriteStream(rawTar))]);
  });
  const rawBytes = (await stat(rawTar)).size;
  const rawUpload = await timed('raw tar uploaded to Azurite (one stream)', () => sandbox.storage.backups.put('bench/raw.tar', createReadStream(rawTar)));
  await sandbox.storage.backups.delete('bench/raw.tar');

  // Old: one client-gzip:1 stream into one blob.
  const oldBackup = await timed('old backup (gzip, one blob)', async () => {
    const [file, args] = pgBasebackupArgs(pg.bin, source, 'bench old', 'gzip');
    const child = sandbox.exec.spawn(file, args, { stdoutStream: true, timeoutMs: 3_600_000 });
    const hash = createHash('sha256');
    let bytes = 0;
    const measured = new PassThrough();
    child.stdout!.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    child.stdout!.pipe(measured);
    await Promise.all([child, sandbox.storage.backups.put(`${sandbox.storage.backupPrefix}old/base.tar.gz`, measured)]);
    return { bytes, sha256: hash.digest('hex') };
  });

  const newBackup = await timed(`new backup (LZ4 parts of ${PART_MIB} MiB, ${PARALLEL} at once)`, () => takeBaseBackup(ctx, pg, source));
  const manifest = newBackup.value;
  const stored = manifest.files.reduce((sum, f) => sum + f.bytes, 0);
  const oldManifest: BackupManifest = { ...manifest, formatVersion: 1, id: 'old', files: [{ name: 'base.tar.gz', bytes: oldBackup.value.bytes, sha256: oldBackup.value.sha256 }] };

  const oldRestore = await timed('old restore (tar --extract --gzip)', async () => restoreBaseBackup(ctx, pg, oldManifest, await freshDir('old')));
  const newRestore = await timed('new restore (parts in parallel)', async () => restoreBaseBackup(ctx, pg, manifest, await freshDir('new')));
  const cpFloor = await timed('cp -a of the restored directory (floor)', () => sandbox.exec.run('cp', ['-a', join(sandbox.root, 'bench', 'new'), join(sandbox.root, 'bench', 'cp')], { timeoutMs: 3_600_000 }));
  await rm(join(sandbox.root, 'bench'), { recursive: true, force: true });
  await rm(rawTar, { force: true });

  const mibps = (bytes: number, seconds: number) => Math.round(bytes / MiB / seconds);
  const result = {
    scale: SCALE,
    tar_mib: Math.round(rawBytes / MiB),
    parts: manifest.files.length,
    stored_mib: { old_gzip: Math.round(oldBackup.value.bytes / MiB), new_lz4: Math.round(stored / MiB) },
    backup_s: { old: +oldBackup.seconds.toFixed(1), new: +newBackup.seconds.toFixed(1) },
    raw_upload_s: +rawUpload.seconds.toFixed(1),
    backup_throughput_over_raw_upload: +((rawBytes / newBackup.seconds) / (rawBytes / rawUpload.seconds)).toFixed(2),
    restore_s: { old: +oldRestore.seconds.toFixed(1), new: +newRestore.seconds.toFixed(1), cp_floor: +cpFloor.seconds.toFixed(1) },
    restore_new_over_old: +(newRestore.seconds / oldRestore.seconds).toFixed(2),
    restore_new_over_cp: +(newRestore.seconds / cpFloor.seconds).toFixed(2),
    tar_mib_per_s: { backup_old: mibps(rawBytes, oldBackup.seconds), backup_new: mibps(rawBytes, newBackup.seconds), restore_old: mibps(rawBytes, oldRestore.seconds), restore_new: mibps(rawBytes, newRestore.seconds) },
    cpu_s_runner_and_tools: { backup_old: oldBackup.cpu, backup_new: newBackup.cpu, restore_old: oldRestore.cpu, restore_new: newRestore.cpu },
    peak_rss_mib: { backup_old: oldBackup.peakRssMiB, backup_new: newBackup.peakRssMiB, restore_old: oldRestore.peakRssMiB, restore_new: newRestore.peakRssMiB },
    rss_growth_mib: { backup_old: oldBackup.growthMiB, backup_new: newBackup.growthMiB, restore_old: oldRestore.growthMiB, restore_new: newRestore.growthMiB },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await sandbox.cleanup();
}
