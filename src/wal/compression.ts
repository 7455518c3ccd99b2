/**
 * WAL segments are stored LZ4-compressed (frame format, readable by the `lz4` tool):
 * pgbench-like WAL shrinks 3-5x, so a restore moves that much less through the storage
 * service, and LZ4 decompresses a 16 MiB segment in ~10-20 ms — gzip needs ~45 ms, which on
 * a 2-core runner steals enough CPU from WAL replay to slow the whole restore. Readers detect
 * the format by its magic bytes (a WAL page starts with PostgreSQL's page magic, never an
 * LZ4 or gzip header), so gzip-compressed or uncompressed archives still restore.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { compressFrame, decompressFrame } from 'lz4-napi';
import { readStreamToBuffer } from '../util/streams.js';
import type { WalFileKind } from './segments.js';

export const WAL_COMPRESSION = 'lz4';

export function shouldCompress(kind: WalFileKind): boolean {
  // History and .backup files are small text people read directly in the container.
  return kind === 'segment' || kind === 'partial';
}

/** LZ4 frame; runs on libuv's thread pool, off the event loop. */
export function compressWal(raw: Buffer): Promise<Buffer> {
  return compressFrame(raw);
}

export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export function isLz4Frame(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32LE(0) === 0x184d2204;
}

/** The stored bytes as PostgreSQL wrote them: gunzipped when compressed, as is otherwise. */
export async function decodeWal(source: Readable): Promise<Readable> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // Enough bytes to see the magic, however the transport happened to split them.
  let head = Buffer.alloc(0);
  while (head.length < 4) {
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
  if (isLz4Frame(head)) return Readable.from([await decompressFrame(await readStreamToBuffer(whole))]);
  if (!isGzip(head)) return whole;
  const gunzip = createGunzip();
  whole.on('error', (error) => gunzip.destroy(error));
  return whole.pipe(gunzip);
}
