/**
 * Base backup parts are stored as a sequence of standard LZ4 frames, each holding at most
 * 4 MiB of tar bytes in one block, with its content size: `lz4 -d` (which restores run through
 * tar, restore-parts.ts) and `lz4cat` read them. Integrity comes from the sha256 of the whole
 * stored part (manifest), so frames carry no checksums of their own.
 *
 * Why not lz4-napi's compressFrame: on this kind of machine its frame codec ran at ~250 MiB/s
 * per core on pgbench pages, against ~1.2-1.5 GiB/s for its block codec (compress, on libuv's
 * thread pool). So frames are written here around the block codec: a 15-byte header, one
 * block (or the raw bytes when they do not shrink), an end mark.
 */
import { compress } from 'lz4-napi';

export const FRAME_MAGIC = 0x184d2204;
/** LZ4 frame block maximum (BD = 7): the largest raw chunk one frame of ours holds. */
export const MAX_FRAME_RAW = 4 * 1024 * 1024;
const FLG_VERSION = 0x40;
const FLG_BLOCK_INDEPENDENT = 0x20;
const FLG_CONTENT_SIZE = 0x08;
const BD_4MIB = 0x70;
const UNCOMPRESSED_BIT = 0x80000000;

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;
const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;

/** xxHash32 of a short input (< 16 bytes: the frame descriptor), seed 0. */
export function xxh32Short(input: Uint8Array): number {
  if (input.length >= 16) throw new Error('xxh32Short handles inputs under 16 bytes');
  let h = (P5 + input.length) >>> 0;
  let i = 0;
  for (; i + 4 <= input.length; i += 4) {
    const word = (input[i]! | (input[i + 1]! << 8) | (input[i + 2]! << 16) | (input[i + 3]! << 24)) >>> 0;
    h = (h + Math.imul(word, P3)) >>> 0;
    h = Math.imul(rotl(h, 17), P4) >>> 0;
  }
  for (; i < input.length; i++) {
    h = (h + Math.imul(input[i]!, P5)) >>> 0;
    h = Math.imul(rotl(h, 11), P1) >>> 0;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, P3) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

function frameHeader(rawLength: number): Buffer {
  const header = Buffer.alloc(4 + 2 + 8 + 1);
  header.writeUInt32LE(FRAME_MAGIC, 0);
  header[4] = FLG_VERSION | FLG_BLOCK_INDEPENDENT | FLG_CONTENT_SIZE;
  header[5] = BD_4MIB;
  header.writeBigUInt64LE(BigInt(rawLength), 6);
  header[14] = (xxh32Short(header.subarray(4, 14)) >>> 8) & 0xff;
  return header;
}

/** One frame of ≤ 4 MiB; the block codec runs on libuv's thread pool. */
export async function encodeFrame(raw: Buffer): Promise<Buffer> {
  if (raw.length > MAX_FRAME_RAW) throw new Error(`an LZ4 frame block holds at most ${MAX_FRAME_RAW} bytes, got ${raw.length}`);
  const block = raw.length === 0 ? Buffer.alloc(0) : (await compress(raw)).subarray(4); // drop lz4-napi's size prefix
  const stored = block.length > 0 && block.length < raw.length;
  const size = Buffer.alloc(4);
  size.writeUInt32LE(stored ? block.length : (raw.length | UNCOMPRESSED_BIT) >>> 0, 0);
  const parts = raw.length === 0 ? [frameHeader(0)] : [frameHeader(raw.length), size, stored ? block : raw];
  return Buffer.concat([...parts, Buffer.alloc(4)]);
}
