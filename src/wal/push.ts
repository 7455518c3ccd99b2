/**
 * Archiving one WAL file (what archive_command does). Idempotent: the same bytes already
 * stored succeed; different bytes under the same name fail loudly and are never overwritten,
 * because overwriting would silently replace history another restore may depend on.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { RecoverError } from '../errors.js';
import { BlobExistsError, type Storage } from '../storage/blob-store.js';
import type { Logger } from '../types.js';
import { compressWal, shouldCompress, walCrc32, WAL_COMPRESSION } from './compression.js';
import { walFileKind } from '../catalog/segments.js';

export type PushOutcome = 'uploaded' | 'already-archived';

export async function pushWalFile(storage: Storage, log: Logger, path: string, name: string, now: () => Date = () => new Date()): Promise<PushOutcome> {
  const kind = walFileKind(name);
  if (!kind) {
    throw new RecoverError('BAD_INPUT', `"${name}" is not a WAL file name; refusing to archive it.`, {
      hint: 'archive_command must pass %f (the file name) and %p (its path).',
    });
  }
  const raw = await readFile(path);
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const key = `${storage.walPrefix}${name}`;
  const compressed = shouldCompress(kind);
  const body = compressed ? await compressWal(raw) : raw;
  try {
    // sha256, crc32 and rawsize describe the bytes PostgreSQL wrote (a restore checks the
    // size and the CRC, ~3x cheaper than sha256 on the CPU replay needs; sha256 decides idempotency);
    // archivedat is the millisecond archive time (blob Last-Modified is only precise to the
    // second, and deciding which segments a time target needs compares against it).
    const metadata = { sha256, crc32: walCrc32(raw), rawsize: String(raw.length), archivedat: now().toISOString(), ...(compressed ? { compression: WAL_COMPRESSION } : {}) };
    await storage.wal.put(key, body, { ifNotExists: true, metadata });
    return 'uploaded';
  } catch (error) {
    if (!(error instanceof BlobExistsError)) throw error;
  }
  const existing = await storage.wal.head(key);
  const existingSize = Number(existing?.metadata.rawsize ?? existing?.size);
  if (existing && existing.metadata.sha256 === sha256 && existingSize === raw.length) return 'already-archived';
  log.error(
    { wal: name, storedSha256: existing?.metadata.sha256, localSha256: sha256, store: storage.wal.description },
    'WAL ARCHIVE CONFLICT: a different file with this name is already archived; refusing to overwrite',
  );
  throw new RecoverError('WAL_CONFLICT', `WAL file ${name} is already archived with different contents; it was not overwritten.`, {
    hint: 'Two clusters may be archiving into the same container (e.g. a restored copy with archiving left on). Give each cluster its own prefix or container, and investigate before deleting anything.',
  });
}
