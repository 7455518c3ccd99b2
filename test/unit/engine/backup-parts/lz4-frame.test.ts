import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { compressFrame } from 'lz4-napi';
import { decodeFrame, encodeFrame, FrameFormatError, FrameReader, MAX_FRAME_RAW, xxh32Short } from '../../../../src/engine/backup-parts/lz4-frame.js';

/** Page-like bytes: compressible runs with some noise, as table files are. */
function tableLike(length: number): Buffer {
  const out = Buffer.alloc(length, 0x20);
  for (let offset = 0; offset < length; offset += 97) out.writeUInt32LE((offset * 2654435761) >>> 0, Math.min(offset, length - 4));
  return out;
}

async function decodeAll(stored: Buffer, chunk: number): Promise<Buffer> {
  const reader = new FrameReader();
  const out: Buffer[] = [];
  for (let offset = 0; offset < stored.length; offset += chunk) for (const frame of reader.push(stored.subarray(offset, offset + chunk))) out.push(await decodeFrame(frame));
  reader.end();
  return Buffer.concat(out);
}

describe('LZ4 frames of base backup parts', () => {
  it('the header checksum is xxHash32 as the LZ4 frame format defines it (same byte lz4-napi writes)', async () => {
    const theirs = await compressFrame(Buffer.from('x'));
    expect((xxh32Short(theirs.subarray(4, 6)) >>> 8) & 0xff).toBe(theirs[6]);
    expect(xxh32Short(Buffer.alloc(0))).toBe(0x02cc5d05); // published test vector
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from('a')],
    ['incompressible (stored uncompressed)', randomBytes(100_000)],
    ['table-like, full 4 MiB block', tableLike(MAX_FRAME_RAW)],
  ])('%s: round trip through FrameReader in odd chunks, and `lz4 -d` reads it', async (_name, raw) => {
    const frame = await encodeFrame(raw);
    expect((await decodeAll(frame, 333)).equals(raw)).toBe(true);
    expect(execFileSync('lz4', ['-dc'], { input: frame, maxBuffer: 16 * 1024 * 1024 }).equals(raw)).toBe(true);
  });

  it('a sequence of frames, including one from another writer (checksums, several blocks), decodes in order', async () => {
    const a = tableLike(MAX_FRAME_RAW);
    const b = randomBytes(70_000);
    const c = tableLike(5 * 1024 * 1024);
    const stored = Buffer.concat([await encodeFrame(a), await encodeFrame(b), await compressFrame(c, { contentChecksum: true, blockChecksums: true })]);
    expect((await decodeAll(stored, 65_536)).equals(Buffer.concat([a, b, c]))).toBe(true);
  });

  it('refuses a raw chunk over 4 MiB, a bad magic, a damaged header and a truncated frame', async () => {
    await expect(encodeFrame(Buffer.alloc(MAX_FRAME_RAW + 1))).rejects.toThrow(/at most/);
    const frame = await encodeFrame(tableLike(10_000));
    expect(() => new FrameReader().push(Buffer.from('not a frame at all'))).toThrow(FrameFormatError);
    const damaged = Buffer.from(frame);
    damaged[8] = damaged[8]! ^ 0xff; // content size, covered by the header checksum
    expect(() => new FrameReader().push(damaged)).toThrow(/header checksum/);
    const reader = new FrameReader();
    expect(reader.push(frame.subarray(0, frame.length - 3))).toEqual([]);
    expect(() => reader.end()).toThrow(/truncated/);
  });
});
