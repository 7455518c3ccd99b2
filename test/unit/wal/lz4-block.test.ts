import { randomBytes } from 'node:crypto';
import { compress, compressSync } from 'lz4-napi';
import { describe, expect, it } from 'vitest';
import { decodeLz4Block, Lz4BlockError } from '../../../src/wal/lz4-block.js';
import { compressWal, decodeWalBuffer } from '../../../src/wal/compression.js';

/** lz4-napi's block output: the size (u32 LE), then the block. */
async function block(raw: Buffer): Promise<{ body: Buffer; size: number }> {
  const packed = await compress(raw);
  return { body: packed.subarray(4), size: packed.readUInt32LE(0) };
}

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

describe('decodeLz4Block', () => {
  it.each(inputs)('unpacks what lz4-napi packed: %s', async (_name, raw) => {
    const { body, size } = await block(raw);
    expect(decodeLz4Block(body, size).equals(raw)).toBe(true);
  });

  it('reads the stored WAL container (RBL4) through decodeWalBuffer', async () => {
    const raw = walLike(2048); // one 16 MiB segment
    expect((await decodeWalBuffer(await compressWal(raw))).equals(raw)).toBe(true);
  });

  it.each([
    ['a size header past 1 GiB', (b: Buffer) => ({ body: b, size: 2 ** 31 })],
    ['a size header larger than the data', (b: Buffer) => ({ body: b, size: 70_001 })],
    ['a size header smaller than the data', (b: Buffer) => ({ body: b, size: 1000 })],
    ['the block cut short', (b: Buffer) => ({ body: b.subarray(0, b.length - 3), size: 70_000 })],
    ['a match offset of zero', (b: Buffer) => {
      const copy = Buffer.from(b);
      // First sequence: token, literals, offset. Find the offset after the first literal run.
      const literals = copy[0]! >>> 4;
      copy[1 + literals] = 0;
      copy[2 + literals] = 0;
      return { body: copy, size: 70_000 };
    }],
  ])('refuses damage: %s', (_name, damage) => {
    const raw = Buffer.from('abcdefghij'.repeat(7000));
    const packed = compressSync(raw);
    const { body, size } = damage(packed.subarray(4));
    expect(() => decodeLz4Block(body, size)).toThrow(Lz4BlockError);
  });
});
