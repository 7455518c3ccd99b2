/**
 * How WAL segments are stored: LZ4-compressed, in a small container of our own — the four
 * bytes "RBL4", then an LZ4 block prefixed with its uncompressed size (little-endian u32).
 *
 * Why: a restore is limited by how fast the runner can fetch, unpack and check segments on
 * the same few cores that replay WAL. pgbench-like WAL shrinks ~4x with LZ4, and unpacking a
 * 16 MiB block costs ~5 ms of CPU (lz4-block.ts), against ~15-25 ms for an LZ4 frame and
 * ~25-45 ms for gzip. Integrity comes from the sha256 of the original bytes kept in the blob's metadata.
 *
 * Readers detect the format by magic bytes (a WAL page starts with PostgreSQL's page magic,
 * never one of these), so LZ4 frames and gzip (e.g. from other tools) and uncompressed files
 * still restore.
 */
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { crc32, gunzip } from 'node:zlib';
import { compress, decompressFrame } from 'lz4-napi';
import { decodeSizePrefixedBlock } from './lz4-block.js';
import { readStreamToBuffer } from '../util/streams.js';
import type { WalFileKind } from '../catalog/segments.js';

export const WAL_COMPRESSION = 'lz4-block';
const MAGIC = Buffer.from('RBL4', 'ascii');
const gunzipAsync = promisify(gunzip);

/** CRC-32 of the original bytes, 8 hex digits: the per-segment check a restore makes. */
export function walCrc32(raw: Buffer): string {
  return crc32(raw).toString(16).padStart(8, '0');
}

export function shouldCompress(kind: WalFileKind): boolean {
  // History and .backup files are small text people read directly in the container.
  return kind === 'segment' || kind === 'partial';
}

/** Runs on libuv's thread pool, off the event loop. */
export async function compressWal(raw: Buffer): Promise<Buffer> {
  return Buffer.concat([MAGIC, await compress(raw)]);
}

export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export function isLz4Frame(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32LE(0) === 0x184d2204;
}

export function isLz4Block(head: Buffer): boolean {
  return head.length >= 8 && head.subarray(0, 4).equals(MAGIC);
}

/** The bytes as PostgreSQL wrote them, whatever the stored format. */
export async function decodeWalBuffer(stored: Buffer): Promise<Buffer> {
  if (isLz4Block(stored)) {
    // "RBL4", the size (u32 LE), the block: lz4-napi's own output after our magic.
    return decodeSizePrefixedBlock(stored.subarray(4));
  }
  if (isLz4Frame(stored)) return decompressFrame(stored);
  if (isGzip(stored)) return gunzipAsync(stored);
  return stored;
}

/** Stream form for the CLI; a segment is at most 1 GiB (PostgreSQL's largest segment size). */
export async function decodeWal(source: Readable): Promise<Readable> {
  return Readable.from([await decodeWalBuffer(await readStreamToBuffer(source))]);
}
