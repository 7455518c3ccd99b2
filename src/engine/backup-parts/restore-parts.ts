/**
 * The restore half of parted base backups (manifest formatVersion 2): up to `parallel` parts
 * at once, each downloaded, hashed and fed to its own tar running as the postgres OS user:
 * bsdtar, which unpacks zstd and LZ4 itself, or GNU tar, which decompresses the part with the
 * zstd CLI (`tar --zstd`) or the lz4 CLI, as the part's manifest entry says (no codec
 * recorded: lz4). A part whose sha256 or size does not match the manifest is BACKUP_CORRUPT
 * naming that part (also when tar or zstd/lz4 refused it first: the stored part is then hashed
 * again to tell a damaged part from a failing tool), a deleted part is named as missing; the
 * other parts are stopped.
 *
 * What did not win: decoding in Node with lz4-napi (block codec on libuv's pool, one 4 MiB
 * frame at a time per part). Its output buffers are native memory V8 does not account for, so
 * nothing collected them in time: RSS grew by ~1.2 GiB restoring a 1.5 GiB tar, and it was
 * slower than `lz4 -d` in its own process, which also leaves the event loop to the downloads.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { hashingCounter } from '../../util/streams.js';
import { RecoverError } from '../../errors.js';
import { BlobNotFoundError } from '../../storage/blob-store.js';
import { partCodec, type BackupManifest } from '../../catalog/catalog.js';
import type { EngineContext, PgToolConfig } from '../context.js';
import { tarExtractArgs, type TarTool } from '../pg-args.js';
import { runBounded } from './bounded.js';

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

/**
 * The order parts are extracted in: largest stored part first (ties: manifest order), so the
 * restore does not end on one big part extracting alone while the other slots sit idle. Pure.
 */
export function extractionOrder<T extends { bytes: number }>(files: readonly T[]): T[] {
  return files.map((file, index) => ({ file, index })).sort((a, b) => b.file.bytes - a.file.bytes || a.index - b.index).map(({ file }) => file);
}

export interface RestorePartsOptions {
  parallel: number;
  /** Which tar extracts the parts (tar-tool.ts). */
  tar: TarTool;
  /** Called with the number of stored bytes just downloaded (for progress across parts). */
  onStoredBytes: (bytes: number) => void;
  /** Called once every part has started: the slots that free up from here on have nothing left to extract. */
  onLastPartsStarted?: () => void;
}

export async function restoreParts(ctx: EngineContext, tools: PgToolConfig, backup: BackupManifest, dataDir: string, options: RestorePartsOptions): Promise<void> {
  try {
    const files = extractionOrder(backup.files);
    await runBounded(files, options.parallel, ctx.signal, (file, index, signal) => {
      if (index === files.length - 1) options.onLastPartsStarted?.();
      return restorePart(ctx, tools, backup, file, dataDir, signal, options);
    });
  } catch (error) {
    if (ctx.signal.aborted && !(error instanceof RecoverError && error.code === 'CANCELLED')) {
      throw new RecoverError('CANCELLED', `Restoring base backup ${backup.id} was stopped because the job was cancelled.`, { cause: error });
    }
    throw error;
  }
}

async function restorePart(ctx: EngineContext, tools: PgToolConfig, backup: BackupManifest, file: BackupFile, dataDir: string, signal: AbortSignal, options: RestorePartsOptions): Promise<void> {
  const key = `${ctx.storage.backupPrefix}${backup.id}/${file.name}`;
  let source: Readable;
  try {
    source = await ctx.storage.backups.getStream(key, signal);
  } catch (error) {
    if (error instanceof BlobNotFoundError) {
      throw new RecoverError('BACKUP_CORRUPT', `Base backup ${backup.id} is incomplete: part ${file.name} is missing from storage.`, {
        hint: 'Do not use this backup (someone deleted part of it). Restore from another backup with --backup, and check the storage account.',
      });
    }
    throw error;
  }
  // Progress across parts is summed by the caller: it gets what each chunk added.
  let reported = 0;
  const { stream: measure, bytes, sha256 } = hashingCounter((total) => {
    options.onStoredBytes(total - reported);
    reported = total;
  }, 0);
  source.on('error', (error) => measure.destroy(error));
  const [command, args] = tarExtractArgs(dataDir, partCodec(file), options.tar);
  try {
    // tar runs as the postgres OS user so every extracted file is owned by it.
    await ctx.exec.run(command, args, { asUser: tools.osUser, input: source.pipe(measure), signal, timeoutMs: 6 * 3600_000 });
  } catch (error) {
    if (signal.aborted) throw error;
    // tar or its decompressor refused the bytes: blame the part if it is not what was stored, else the tool.
    if ((await storedSha256(ctx, key, signal)) !== file.sha256) throw corrupt(backup, file, 'does not match its manifest checksum');
    throw error;
  }
  if (bytes() !== file.bytes || sha256() !== file.sha256) throw corrupt(backup, file, 'does not match its manifest checksum');
  ctx.failpoint?.('restore:part-extracted');
}
