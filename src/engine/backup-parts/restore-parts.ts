/**
 * The restore half of parted base backups (manifest formatVersion 2): up to `parallel` parts
 * at once, each downloaded, hashed, decoded frame by frame (lz4-frame.ts) and fed to its own
 * `tar --extract` running as the postgres OS user. Nothing is held whole: per part, one frame
 * and the pipes' buffers. A part whose sha256 or size does not match the manifest, or that
 * does not decode, is BACKUP_CORRUPT naming that part; the others are stopped.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { RecoverError } from '../../errors.js';
import { BlobNotFoundError } from '../../storage/blob-store.js';
import { storageFailure } from '../../storage/errors.js';
import type { BackupManifest } from '../../catalog/catalog.js';
import type { EngineContext, PgToolConfig } from '../context.js';
import { tarExtractArgs } from '../pg-args.js';
import { runBounded } from './bounded.js';
import { decodeFrame, FrameReader } from './lz4-frame.js';

type BackupFile = BackupManifest['files'][number];

const corrupt = (backup: BackupManifest, file: BackupFile, what: string) =>
  new RecoverError('BACKUP_CORRUPT', `Base backup ${backup.id} part ${file.name} ${what}.`, {
    hint: 'Do not use this backup. Restore from an older backup with --backup, and check the storage account.',
  });

async function storedSha256(ctx: EngineContext, key: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await ctx.storage.backups.getStream(key, signal)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface RestorePartsOptions {
  parallel: number;
  /** Called with the number of stored bytes just downloaded (for progress across parts). */
  onStoredBytes: (bytes: number) => void;
}

export async function restoreParts(ctx: EngineContext, tools: PgToolConfig, backup: BackupManifest, dataDir: string, options: RestorePartsOptions): Promise<void> {
  try {
    await extractAll(ctx, tools, backup, dataDir, options);
  } catch (error) {
    if (ctx.signal.aborted && !(error instanceof RecoverError && error.code === 'CANCELLED')) {
      throw new RecoverError('CANCELLED', `Restoring base backup ${backup.id} was stopped because the job was cancelled.`, { cause: error });
    }
    throw error;
  }
}

async function extractAll(ctx: EngineContext, tools: PgToolConfig, backup: BackupManifest, dataDir: string, options: RestorePartsOptions): Promise<void> {
  await runBounded(backup.files, options.parallel, ctx.signal, async (file, _index, shared) => {
    const key = `${ctx.storage.backupPrefix}${backup.id}/${file.name}`;
    const local = new AbortController();
    const stop = () => local.abort(shared.reason);
    shared.addEventListener('abort', stop, { once: true });
    try {
      let source: Readable;
      try {
        source = await ctx.storage.backups.getStream(key, local.signal);
      } catch (error) {
        if (error instanceof BlobNotFoundError) {
          throw new RecoverError('BACKUP_CORRUPT', `Base backup ${backup.id} is incomplete: part ${file.name} is missing from storage.`, {
            hint: 'Do not use this backup (someone deleted part of it). Restore from another backup with --backup, and check the storage account.',
          });
        }
        throw error;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      let failure: unknown;
      const reader = new FrameReader();
      async function* tarBytes(): AsyncGenerator<Buffer> {
        try {
          for await (const chunk of source) {
            hash.update(chunk as Buffer);
            bytes += (chunk as Buffer).length;
            options.onStoredBytes((chunk as Buffer).length);
            let frames;
            try {
              frames = reader.push(chunk as Buffer);
              for (const frame of frames) yield await decodeFrame(frame);
            } catch (error) {
              throw corrupt(backup, file, `does not decode (${(error as Error).message})`);
            }
          }
          try {
            reader.end();
          } catch (error) {
            throw corrupt(backup, file, `is truncated (${(error as Error).message})`);
          }
        } catch (error) {
          failure ??= error instanceof RecoverError ? error : storageFailure(ctx.storage.backups.description, 'download', key, error);
          local.abort(error); // stops tar; the error is reported below, not as a cancelled tar
        }
      }
      const [command, args] = tarExtractArgs(dataDir, false);
      try {
        // tar runs as the postgres OS user so every extracted file is owned by it.
        await ctx.exec.run(command, args, { asUser: tools.osUser, input: Readable.from(tarBytes()), signal: local.signal, timeoutMs: 6 * 3600_000 });
      } catch (error) {
        if (failure) throw failure;
        if (shared.aborted) throw error;
        // tar refused the bytes: blame the part if it is not what was stored, else tar.
        if ((await storedSha256(ctx, key, shared)) !== file.sha256) throw corrupt(backup, file, 'does not match its manifest checksum');
        throw error;
      }
      if (failure) throw failure;
      if (bytes !== file.bytes || hash.digest('hex') !== file.sha256) throw corrupt(backup, file, 'does not match its manifest checksum');
    } finally {
      shared.removeEventListener('abort', stop);
    }
  });
}
