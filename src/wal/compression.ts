/**
 * WAL segments are stored gzip-compressed (level 1): pgbench-like WAL shrinks 3-6x, so a
 * restore moves that much less data through the storage service, which is what limits
 * prefetch throughput. Readers detect compression by the gzip magic bytes (a WAL page
 * starts with PostgreSQL's page magic, never 1f 8b), so older uncompressed archives and
 * files written by other tools still restore.
 */
import { promisify } from 'node:util';
import { Readable } from 'node:stream';
import { constants, createGunzip, gzip } from 'node:zlib';
import type { WalFileKind } from './segments.js';

const gzipAsync = promisify(gzip);

export function shouldCompress(kind: WalFileKind): boolean {
  // History and .backup files are small text people read directly in the container.
  return kind === 'segment' || kind === 'partial';
}

export function compressWal(raw: Buffer): Promise<Buffer> {
  return gzipAsync(raw, { level: constants.Z_BEST_SPEED });
}

export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** The stored bytes as PostgreSQL wrote them: gunzipped when compressed, as is otherwise. */
export async function decodeWal(source: Readable): Promise<Readable> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // Enough bytes to see the magic, however the transport happened to split them.
  let head = Buffer.alloc(0);
  while (head.length < 2) {
    const next = await iterator.next();
    if (next.done) break;
    head = Buffer.concat([head, Buffer.from(next.value)]);
  }
  const whole = Readable.from(
    (async function* () {
      yield head;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    })(),
  );
  if (!isGzip(head)) return whole;
  const gunzip = createGunzip();
  whole.on('error', (error) => gunzip.destroy(error));
  return whole.pipe(gunzip);
}
