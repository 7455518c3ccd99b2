import { randomBytes } from 'node:crypto';
import { compress, compressSync } from 'lz4-napi';
import { describe, expect, it } from 'vitest';
import { decodeSizePrefixedBlock, Lz4BlockError } from '../../../src/wal/lz4-block.js';
import { compressWal, decodeWalBuffer } from '../../../src/wal/compression.js';

function walLike(pages: number): Buffer {
  // 8 KiB pages: a header, some records with repeated bytes and counters, zero padding.
  const out = Buffer.alloc(pages * 8192);
  for (let p = 0; p < pages; p++) {
    out.writeUInt16LE(0xd110, p * 8192);
    for (let r = 0; r < 40; r++) {
      const at = p * 8192 + 24 + r * 120;
      out.writeUInt32LE(p * 40 + r, at);
      out.fill(r % 7, at + 4, at + 60);
      randomBytes(16).copy(out, at + 60);
    }
  }
  return out;
}

const inputs: Array<[string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from([7])],
  ['zeros (long overlapping matches)', Buffer.alloc(3 * 1024 * 1024)],
  ['period 1..5 patterns (offset shorter than the match)', Buffer.from('ab'.repeat(5000) + 'abcde'.repeat(3000) + 'x'.repeat(70000))],
  ['random (literals only, long literal lengths)', randomBytes(300_000)],
  ['WAL-like pages', walLike(256)],
  ['mixed', Buffer.concat([randomBytes(1000), Buffer.alloc(20000, 1), randomBytes(17), Buffer.from('0123456789'.repeat(999)), randomBytes(5)])],
];

/** A copy of lz4-napi's output with its size header set to `size`. */
function withSize(packed: Buffer, size: number): Buffer {
  const copy = Buffer.from(packed);
  copy.writeUInt32LE(size, 0);
  return copy;
}

describe('decodeSizePrefixedBlock', () => {
  it.each(inputs)('unpacks what lz4-napi packed: %s', async (_name, raw) => {
    expect(decodeSizePrefixedBlock(await compress(raw)).equals(raw)).toBe(true);
  });

  it('reads the stored WAL container (RBL4) through decodeWalBuffer', async () => {
    const raw = walLike(2048); // one 16 MiB segment
    expect((await decodeWalBuffer(await compressWal(raw))).equals(raw)).toBe(true);
  });

  const packed = compressSync(Buffer.from('abcdefghij'.repeat(7000)));
  it.each([
    ['a size header past 1 GiB', () => withSize(packed, 2 ** 31)],
    ['a size header larger than the data', () => withSize(packed, 70_001)],
    ['a size header smaller than the data', () => withSize(packed, 1000)],
    ['the block cut short', () => packed.subarray(0, packed.length - 3)],
    ['no size header at all', () => packed.subarray(0, 3)],
    ['a match offset of zero', () => {
      const copy = Buffer.from(packed);
      // First sequence after the 4-byte size: token, literals, offset.
      const literals = copy[4]! >>> 4;
      copy[5 + literals] = 0;
      copy[6 + literals] = 0;
      return copy;
    }],
  ])('refuses damage: %s', (_name, damaged) => {
    expect(() => decodeSizePrefixedBlock(damaged())).toThrow(Lz4BlockError);
  });

  // The defect this guards against: lz4-napi's asynchronous uncompress kept unpacked segments
  // alive past any collection (300 segments: 5.6 GB RSS). 2.4 GB is unpacked here; memory
  // must stay near one segment's worth, whatever the count.
  it('keeps memory bounded over many 16 MiB segments', async () => {
    const stored = await compressWal(walLike(2048));
    const before = process.memoryUsage.rss();
    let peak = before;
    for (let i = 0; i < 150; i++) {
      const raw = await decodeWalBuffer(stored);
      expect(raw.length).toBe(16 * 1024 * 1024);
      peak = Math.max(peak, process.memoryUsage.rss());
    }
    expect(peak - before).toBeLessThan(768 * 1024 * 1024);
  });
});
