import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { readStreamToBuffer } from '../../../../src/util/streams.js';
import { FrameEnd, FrameFormatError, type FrameCodec } from '../../../../src/engine/backup-files/frame-end.js';
import { encodeFrame } from '../../../../src/engine/backup-parts/lz4-frame.js';

const u24 = (value: number) => Buffer.from([value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff]);
const u32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value >>> 0);
  return bytes;
};

/**
 * A zstd frame by hand (RFC 8878): single segment, 1-byte content size, a content checksum,
 * a raw block and a last RLE block. The checksum is chosen to end in zero bytes, as a real
 * one may: stripping trailing zeros blindly would cut it.
 */
function zstdFrame(raw: Buffer, rleByte: number, rleCount: number): Buffer {
  const header = Buffer.concat([u32(0xfd2fb528), Buffer.from([0x24, (raw.length + rleCount) & 0xff])]);
  const rawBlock = Buffer.concat([u24((raw.length << 3) | (0 << 1) | 0), raw]);
  const rleBlock = Buffer.concat([u24((rleCount << 3) | (1 << 1) | 1), Buffer.from([rleByte])]);
  return Buffer.concat([header, rawBlock, rleBlock, Buffer.from([0x7a, 0x00, 0x00, 0x00])]);
}

/** An LZ4 frame with block checksums and a content checksum, one uncompressed block. */
function lz4FrameWithChecksums(raw: Buffer): Buffer {
  const header = Buffer.concat([u32(0x184d2204), Buffer.from([0x40 | 0x20 | 0x10 | 0x04, 0x40, 0x00])]);
  return Buffer.concat([header, u32(raw.length | 0x80000000), raw, u32(0x11), u32(0), u32(0x100)]);
}

/** Runs bytes through FrameEnd in chunks of `chunk` bytes. */
async function trim(codec: FrameCodec, bytes: Buffer, chunk: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunk) pieces.push(bytes.subarray(at, at + chunk));
  return readStreamToBuffer(Readable.from(pieces).pipe(new FrameEnd(codec)));
}

const padding = Buffer.alloc(10240 - 37);

describe('FrameEnd', () => {
  const zstd = Buffer.concat([zstdFrame(Buffer.from('hello, base backup'), 0, 40), zstdFrame(Buffer.from('a second frame'), 0x41, 3)]);
  const lz4Checked = lz4FrameWithChecksums(Buffer.from('lz4 with checksums, ending in zeros'));

  it.each([1, 2, 3, 7, 64, 100_000])('hands on whole zstd frames and drops the zero padding after them (chunks of %i bytes)', async (chunk) => {
    expect(await trim('zstd', Buffer.concat([zstd, padding]), chunk)).toEqual(zstd);
    expect(await trim('zstd', zstd, chunk)).toEqual(zstd);
  });

  it.each([1, 5, 4096])('hands on LZ4 frames with block and content checksums (chunks of %i bytes)', async (chunk) => {
    expect(await trim('lz4', Buffer.concat([lz4Checked, padding]), chunk)).toEqual(lz4Checked);
  });

  it('follows the frames our own LZ4 encoder writes (content size, compressed blocks)', async () => {
    const frame = Buffer.concat([await encodeFrame(Buffer.alloc(300_000, 'pgbench ')), await encodeFrame(Buffer.from('tail'))]);
    expect(await trim('lz4', Buffer.concat([frame, Buffer.alloc(5000)]), 777)).toEqual(frame);
  });

  it.each<[string, FrameCodec, Buffer, RegExp]>([
    ['output cut inside a block', 'zstd', zstd.subarray(0, 30), /ended inside a frame/],
    ['output cut inside the checksum', 'zstd', zstd.subarray(0, zstd.length - 2), /ended inside a frame/],
    ['no output at all', 'zstd', Buffer.alloc(0), /ended inside a frame/],
    ['something other than zeros after the frames', 'zstd', Buffer.concat([zstd, Buffer.from([0, 0, 1])]), /non-zero bytes after the last zstd frame/],
    ['not a zstd frame', 'zstd', Buffer.from('plain tar bytes, not compressed'), /not a zstd frame/],
    ['not an LZ4 frame', 'lz4', zstd, /not an LZ4 frame/],
    ['an LZ4 frame cut before its end mark', 'lz4', lz4Checked.subarray(0, lz4Checked.length - 8), /ended inside a frame/],
  ])('refuses %s', async (_name, codec, bytes, message) => {
    const error = await trim(codec, bytes, 16).then(
      () => null,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(FrameFormatError);
    expect((error as Error).message).toMatch(message);
  });
});
