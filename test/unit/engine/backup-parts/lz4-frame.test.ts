import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { compressFrame } from 'lz4-napi';
import { encodeFrame, MAX_FRAME_RAW, xxh32Short } from '../../../../src/engine/backup-parts/lz4-frame.js';

/** Page-like bytes: compressible runs with some noise, as table files are. */
function tableLike(length: number): Buffer {
  const out = Buffer.alloc(length, 0x20);
  for (let offset = 0; offset < length; offset += 97) out.writeUInt32LE((offset * 2654435761) >>> 0, Math.min(offset, length - 4));
  return out;
}

const lz4d = (input: Buffer) => execFileSync('lz4', ['-dc'], { input, maxBuffer: 64 * 1024 * 1024 });

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
    ['table-like, a full 4 MiB block', tableLike(MAX_FRAME_RAW)],
  ])('%s: `lz4 -d` reads it back', async (_name, raw) => {
    expect(lz4d(await encodeFrame(raw)).equals(raw)).toBe(true);
  });

  it('frames in a row read as one stream (a part is a sequence of frames)', async () => {
    const pieces = [tableLike(MAX_FRAME_RAW), randomBytes(70_000), tableLike(1234), Buffer.alloc(0)];
    const stored = Buffer.concat(await Promise.all(pieces.map(encodeFrame)));
    expect(stored.length).toBeLessThan(MAX_FRAME_RAW);
    expect(lz4d(stored).equals(Buffer.concat(pieces))).toBe(true);
  });

  it('refuses a raw chunk over one 4 MiB block', async () => {
    await expect(encodeFrame(Buffer.alloc(MAX_FRAME_RAW + 1))).rejects.toThrow(/at most/);
  });
});
