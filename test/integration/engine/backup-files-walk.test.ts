/**
 * The walk of a data directory (a temporary tree, no server): parents before children,
 * sizes and modes, symbolic links not followed, the bare directories not listed inside,
 * and a directory that is not there at all is an error, not an empty backup.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { walkDataDir } from '../../../src/engine/backup-files/local-source.js';

let root: string;
let elsewhere: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rb-walk-'));
  elsewhere = await mkdtemp(join(tmpdir(), 'rb-walk-wal-'));
  await writeFile(join(elsewhere, '000000010000000000000001'), Buffer.alloc(1024));
  await mkdir(join(root, 'base/16384'), { recursive: true, mode: 0o700 });
  await mkdir(join(root, 'base/pgsql_tmp'), { recursive: true });
  await mkdir(join(root, 'pg_replslot/slot'), { recursive: true });
  await writeFile(join(root, 'pg_replslot/slot/state'), 'x');
  await writeFile(join(root, 'base/pgsql_tmp/pgsql_tmp1.0'), 'x');
  await writeFile(join(root, 'PG_VERSION'), '15\n', { mode: 0o600 });
  await writeFile(join(root, 'base/16384/16385'), Buffer.alloc(8192 * 3));
  await chmod(join(root, 'base'), 0o750);
  await symlink(elsewhere, join(root, 'pg_wal'));
  for (let index = 0; index < 150; index++) await writeFile(join(root, 'base/16384', String(20000 + index)), Buffer.alloc(index));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(elsewhere, { recursive: true, force: true });
});

test('lists every entry once, parents first, with sizes and modes, without following links or entering bare directories', async () => {
  const entries = await walkDataDir(root, new AbortController().signal);
  const byPath = new Map(entries.map((entry) => [entry.path, entry]));
  expect(byPath.size).toBe(entries.length);
  expect(byPath.get('PG_VERSION')).toEqual({ path: 'PG_VERSION', kind: 'file', bytes: 3, mode: 0o600 });
  expect(byPath.get('base')).toMatchObject({ kind: 'dir', mode: 0o750 });
  expect(byPath.get('base/16384/16385')).toMatchObject({ kind: 'file', bytes: 24576 });
  expect(byPath.get('base/16384/20149')).toMatchObject({ kind: 'file', bytes: 149 });
  expect(byPath.get('pg_wal')).toMatchObject({ kind: 'symlink' });
  expect(byPath.has('pg_wal/000000010000000000000001')).toBe(false);
  expect(byPath.get('pg_replslot')).toMatchObject({ kind: 'dir' });
  expect(byPath.has('pg_replslot/slot')).toBe(false);
  expect(byPath.get('base/pgsql_tmp')).toMatchObject({ kind: 'dir' });
  expect(byPath.has('base/pgsql_tmp/pgsql_tmp1.0')).toBe(false);
  const index = (path: string) => entries.findIndex((entry) => entry.path === path);
  expect(index('base')).toBeLessThan(index('base/16384'));
  expect(index('base/16384')).toBeLessThan(index('base/16384/16385'));
  expect(entries.filter((entry) => entry.path.startsWith('base/16384/'))).toHaveLength(151);
});

test('a data directory that is not there fails the walk', async () => {
  await expect(walkDataDir(join(root, 'missing'), new AbortController().signal)).rejects.toThrow(/ENOENT/);
});
