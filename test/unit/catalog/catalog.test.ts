import { describe, expect, it } from 'vitest';
import { partCodec, archivedAt, backupManifestSchema, indexWalListing, manifestKey } from '../../../src/catalog/catalog.js';
import type { BlobInfo } from '../../../src/storage/blob-store.js';
import { at, backup, MiB, SEG } from './catalog-fixtures.js';

const lastModified = at(30);
const blob = (key: string, metadata: Record<string, string> = {}, size = SEG): BlobInfo => ({ key, size, lastModified, metadata });

describe('archivedAt', () => {
  it.each([
    ['our millisecond stamp', { archivedat: '2025-01-15T10:12:34.567Z' }, '2025-01-15T10:12:34.567Z'],
    ['a stamp with an offset', { archivedat: '2025-01-15T11:12:34+01:00' }, '2025-01-15T10:12:34.000Z'],
    ['no stamp → Last-Modified', {}, '2025-01-15T10:30:00.000Z'],
    ['an unreadable stamp → Last-Modified', { archivedat: 'yesterday' }, '2025-01-15T10:30:00.000Z'],
    ['an empty stamp → Last-Modified', { archivedat: '' }, '2025-01-15T10:30:00.000Z'],
  ])('%s', (_name, metadata, iso) => {
    expect(archivedAt(blob('wal/x', metadata)).toISOString()).toBe(iso);
  });
});

describe('indexWalListing', () => {
  it('sorts segments by timeline and number, keeps history keys, lists everything else', () => {
    const result = indexWalListing(
      [
        blob('wal/000000020000000000000005', { archivedat: '2025-01-15T10:26:00.000Z', sha256: 'c'.repeat(64) }),
        blob('wal/000000010000000100000000'),
        blob('wal/00000002.history', {}, 42),
        blob('wal/000000010000000000000003', { archivedat: '2025-01-15T10:15:00.000Z' }),
        blob('wal/000000010000000000000002.00000028.backup', {}, 300),
        blob('wal/000000010000000000000005.partial'),
        blob('wal/0000000100000000000000FF', { sha256: '' }),
        blob('wal/README'),
        blob('wal/00000001000000000000000a'),
      ],
      'wal/',
      SEG,
    );
    expect(result.segments).toEqual([
      { name: '000000010000000000000003', timeline: 1, segno: 3n, size: SEG, archivedAt: at(15) },
      { name: '0000000100000000000000FF', timeline: 1, segno: 255n, size: SEG, archivedAt: lastModified },
      { name: '000000010000000100000000', timeline: 1, segno: 256n, size: SEG, archivedAt: lastModified },
      { name: '000000020000000000000005', timeline: 2, segno: 5n, size: SEG, archivedAt: at(26), sha256: 'c'.repeat(64) },
    ]);
    expect(result.historyKeys).toEqual(new Map([[2, 'wal/00000002.history']]));
    expect(result.others).toEqual(['000000010000000000000002.00000028.backup', '000000010000000000000005.partial', 'README', '00000001000000000000000a']);
  });

  it('parses names with the archive segment size (64 MiB: 0x40 per log)', () => {
    const { segments, others } = indexWalListing(
      [blob('pfx/000000010000000100000001', {}, 64 * MiB), blob('pfx/000000010000000000000040', {}, 64 * MiB)],
      'pfx/',
      64 * MiB,
    );
    expect(segments.map((s) => [s.name, s.segno])).toEqual([['000000010000000100000001', 65n]]);
    expect(others).toEqual(['000000010000000000000040']);
  });

  it('an empty listing is empty', () => {
    expect(indexWalListing([], 'wal/', SEG)).toEqual({ segments: [], historyKeys: new Map(), others: [] });
  });
});

describe('backup manifests', () => {
  it('manifestKey joins prefix and id', () => {
    expect(manifestKey('daily/', '20250115T100000Z')).toBe('daily/20250115T100000Z/manifest.json');
  });

  it('the schema accepts a complete manifest and refuses a wrong version or missing field', () => {
    const good = backup('b', { startLsn: '0/2000028', stopLsn: '0/2000138', startTime: at(0), stopTime: at(1) });
    expect(backupManifestSchema.parse(JSON.parse(JSON.stringify(good)))).toEqual(good);
    expect(backupManifestSchema.safeParse({ ...good, formatVersion: 3 }).success).toBe(false);
    expect(backupManifestSchema.safeParse({ ...good, timeline: 0 }).success).toBe(false);
    const { stopLsn: _dropped, ...withoutStop } = good;
    expect(backupManifestSchema.safeParse(withoutStop).success).toBe(false);
  });
});

describe('backup manifest formats', () => {
  const v1 = backup('b', { startLsn: '0/2000028', stopLsn: '0/2000138', startTime: at(0), stopTime: at(1) });
  const part = (n: number, extra: Record<string, unknown> = {}) => ({ name: `base/part-${String(n).padStart(5, '0')}.tar.lz4`, bytes: 100, sha256: 'c'.repeat(64), rawBytes: 400, ...extra });
  it.each<[string, unknown, boolean]>([
    ['format 1, base.tar.gz', v1, true],
    ['format 2, parts with raw sizes', { ...v1, formatVersion: 2, files: [part(1), part(2)] }, true],
    ['format 2, more than 99999 parts still named', { ...v1, formatVersion: 2, files: [part(123456)] }, true],
    ['format 2 without parts', { ...v1, formatVersion: 2, files: [] }, false],
    ['format 2, a part without its raw size', { ...v1, formatVersion: 2, files: [part(1), part(2, { rawBytes: undefined })] }, false],
    ['format 2, a part name escaping the directory', { ...v1, formatVersion: 2, files: [part(1, { name: '../other/part-00001.tar.lz4' })] }, false],
    ['format 2, zstd parts', { ...v1, formatVersion: 2, files: [part(1, { name: 'base/part-00001.tar.zst', codec: 'zstd' }), part(2, { name: 'base/part-00002.tar.zst', codec: 'zstd' })] }, true],
    ['format 2, lz4 recorded explicitly', { ...v1, formatVersion: 2, files: [part(1, { codec: 'lz4' })] }, true],
    ['format 2, a .zst part without its codec (so lz4)', { ...v1, formatVersion: 2, files: [part(1, { name: 'base/part-00001.tar.zst' })] }, false],
    ['format 2, a zstd part named .lz4', { ...v1, formatVersion: 2, files: [part(1, { codec: 'zstd' })] }, false],
    ['format 2, an unknown codec', { ...v1, formatVersion: 2, files: [part(1, { name: 'base/part-00001.tar.br', codec: 'brotli' })] }, false],
    ['format 2, the old single file', { ...v1, formatVersion: 2, files: v1.files.map((f) => ({ ...f, rawBytes: 1 })) }, false],
    ['format 3', { ...v1, formatVersion: 3 }, false],
  ])('%s', (_name, manifest, ok) => {
    expect(backupManifestSchema.safeParse(JSON.parse(JSON.stringify(manifest))).success).toBe(ok);
  });

  it('a part without a codec is lz4 (the first format 2 backups)', () => {
    expect(partCodec({})).toBe('lz4');
    expect(partCodec({ codec: 'zstd' })).toBe('zstd');
  });
});
