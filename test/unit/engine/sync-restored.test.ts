/** How an fsync=off replay is put on disk (sync-restored.ts): the method, the file systems, the command (pure), and the real paths. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterLocations, onePerFileSystem, syncClusterArgs, syncMethodFor } from '../../../src/engine/sync-restored.js';

describe('syncMethodFor', () => {
  it.each<[string, string, 'syncfs' | 'fsync']>([
    ['linux', '6.18.44-fc-v1300', 'syncfs'],
    ['linux', '5.8.0', 'syncfs'],
    ['linux', '5.15.0-91-generic', 'syncfs'],
    // syncfs(2) reports write-back errors only from 5.8 on.
    ['linux', '5.7.19', 'fsync'],
    ['linux', '4.19.0-26-amd64', 'fsync'],
    ['linux', '3.10.0-1160.el7.x86_64', 'fsync'],
    ['linux', 'weird', 'fsync'],
    ['darwin', '23.1.0', 'fsync'],
  ])('%s %s → %s', (platform, kernel, method) => {
    expect(syncMethodFor(platform, kernel)).toBe(method);
  });
});

describe('onePerFileSystem', () => {
  it.each<[string, { path: string; dev: number }[], string[]]>([
    ['all on one: the data directory', [{ path: '/d', dev: 1 }, { path: '/d/pg_wal', dev: 1 }], ['/d']],
    ['WAL elsewhere', [{ path: '/d', dev: 1 }, { path: '/w', dev: 2 }], ['/d', '/w']],
    ['tablespaces: each file system once, first seen kept', [{ path: '/d', dev: 1 }, { path: '/w', dev: 2 }, { path: '/t1', dev: 3 }, { path: '/t2', dev: 3 }, { path: '/t3', dev: 1 }], ['/d', '/w', '/t1']],
    ['nothing', [], []],
  ])('%s', (_name, paths, expected) => {
    expect(onePerFileSystem(paths)).toEqual(expected);
  });
});

describe('syncClusterArgs', () => {
  it.each<[string, 'syncfs' | 'fsync', string[], [string, string[]]]>([
    ['syncfs: one syncfs(2) per file system', 'syncfs', ['/r/data', '/wal'], ['sync', ['--file-system', '--', '/r/data', '/wal']]],
    ['a path that looks like an option stays a path', 'syncfs', ['-d'], ['sync', ['--file-system', '--', '-d']]],
    ['fsync: initdb walks the cluster, pg_wal and tablespaces included', 'fsync', ['/r/data', '/wal'], ['/pg/bin/initdb', ['--sync-only', '--pgdata', '/r/data']]],
  ])('%s', (_name, method, fileSystems, expected) => {
    expect(syncClusterArgs(method, '/pg/bin', '/r/data', fileSystems)).toEqual(expected);
  });
});

describe('clusterLocations', () => {
  const root = mkdtempSync(join(tmpdir(), 'sync-restored-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('follows pg_wal and the tablespace links to where they are', async () => {
    const data = join(root, 'data');
    mkdirSync(join(data, 'pg_tblspc'), { recursive: true });
    mkdirSync(join(root, 'wal'));
    mkdirSync(join(root, 'ts'));
    symlinkSync(join(root, 'wal'), join(data, 'pg_wal'));
    symlinkSync(join(root, 'ts'), join(data, 'pg_tblspc', '16400'));
    const found = await clusterLocations(data);
    expect(found.map((entry) => entry.path)).toEqual([data, join(root, 'wal'), join(root, 'ts')]);
    // One file system here: one sync.
    expect(onePerFileSystem(found)).toEqual([data]);
  });

  it('a cluster without pg_tblspc still has its data directory and pg_wal', async () => {
    const data = join(root, 'bare');
    mkdirSync(join(data, 'pg_wal'), { recursive: true });
    expect((await clusterLocations(data)).map((entry) => entry.path)).toEqual([data, join(data, 'pg_wal')]);
  });
});
