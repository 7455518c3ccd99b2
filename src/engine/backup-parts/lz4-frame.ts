/**
 * Base backup parts are stored as a sequence of standard LZ4 frames (`lz4 -d` / `lz4cat`
 * read them), each holding at most 4 MiB of tar bytes in one block, with its content size.
 *
 * Why not lz4-napi's compressFrame/decompressFrame: on this kind of machine its frame codec
 * ran at ~250 MiB/s (compress) and ~100-160 MiB/s (decompress) per core on pgbench data,
 * against ~1.2-1.5 GiB/s and ~300-550 MiB/s for its block codec. So frames are written here
 * around the block codec (a 19-byte header, one block, an end mark), and read back the same
 * way; a frame of another shape (several blocks, checksums) still decodes through
 * decompressFrame. Integrity comes from the sha256 of the whole stored part (manifest).
 */
import { compress, decompressFrame, uncompress } from 'lz4-napi';

export const FRAME_MAGIC = 0x184d2204;
/** LZ4 frame block maximum (BD = 7): the largest raw chunk one frame of ours holds. */
export const MAX_FRAME_RAW = 4 * 1024 * 1024;
const FLG_VERSION = 0x40;
const FLG_BLOCK_INDEPENDENT = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;
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

/** A frame as read: header fields and its blocks, enough to decode it or to rebuild its bytes. */
export interface ParsedFrame {
  flg: number;
  contentSize: number | null;
  bytes: Buffer[];
  blocks: { data: Buffer; compressed: boolean }[];
}

export class FrameFormatError extends Error {}

/** Collects bytes and cuts them into whole frames as they arrive (incremental, no I/O). */
export class FrameReader {
  private queue: Buffer[] = [];
  private queued = 0;
  /** Bytes known to be needed before the next frame can be whole (saves re-walking on every chunk). */
  private awaiting = 0;

  push(chunk: Buffer): ParsedFrame[] {
    this.queue.push(chunk);
    this.queued += chunk.length;
    const frames: ParsedFrame[] = [];
    if (this.queued < this.awaiting) return frames;
    for (let frame = this.tryFrame(); frame; frame = this.tryFrame()) frames.push(frame);
    return frames;
  }

  /** Called at the end of input: leftover bytes mean a truncated part. */
  end(): void {
    if (this.queued > 0) throw new FrameFormatError(`${this.queued} bytes after the last whole LZ4 frame (truncated part)`);
  }

  private peek(offset: number, length: number): Buffer | null {
    if (offset + length > this.queued) {
      this.awaiting = offset + length;
      return null;
    }
    const out = Buffer.allocUnsafe(length);
    let skip = offset;
    let written = 0;
    for (const chunk of this.queue) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      const piece = chunk.subarray(skip, Math.min(chunk.length, skip + length - written));
      piece.copy(out, written);
      written += piece.length;
      skip = 0;
      if (written === length) break;
    }
    return out;
  }

  private take(length: number): Buffer {
    const pieces: Buffer[] = [];
    let left = length;
    while (left > 0) {
      const head = this.queue[0]!;
      if (head.length <= left) {
        pieces.push(head);
        this.queue.shift();
        left -= head.length;
      } else {
        pieces.push(head.subarray(0, left));
        this.queue[0] = head.subarray(left);
        left = 0;
      }
    }
    this.queued -= length;
    return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
  }

  /** Walks the frame's layout without consuming; takes it once every byte of it is here. */
  private tryFrame(): ParsedFrame | null {
    const start = this.peek(0, 6);
    if (!start) return null;
    if (start.readUInt32LE(0) !== FRAME_MAGIC) throw new FrameFormatError('not an LZ4 frame (bad magic number)');
    const flg = start[4]!;
    if ((flg & 0xc0) !== FLG_VERSION || flg & FLG_DICT_ID) throw new FrameFormatError(`unsupported LZ4 frame flags 0x${flg.toString(16)}`);
    const headerLength = 7 + (flg & FLG_CONTENT_SIZE ? 8 : 0);
    const header = this.peek(0, headerLength);
    if (!header) return null;
    if (((xxh32Short(header.subarray(4, headerLength - 1)) >>> 8) & 0xff) !== header[headerLength - 1]) throw new FrameFormatError('LZ4 frame header checksum mismatch');
    const layout: { offset: number; length: number; compressed: boolean }[] = [];
    let offset = headerLength;
    for (;;) {
      const sizeField = this.peek(offset, 4);
      if (!sizeField) return null;
      const size = sizeField.readUInt32LE(0);
      offset += 4;
      if (size === 0) break;
      const length = (size & ~UNCOMPRESSED_BIT) >>> 0;
      if (length > MAX_FRAME_RAW) throw new FrameFormatError(`LZ4 block of ${length} bytes exceeds the 4 MiB maximum`);
      layout.push({ offset, length, compressed: (size & UNCOMPRESSED_BIT) === 0 });
      offset += length + (flg & FLG_BLOCK_CHECKSUM ? 4 : 0);
    }
    offset += flg & FLG_CONTENT_CHECKSUM ? 4 : 0;
    if (offset > this.queued) {
      this.awaiting = offset;
      return null;
    }
    this.awaiting = 0;
    const whole = this.take(offset);
    const contentSize = flg & FLG_CONTENT_SIZE ? Number(whole.readBigUInt64LE(6)) : null;
    return { flg, contentSize, bytes: [whole], blocks: layout.map((b) => ({ data: whole.subarray(b.offset, b.offset + b.length), compressed: b.compressed })) };
  }
}

/** The raw bytes of one frame; the block codec when it is one of ours, else lz4-napi's frame codec. */
export async function decodeFrame(frame: ParsedFrame): Promise<Buffer> {
  const ours = frame.contentSize !== null && !(frame.flg & (FLG_BLOCK_CHECKSUM | FLG_CONTENT_CHECKSUM)) && frame.blocks.length <= 1;
  if (!ours) return decompressFrame(Buffer.concat(frame.bytes));
  const expected = frame.contentSize!;
  const block = frame.blocks[0];
  let raw: Buffer;
  if (!block) raw = Buffer.alloc(0);
  else if (!block.compressed) raw = block.data;
  else {
    const input = Buffer.allocUnsafe(4 + block.data.length);
    input.writeUInt32LE(expected, 0);
    block.data.copy(input, 4);
    raw = await uncompress(input);
  }
  if (raw.length !== expected) throw new FrameFormatError(`LZ4 frame decoded to ${raw.length} bytes, its header says ${expected}`);
  return raw;
}
