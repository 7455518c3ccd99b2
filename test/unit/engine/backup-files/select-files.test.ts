import { describe, expect, it } from 'vitest';
import { listsContents, packParts, selectBackupEntries, tarBytes, type DataDirEntry } from '../../../../src/engine/backup-files/select-files.js';

const file = (path: string, bytes = 8192): DataDirEntry => ({ path, kind: 'file', bytes, mode: 0o600 });
const dir = (path: string, mode = 0o700): DataDirEntry => ({ path, kind: 'dir', bytes: 0, mode });
const link = (path: string): DataDirEntry => ({ path, kind: 'symlink', bytes: 0, mode: 0o777 });

/** A data directory as a walk lists it (parents first), with something of every kind to leave out. */
const dataDir: DataDirEntry[] = [
  file('PG_VERSION', 3),
  dir('base'),
  dir('global'),
  file('backup_label', 200), // left behind by an old exclusive backup
  file('backup_manifest', 100),
  file('current_logfiles.tmp', 10),
  dir('pg_dynshmem'),
  file('pg_hba.conf', 4000),
  dir('pg_notify'),
  dir('pg_replslot'),
  dir('pg_serial'),
  dir('pg_snapshots'),
  dir('pg_stat'),
  dir('pg_stat_tmp'),
  dir('pg_subtrans'),
  dir('pg_tblspc'),
  dir('pg_wal'),
  dir('pg_xact'),
  file('postgresql.auto.conf', 88),
  file('postgresql.auto.conf.tmp', 88),
  file('postmaster.opts', 50),
  file('postmaster.pid', 90),
  { path: 'socket.s.PGSQL.5432', kind: 'other', bytes: 0, mode: 0o777 },
  file('tablespace_map', 10),
  dir('base/1'),
  dir('base/16384'),
  dir('base/pgsql_tmp'),
  file('global/1262', 8192),
  file('global/pg_control', 8192),
  file('global/pg_filenode.map', 512),
  file('global/pg_internal.init', 20000),
  file('pg_replslot/slot/state', 200), // a walk does not list these; if it did, they stay out
  file('pg_stat/pgstat.stat', 1000),
  file('pg_wal/000000010000000000000001', 16 << 20),
  dir('pg_wal/archive_status'),
  file('pg_xact/0000', 8192),
  file('base/1/1259', 90000),
  file('base/16384/16385', 1 << 30),
  file('base/16384/16385.1', 5000),
  file('base/16384/16385_fsm', 24576),
  file('base/16384/16385_vm', 8192),
  file('base/16384/16390', 0), // unlogged: main fork, fsm and init fork
  file('base/16384/16390_fsm', 24576),
  file('base/16384/16390_init', 0),
  file('base/16384/t3_16400', 8192), // a temporary relation
  file('base/16384/t3_16400_fsm', 24576),
  file('base/16384/pg_internal.init', 30000),
  file('base/16384/pgsql_tmp123.0', 9000),
  file('base/pgsql_tmp/pgsql_tmp77.1', 1 << 20),
];

describe('selectBackupEntries', () => {
  const selection = selectBackupEntries(dataDir);
  const paths = selection.files.map((entry) => entry.path);

  it('copies configuration, catalogs, relations with all their forks and segments, and pg_xact', () => {
    expect(paths).toEqual([
      'PG_VERSION',
      'pg_hba.conf',
      'postgresql.auto.conf',
      'global/1262',
      'global/pg_filenode.map',
      'pg_stat/pgstat.stat',
      'pg_xact/0000',
      'base/1/1259',
      'base/16384/16385',
      'base/16384/16385.1',
      'base/16384/16385_fsm',
      'base/16384/16385_vm',
      'base/16384/16390_init',
    ]);
  });

  it('keeps pg_control apart, to be copied after every other file', () => {
    expect(selection.pgControl?.path).toBe('global/pg_control');
    expect(paths).not.toContain('global/pg_control');
  });

  it('keeps every directory, the emptied ones bare, parents first, temporary file directories not at all', () => {
    expect(selection.directories.map((entry) => entry.path)).toEqual([
      'base', 'global', 'pg_dynshmem', 'pg_notify', 'pg_replslot', 'pg_serial', 'pg_snapshots', 'pg_stat', 'pg_stat_tmp', 'pg_subtrans', 'pg_tblspc', 'pg_wal', 'pg_xact',
      'base/1', 'base/16384', 'pg_wal/archive_status',
    ]);
  });

  it('recreates pg_wal as a directory when it is a symbolic link elsewhere, with archive_status', () => {
    const linked = selectBackupEntries([link('pg_wal'), file('PG_VERSION', 3)]);
    expect(linked.directories).toEqual([dir('pg_wal'), dir('pg_wal/archive_status')]);
    expect(linked.files.map((entry) => entry.path)).toEqual(['PG_VERSION']);
  });

  it('reports tablespaces instead of copying them; other symbolic links are kept as links', () => {
    const withTablespace = selectBackupEntries([dir('pg_tblspc'), link('pg_tblspc/16500'), link('postgresql.conf')]);
    expect(withTablespace.tablespaces).toEqual(['pg_tblspc/16500']);
    expect(withTablespace.files).toEqual([link('postgresql.conf')]);
  });

  it('keeps a directory mode such as 0750 (a cluster with group access)', () => {
    expect(selectBackupEntries([dir('base', 0o750)]).directories[0]).toEqual(dir('base', 0o750));
  });

  it('only treats relation-like names as relations where relations live', () => {
    // A file named like an init fork outside base/ and global/ is just a file.
    const outside = selectBackupEntries([dir('log'), file('log/123_init'), file('log/123')]);
    expect(outside.files.map((entry) => entry.path)).toEqual(['log/123_init', 'log/123']);
  });
});

describe('listsContents (what a walk descends into)', () => {
  it.each([
    ['base', true],
    ['base/16384', true],
    ['pg_wal', false],
    ['pg_replslot', false],
    ['pg_stat_tmp', false],
    ['pg_subtrans', false],
    ['base/pgsql_tmp', false],
    ['pg_stat', true],
  ])('%s: %s', (path, expected) => {
    expect(listsContents(path)).toBe(expected);
  });
});

describe('packParts', () => {
  const MiB = 1 << 20;
  it('packs small files in order up to the part size, gives large files a part each, and lists the largest parts first', () => {
    const files = [file('a', 3 * MiB), file('b', 3 * MiB), file('c', 20 * MiB), file('d', 5 * MiB), file('e', 1 * MiB)];
    expect(packParts(files, 8 * MiB).map((part) => part.map((entry) => entry.path))).toEqual([['c'], ['a', 'b'], ['d', 'e']]);
  });

  it('never leaves an empty part, also for empty files or none at all', () => {
    expect(packParts([], 8)).toEqual([]);
    expect(packParts([file('x', 0), file('y', 0)], 8).map((part) => part.length)).toEqual([2]);
  });

  it('puts every file in exactly one part', () => {
    const files = Array.from({ length: 200 }, (_unused, index) => file(`f${index}`, (index * 7919) % 5000));
    const packed = packParts(files, 4096).flat().map((entry) => entry.path).sort();
    expect(packed).toEqual(files.map((entry) => entry.path).sort());
  });
});

describe('tarBytes', () => {
  it('counts a header per entry, data padded to 512 bytes, and the end blocks', () => {
    expect(tarBytes([])).toBe(1024);
    expect(tarBytes([file('a', 1), dir('d'), file('b', 512)])).toBe(1024 + 512 + 512 + 512 + 512 + 512);
  });
});
