import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { compressFrame } from 'lz4-napi';
import { compressWal, decodeWal, isGzip, isLz4Block, isLz4Frame, shouldCompress } from '../../../src/wal/compression.js';
import { readStreamToBuffer } from '../../../src/util/streams.js';

// A WAL page starts with PostgreSQL 15's page magic 0xD110 (little-endian bytes 10 D1).
const walLike = Buffer.concat([Buffer.from([0x10, 0xd1, 0x02, 0x00]), Buffer.alloc(64 * 1024, 7)]);

describe('WAL compression', () => {
  test('segments and partial segments are compressed; history and backup files stay readable text', () => {
    expect(['segment', 'partial', 'history', 'backup-history'].map((kind) => shouldCompress(kind as never))).toEqual([true, true, false, false]);
  });

  test('gzip-compressed archives (older uploads) decode too', async () => {
    const compressed = gzipSync(walLike);
    expect(isGzip(compressed)).toBe(true);
    expect(await readStreamToBuffer(await decodeWal(Readable.from([compressed.subarray(0, 1), compressed.subarray(1)])))).toEqual(walLike);
  });

  test('LZ4 frames (the format of the lz4 tool) decode too', async () => {
    const frame = await compressFrame(walLike);
    expect(isLz4Frame(frame)).toBe(true);
    expect(await readStreamToBuffer(await decodeWal(Readable.from([frame])))).toEqual(walLike);
  });

  test('compressWal output is an RBL4 LZ4 block and decodes back to the same bytes, in several chunks', async () => {
    const compressed = await compressWal(walLike);
    expect(isLz4Block(compressed)).toBe(true);
    expect(compressed.subarray(0, 4).toString('ascii')).toBe('RBL4');
    expect(compressed.readUInt32LE(4)).toBe(walLike.length);
    expect(compressed.length).toBeLessThan(walLike.length / 10);
    const chunks = [compressed.subarray(0, 1), compressed.subarray(1, 100), compressed.subarray(100)];
    expect(await readStreamToBuffer(await decodeWal(Readable.from(chunks)))).toEqual(walLike);
  });

  test('uncompressed WAL (older archives, other tools) passes through unchanged', async () => {
    const raw = Buffer.concat([walLike, randomBytes(1000)]);
    expect(await readStreamToBuffer(await decodeWal(Readable.from([raw.subarray(0, 10), raw.subarray(10)])))).toEqual(raw);
  });

  test('an empty object decodes to nothing; a truncated gzip stream is an error, not short WAL', async () => {
    expect((await readStreamToBuffer(await decodeWal(Readable.from([])))).length).toBe(0);
    const truncated = gzipSync(randomBytes(100_000)).subarray(0, 5000);
    await expect(decodeWal(Readable.from([truncated])).then(readStreamToBuffer)).rejects.toThrow(/unexpected end/i);
    const truncatedLz4 = (await compressWal(randomBytes(100_000))).subarray(0, 5000);
    await expect(decodeWal(Readable.from([truncatedLz4])).then(readStreamToBuffer)).rejects.toThrow();
  });
});

describe('checking a download against the archive listing', () => {
  test('size first, then CRC-32 when recorded, else sha256', async () => {
    const { matchesArchived } = await import('../../../src/wal/fetcher.js');
    const { walCrc32 } = await import('../../../src/wal/compression.js');
    const { createHash } = await import('node:crypto');
    const raw = Buffer.from('some wal bytes');
    const sha256 = createHash('sha256').update(raw).digest('hex');
    expect(walCrc32(raw)).toMatch(/^[0-9a-f]{8}$/);
    expect(matchesArchived(raw, { size: raw.length, crc32: walCrc32(raw) })).toBe(true);
    expect(matchesArchived(Buffer.from('some wal bytez'), { size: raw.length, crc32: walCrc32(raw) })).toBe(false);
    expect(matchesArchived(raw, { size: raw.length + 1, crc32: walCrc32(raw) })).toBe(false);
    expect(matchesArchived(raw, { size: raw.length, sha256 })).toBe(true);
    expect(matchesArchived(Buffer.from('some wal bytez'), { size: raw.length, sha256 })).toBe(false);
    expect(matchesArchived(raw, undefined)).toBe(true);
  });
});
