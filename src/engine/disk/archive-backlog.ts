/**
 * Archiving the `.ready` backlog of a full pg_wal ourselves, so those segments can be removed
 * without losing the RPO. Each goes through the WAL agent's own upload (pushWalFile: the same
 * metadata, idempotent, never overwriting different bytes: WAL_CONFLICT), is then read back
 * and must unpack to exactly the bytes on disk (size, CRC and every byte), and only then is
 * PostgreSQL's `<name>.ready` renamed to `<name>.done` and the directory fsync'd. A failure
 * leaves that segment `.ready` (and so kept); the ones verified before it stay `.done`.
 */
import { readFile, rename, access } from 'node:fs/promises';
import { join } from 'node:path';
import { RecoverError } from '../../errors.js';
import type { Storage } from '../../storage/blob-store.js';
import { readStreamToBuffer } from '../../util/streams.js';
import { decodeArchivedFile, walCorrupt } from '../../wal/archived-file.js';
import { walCrc32 } from '../../wal/compression.js';
import { pushWalFile } from '../../wal/push.js';
import type { EngineContext } from '../context.js';
import { fsyncPath } from '../durable-file.js';

export interface BacklogResult {
  archived: number;
  /** Of those, already in the archive with the same bytes (an upload whose answer PostgreSQL never got). */
  alreadyThere: number;
  bytes: number;
}

/** Reads the stored copy back: it must unpack to exactly `raw`. */
export async function verifyArchived(storage: Storage, name: string, raw: Buffer): Promise<void> {
  const key = `${storage.walPrefix}${name}`;
  const ref = { name, key, store: storage.wal };
  const stored = await readStreamToBuffer(await storage.wal.getStream(key));
  const decoded = await decodeArchivedFile(stored, ref, { size: raw.length, crc32: walCrc32(raw) });
  if (!decoded.equals(raw)) throw walCorrupt(ref, 'its bytes differ from the segment in pg_wal although size and CRC match');
}

/** `.ready` → `.done`, durably; a `.done` already there (PostgreSQL's archiver got there first) is fine. */
async function markDone(statusDir: string, name: string): Promise<void> {
  try {
    await rename(join(statusDir, `${name}.ready`), join(statusDir, `${name}.done`));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await access(join(statusDir, `${name}.done`));
  }
  await fsyncPath(statusDir);
}

export async function archiveBacklog(ctx: EngineContext, walDir: string, names: readonly string[], step: string, parallel = 4): Promise<BacklogResult> {
  const statusDir = join(walDir, 'archive_status');
  const queue = [...names].sort();
  const result: BacklogResult = { archived: 0, alreadyThere: 0, bytes: 0 };
  let failure: unknown = null;
  const worker = async () => {
    while (queue.length > 0 && failure === null) {
      ctx.signal.throwIfAborted();
      const name = queue.shift()!;
      try {
        const path = join(walDir, name);
        const outcome = await pushWalFile(ctx.storage, ctx.log, path, name, () => ctx.clock.now());
        const raw = await readFile(path);
        await verifyArchived(ctx.storage, name, raw);
        await markDone(statusDir, name);
        result.archived++;
        if (outcome === 'already-archived') result.alreadyThere++;
        result.bytes += raw.length;
        ctx.events.emit({ type: 'step.progress', at: ctx.clock.now().toISOString(), step, done: result.archived, total: names.length, unit: 'segments', detail: name });
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, queue.length) }, worker));
  if (failure !== null) {
    const cause = failure as Error;
    throw new RecoverError(cause instanceof RecoverError ? cause.code : 'STORAGE_ERROR', `Archiving the waiting WAL stopped after ${result.archived} of ${names.length} segment(s): ${cause.message.split('\n')[0]} The others stay .ready and are kept.`, {
      hint: cause instanceof RecoverError && cause.hint ? cause.hint : 'Check storage from the database host, then run /recover disk --fix again.',
      cause,
    });
  }
  return result;
}
