/** Dump manifests: the schema, keys, the choice of dump, and the checks of a restore (pure). */
import { describe, expect, test } from 'vitest';
import { dumpManifestSchema, dumpStamp, LSN_MEANING, parseManifestKey, pickDump, type DumpEntry } from '../../../../src/engine/dumps/manifest.js';
import { manifestFor } from '../../../support/dump-manifest-fixture.js';
import { mismatchedFiles } from '../../../../src/engine/dumps/download.js';
import { rowCountCheck } from '../../../../src/engine/dumps/restore.js';

const sha = (c: string) => c.repeat(64);

describe('manifest schema', () => {
  test('a manifest as dump-backup writes it parses', () => {
    expect(dumpManifestSchema.parse(manifestFor('app', '20261206232400'))).toEqual(manifestFor('app', '20261206232400'));
  });
  test.each([
    ['a file outside the dump', { files: [{ name: '../etc/passwd', bytes: 1, sha256: sha('a') }] }],
    ['a file name that is a directory', { files: [{ name: 'files/..', bytes: 1, sha256: sha('a') }] }],
    ['a sha256 that is not one', { files: [{ name: 'files/toc.dat', bytes: 1, sha256: 'abc' }] }],
    ['no files', { files: [] }],
    ['an LSN that is not one', { snapshot: { time: 'x', lsn: 'zz', lsnMeaning: LSN_MEANING } }],
    ['a database name that is not one', { database: 'app;drop' }],
  ])('refused: %s', (_what, extra) => {
    expect(dumpManifestSchema.safeParse({ ...manifestFor('app', '20261206232400'), ...extra }).success).toBe(false);
  });
});

test.each([
  ['app/20261206232400/manifest.json', { database: 'app', stamp: '20261206232400' }],
  ['app/20261206232400/files/toc.dat', null],
  ['app/2026120623240/manifest.json', null],
  ['app;x/20261206232400/manifest.json', null],
  ['a/b/20261206232400/manifest.json', null],
])('manifest key %s', (key, expected) => {
  expect(parseManifestKey(key)).toEqual(expected);
});

test('stamp: the UTC second', () => {
  expect(dumpStamp(new Date('2026-12-06T23:24:00.999Z'))).toBe('20261206232400');
});

describe('which dump', () => {
  const entry = (database: string, stamp: string, complete = true): DumpEntry => ({ database, stamp, manifest: complete ? manifestFor(database, stamp) : null, problem: complete ? null : 'unreadable' });
  const entries = [entry('app', '20261201000000'), entry('app', '20261203000000'), entry('app', '20261205000000', false), entry('billing', '20261206000000')];
  test.each([
    ['app', null, '20261203000000'],
    ['app', '20261201000000', '20261201000000'],
    ['app', '20261205000000', null],
    ['billing', null, '20261206000000'],
    ['other', null, null],
  ])('%s --from %s → %s (newest complete one)', (database, stamp, expected) => {
    expect(pickDump(entries, database, stamp)?.stamp ?? null).toBe(expected);
  });
});

describe('restore checks', () => {
  const files = manifestFor('app', '20261206232400').files;
  test.each([
    ['every file as stored', [['files/toc.dat', 1000, sha('a')], ['globals.sql', 200, sha('b')]], []],
    ['one byte changed', [['files/toc.dat', 1000, sha('c')], ['globals.sql', 200, sha('b')]], ['files/toc.dat']],
    ['shorter', [['files/toc.dat', 1000, sha('a')], ['globals.sql', 199, sha('b')]], ['globals.sql']],
    ['missing', [['files/toc.dat', 1000, sha('a')]], ['globals.sql']],
  ] as const)('sha256 and size: %s', (_what, got, expected) => {
    expect(mismatchedFiles(files, new Map(got.map(([name, bytes, sha256]) => [name, { bytes, sha256 }])))).toEqual(expected);
  });
  const dumpCounts = [{ table: 'customers', rows: 2000 }, { table: 'orders', rows: 6000 }];
  test.each([
    [[['customers', 2000], ['orders', 6000]], true, '2 tables, the same row count as counted in the dump\'s snapshot (8000 rows)'],
    [[['customers', 2000], ['orders', 5999]], false, 'orders: 5999 in the copy, 6000 in the dump'],
    [[['customers', 2000]], false, 'orders: missing in the copy, 6000 in the dump'],
    [[['customers', 2000], ['orders', 6000], ['extra', 1]], false, 'extra: only in the copy'],
  ] as const)('row counts %j', (copy, ok, message) => {
    const { check } = rowCountCheck('app_back', dumpCounts, new Map(copy.map(([table, rows]) => [table, rows])));
    expect(check).toEqual({ name: 'row counts app_back', ok, message });
  });
});
