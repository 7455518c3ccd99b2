/**
 * Streams a base backup from storage into a fresh data directory, checking its checksums:
 * formatVersion 2 in parallel parts (backup-parts/restore-parts.ts), formatVersion 1 as the
 * single gzip tar it is.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RecoverError } from '../errors.js';
import type { BackupManifest } from '../catalog/catalog.js';
import { defaultBaseTransfer, nowIso, type EngineContext, type PgToolConfig } from './context.js';
import { tarExtractArgs, type TarTool } from './pg-args.js';
import { resolveTarTool } from './tar-tool.js';
import { hashingCounter } from '../util/streams.js';
import { restoreParts } from './backup-parts/restore-parts.js';

/** Files a base backup may hold (pg_basebackup copies some) that must not survive into a restored cluster. */
const STALE_FILES = ['postmaster.pid', 'postmaster.opts', 'standby.signal', 'recovery.signal'];
const REPORT_EVERY = 16 * 1024 * 1024;

/** `onLastPartsStarted`: every part of a parted backup is on its way (restore-parts.ts); never called for a single tar. */
export async function restoreBaseBackup(ctx: EngineContext, tools: PgToolConfig, backup: BackupManifest, dataDir: string, hooks: { onLastPartsStarted?: () => void } = {}): Promise<{ bytes: number }> {
  const existing = await readdir(dataDir);
  if (existing.length > 0) {
    throw new RecoverError('RESTORE_FAILED', `The target directory ${dataDir} is not empty; refusing to restore over it.`, {
      hint: 'Choose a new instance name, or move the directory aside first.',
    });
  }
  const total = backup.files.reduce((sum, file) => sum + file.bytes, 0);
  const tar = await resolveTarTool(ctx, tools);
  const progress = (done: number) => ctx.events.emit({ type: 'step.progress', at: nowIso(ctx.clock), step: 'restore-base-backup', done, total, unit: 'bytes' });
  if (backup.formatVersion === 2) {
    let done = 0;
    let reported = 0;
    const parallel = tools.baseTransfer?.parallel ?? defaultBaseTransfer().parallel;
    await restoreParts(ctx, tools, backup, dataDir, {
      parallel,
      tar,
      ...(hooks.onLastPartsStarted ? { onLastPartsStarted: hooks.onLastPartsStarted } : {}),
      onStoredBytes: (bytes) => {
        done += bytes;
        if (done - reported < REPORT_EVERY) return;
        reported = done;
        progress(done);
      },
    });
  } else {
    await restoreSingleTar(ctx, tools, backup, dataDir, tar, progress);
  }
  for (const name of STALE_FILES) await rm(join(dataDir, name), { force: true });
  progress(total);
  return { bytes: total };
}

/** formatVersion 1: base.tar.gz, one stream through bsdtar or `tar --extract --gzip`. */
async function restoreSingleTar(ctx: EngineContext, tools: PgToolConfig, backup: BackupManifest, dataDir: string, tar: TarTool, progress: (done: number) => void): Promise<void> {
  let done = 0;
  for (const file of backup.files) {
    const key = `${ctx.storage.backupPrefix}${backup.id}/${file.name}`;
    const source = await ctx.storage.backups.getStream(key, ctx.signal);
    const before = done;
    const measure = hashingCounter((bytes) => progress(before + bytes), REPORT_EVERY);
    source.on('error', (error) => measure.stream.destroy(error));
    const [command, args] = tarExtractArgs(dataDir, file.name.endsWith('.gz') ? 'gzip' : 'none', tar);
    // tar runs as the postgres OS user so every extracted file is owned by it.
    await ctx.exec.run(command, args, { asUser: tools.osUser, input: source.pipe(measure.stream), signal: ctx.signal, timeoutMs: 6 * 3600_000 });
    done += measure.bytes();
    const sha256 = measure.sha256();
    if (sha256 !== file.sha256) {
      throw new RecoverError('BACKUP_CORRUPT', `Base backup ${backup.id} file ${file.name} does not match its manifest checksum.`, {
        hint: 'Do not use this backup. Restore from an older backup with --backup, and check the storage account.',
      });
    }
  }
}
