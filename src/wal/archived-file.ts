/**
 * Reading one archived WAL file back: unpack it and check it against what was recorded when
 * it was archived. Every reader (the prefetching fetcher, the agent, `recover wal-fetch`,
 * the catalog's history files) goes through here, so a damaged archive copy is always
 * reported the same way: which file, where it is stored, and what the operator can do —
 * never a decoder's bare "0 is not a valid match offset".
 */
import { createHash } from 'node:crypto';
import { RecoverError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { ExpectedSegment } from '../catalog/catalog.js';
import { decodeWalBuffer, walCrc32 } from './compression.js';

export type { ExpectedSegment };

/** Where a file lives, for messages: the store's description names account and container. */
export interface ArchivedFileRef {
  name: string;
  key: string;
  store: Pick<BlobStore, 'description'>;
}

/** Why `raw` differs from what was archived, or null: size, then the CRC (cheap) or else sha256. */
export function archivedMismatch(raw: Buffer, expected: ExpectedSegment | undefined): string | null {
  if (!expected) return null;
  if (expected.size !== raw.length) return `it unpacked to ${raw.length} bytes, ${expected.size} were archived`;
  if (expected.crc32) return expected.crc32 === walCrc32(raw) ? null : 'its CRC-32 differs from the one recorded when it was archived';
  if (expected.sha256) return expected.sha256 === createHash('sha256').update(raw).digest('hex') ? null : 'its sha256 differs from the one recorded when it was archived';
  return null;
}

/** The checks recorded in a blob's metadata by our own archiving (absent for other tools' files). */
export function expectedFromMetadata(metadata: Record<string, string>, storedSize: number): ExpectedSegment | undefined {
  const { sha256, crc32, rawsize } = metadata;
  if (!sha256 && !crc32 && !rawsize) return undefined;
  const size = Number(rawsize);
  return { size: Number.isFinite(size) && size > 0 ? size : storedSize, ...(sha256 ? { sha256 } : {}), ...(crc32 ? { crc32 } : {}) };
}

export function walCorrupt(ref: ArchivedFileRef, detail: string, cause?: unknown): RecoverError {
  return new RecoverError('WAL_CORRUPT', `The archived copy of WAL file ${ref.name} is corrupt: ${detail} (${ref.store.description}, blob ${ref.key}).`, {
    hint:
      `Recovery cannot replay past ${ref.name}. Put an intact copy back under that blob name (from the source server's pg_wal, a standby, or a storage backup / soft-deleted version), ` +
      `or choose a recovery target before this segment. Check the storage account's health: other files may be damaged too.`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Unpacks a stored file and checks it; any failure is a WAL_CORRUPT naming the file. */
export async function decodeArchivedFile(stored: Buffer, ref: ArchivedFileRef, expected: ExpectedSegment | undefined): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await decodeWalBuffer(stored);
  } catch (error) {
    throw walCorrupt(ref, `it cannot be unpacked (${error instanceof Error ? error.message : String(error)})`, error);
  }
  const mismatch = archivedMismatch(raw, expected);
  if (mismatch) throw walCorrupt(ref, mismatch);
  return raw;
}
