/**
 * bsdtar pads what it writes to a pipe or socket up to its block size with zero bytes, also
 * after a compressed stream. bsdtar reads past them, but `zstd -d` (GNU tar's decompressor
 * on runners without bsdtar) refuses the part ("unsupported format"). This pass-through
 * follows the zstd or LZ4 frame structure (headers and block sizes only, no decoding), hands
 * on the frames and drops the padding after the last one, which must be zeros. It also
 * refuses output that ends inside a frame: a part is stored whole or not at all.
 *
 * zstd (RFC 8878): magic FD2FB528, a descriptor byte saying how long the header is, blocks
 * with a 3-byte header (last-block bit, type, size; an RLE block stores 1 byte), then a
 * 4-byte checksum when the descriptor asks for one.
 * LZ4 frame: magic 184D2204, FLG and BD bytes, optional content size and dictionary id, a
 * header checksum byte, blocks with a 4-byte size (0 ends the frame) and optional block
 * checksums, then an optional 4-byte content checksum.
 */
import { Transform, type TransformCallback } from 'node:stream';

export type FrameCodec = 'zstd' | 'lz4';

const ZSTD_MAGIC = 0xfd2fb528;
const LZ4_MAGIC = 0x184d2204;

export class FrameFormatError extends Error {}

type State = 'frame' | 'blocks' | 'after-frame' | 'padding';

export class FrameEnd extends Transform {
  private carry: Buffer = Buffer.alloc(0);
  private state: State = 'frame';
  private skip = 0;
  private frames = 0;
  private blockChecksum = false;
  private contentChecksum = false;

  constructor(private readonly codec: FrameCodec) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
      const used = this.parse(data);
      if (this.state === 'padding') {
        if (used > 0) this.push(data.subarray(0, used));
        this.checkZeros(data.subarray(used));
        this.carry = Buffer.alloc(0);
      } else {
        if (used > 0) this.push(data.subarray(0, used));
        this.carry = Buffer.from(data.subarray(used));
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.frames === 0 || this.skip > 0 || this.carry.length > 0 || this.state === 'frame' || this.state === 'blocks') {
      callback(new FrameFormatError(`the ${this.codec} output ended inside a frame`));
      return;
    }
    callback();
  }

  private checkZeros(bytes: Buffer): void {
    for (const byte of bytes) if (byte !== 0) throw new FrameFormatError(`non-zero bytes after the last ${this.codec} frame`);
  }

  /** Consumes whole frame pieces from `data`; returns how many bytes belong to frames (the rest waits for more input). */
  private parse(data: Buffer): number {
    if (this.state === 'padding') return 0;
    let at = 0;
    while (at < data.length) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, data.length - at);
        this.skip -= take;
        at += take;
        continue;
      }
      if (this.state === 'after-frame') {
        if (data[at] === 0) {
          this.state = 'padding';
          return at;
        }
        this.state = 'frame';
      }
      const step = this.state === 'frame' ? this.frameHeader(data, at) : this.blockHeader(data, at);
      if (step === null) return at;
      at += step;
    }
    return at;
  }

  /** Length of the frame header at `at` (and sets up the blocks), or null when more bytes are needed. */
  private frameHeader(data: Buffer, at: number): number | null {
    if (data.length - at < 6) return null;
    const magic = data.readUInt32LE(at);
    if (this.codec === 'zstd') {
      if (magic !== ZSTD_MAGIC) throw new FrameFormatError('not a zstd frame');
      const descriptor = data[at + 4]!;
      const singleSegment = (descriptor >> 5) & 1;
      const fcsFlag = descriptor >> 6;
      const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
      const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
      this.contentChecksum = ((descriptor >> 2) & 1) === 1;
      const length = 5 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
      if (data.length - at < length) return null;
      this.state = 'blocks';
      return length;
    }
    if (magic !== LZ4_MAGIC) throw new FrameFormatError('not an LZ4 frame');
    const flags = data[at + 4]!;
    if (flags >> 6 !== 1) throw new FrameFormatError('unknown LZ4 frame version');
    this.blockChecksum = ((flags >> 4) & 1) === 1;
    this.contentChecksum = ((flags >> 2) & 1) === 1;
    const length = 7 + ((flags >> 3) & 1 ? 8 : 0) + (flags & 1 ? 4 : 0);
    if (data.length - at < length) return null;
    this.state = 'blocks';
    return length;
  }

  private blockHeader(data: Buffer, at: number): number | null {
    if (this.codec === 'zstd') {
      if (data.length - at < 3) return null;
      const header = data.readUIntLE(at, 3);
      const last = header & 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw new FrameFormatError('reserved zstd block type');
      this.skip = type === 1 ? 1 : size;
      if (last) this.endFrame();
      return 3;
    }
    if (data.length - at < 4) return null;
    const word = data.readUInt32LE(at);
    if (word === 0) {
      this.endFrame();
      return 4;
    }
    this.skip = (word & 0x7fffffff) + (this.blockChecksum ? 4 : 0);
    return 4;
  }

  private endFrame(): void {
    this.skip += this.contentChecksum ? 4 : 0;
    this.frames += 1;
    this.state = 'after-frame';
  }
}
