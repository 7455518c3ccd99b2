/**
 * File-level base backups (RECOVER_BACKUP_METHOD=files; auto picks them when the runner is on
 * the database host, as here): what the parts hold and leave out, row-exact PITR from them
 * with both extractors (GNU tar's `zstd -d` refuses bsdtar's block padding unless it is
 * dropped), an unlogged table that comes back empty, and the choice of method: auto streams
 * through pg_basebackup when the source role may not read data_directory, forced files is
 * refused saying why, and a streamed backup still restores.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { stopCluster } from '../../../src/engine/local-cluster.js';
import { osUserIds } from '../../../src/engine/os-user.js';
import { runPitr } from '../../../src/engine/pitr.js';
import { RecoverError } from '../../../src/errors.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { readStreamToBuffer } from '../../../src/util/streams.js';
import type { BackupManifest } from '../../../src/catalog/catalog.js';
import type { Config } from '../../../src/config.js';

let sandbox: Sandbox;
let config: Config;
let files: BackupManifest;
let streamed: BackupManifest;
/** Entry names of each part of the file-level backup, in manifest order. */
let partEntries: string[][];
const MiB = 1024 * 1024;
const rowsHash = `SELECT count(*)::int AS n, md5(string_agg(id::text || ':' || payload, ',' ORDER BY id)) AS hash FROM items`;

async function entriesOf(manifest: BackupManifest, name: string): Promise<string[]> {
  const bytes = await readStreamToBuffer(await sandbox.storage.backups.getStream(`daily/${manifest.id}/${name}`));
  const listed = await sandbox.exec.run('bsdtar', ['-t', '-f', '-'], { input: Readable.from([bytes]) });
  return listed.stdout.split('\n').filter(Boolean).map((path) => path.replace(/^\.\//, '').replace(/\/$/, ''));
}

beforeAll(async () => {
  sandbox = await startSandbox();
  config = { ...sandbox.config, pg: { ...sandbox.config.pg, baseTransfer: { partBytes: 1 * MiB, parallel: 3, codec: 'zstd' } } };
  await sandbox.query(`CREATE TABLE items (id int PRIMARY KEY, payload text NOT NULL)`);
  await sandbox.query(`INSERT INTO items SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 30000) g`);
  await sandbox.query(`CREATE UNLOGGED TABLE scratch (id int)`);
  await sandbox.query(`INSERT INTO scratch SELECT generate_series(1, 5000)`);
  await sandbox.query('CHECKPOINT');
  // A session holding a temporary table (its files are t<backend>_<node>) and a stray temporary file.
  const [{ path: dbPath }] = (await sandbox.query<{ path: string }>(`SELECT setting || '/base' AS path FROM pg_settings WHERE name = 'data_directory'`)) as [{ path: string }];
  const tempDir = join(dbPath, 'pgsql_tmp');
  await mkdir(tempDir, { recursive: true, mode: 0o700 });
  await writeFile(join(tempDir, 'pgsql_tmp999.0'), Buffer.alloc(64 * 1024, 1));
  const owner = await osUserIds('postgres');
  await chown(tempDir, owner.uid, owner.gid);
  const session = new pg.Client({ connectionString: sandbox.productionUrl });
  await session.connect();
  try {
    await session.query(`CREATE TEMP TABLE held AS SELECT generate_series(1, 20000) AS n`);
    files = await takeBaseBackup(sandbox.context(), { ...config.pg, backupMethod: 'files' }, parseConnectionUrl(sandbox.productionUrl));
  } finally {
    await session.end();
    await rm(tempDir, { recursive: true, force: true });
  }
  await sandbox.query(`UPDATE items SET payload = 'between the backups' WHERE id % 11 = 0`);
  streamed = await takeBaseBackup(sandbox.context(), { ...config.pg, backupMethod: 'stream' }, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query(`UPDATE items SET payload = 'after the backups' WHERE id % 7 = 0`);
  await sandbox.switchAndArchive();
  partEntries = [];
  for (const file of files.files) partEntries.push(await entriesOf(files, file.name));
}, 240_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

test('the manifest says how each backup was read; the file-level one is in parts of about the target size', () => {
  expect(files.method).toBe('files');
  expect(streamed.method).toBe('stream');
  expect(files.files.length).toBeGreaterThan(5);
  expect(files.files.map((f) => f.name)).toEqual(files.files.map((_f, i) => `base/part-${String(i + 1).padStart(5, '0')}.tar.zst`));
  expect(files.files.every((f) => f.codec === 'zstd' && f.bytes > 0 && f.bytes < f.rawBytes!)).toBe(true);
});

test('the parts hold the data files once each and leave out what PostgreSQL’s own base backup leaves out', () => {
  const all = partEntries.flat();
  expect(new Set(all).size).toBe(all.length);
  expect(all).toEqual(expect.arrayContaining(['PG_VERSION', 'postgresql.auto.conf', 'global/pg_control', 'backup_label', 'pg_wal', 'pg_wal/archive_status', 'pg_xact/0000', 'pg_replslot', 'pg_stat_tmp']));
  for (const left of ['postmaster.pid', 'postmaster.opts', 'tablespace_map', 'backup_manifest']) expect(all).not.toContain(left);
  expect(all.filter((path) => path.startsWith('pg_wal/') && path !== 'pg_wal/archive_status')).toEqual([]);
  expect(all.filter((path) => path.includes('pgsql_tmp'))).toEqual([]);
  expect(all.filter((path) => path.includes('pg_internal.init'))).toEqual([]);
  expect(all.filter((path) => /\/t\d+_\d+/.test(path))).toEqual([]);
});

test('pg_control and backup_label are in the last part, written after every other file', async () => {
  const last = partEntries.at(-1)!;
  expect(last).toEqual(expect.arrayContaining(['global/pg_control', 'backup_label']));
  expect(partEntries.slice(0, -1).flat()).not.toContain('global/pg_control');
});

test('of the unlogged table only the init fork is copied', async () => {
  const [{ node }] = (await sandbox.query<{ node: string }>(`SELECT pg_relation_filepath('scratch') AS node`)) as [{ node: string }];
  const all = partEntries.flat();
  expect(all).toContain(`${node}_init`);
  expect(all).not.toContain(node);
  const [{ items }] = (await sandbox.query<{ items: string }>(`SELECT pg_relation_filepath('items') AS items`)) as [{ items: string }];
  expect(all).toContain(items);
});

/** PITR to the end of the archive from `backupId` on a side instance; the first row of each query there; the instance stopped. */
async function restoredRows(backupId: string, instanceName: string, tar: 'bsdtar' | 'gnu', queries: string[]): Promise<unknown[]> {
  const result = await runPitr(sandbox.context(), { ...config, pg: { ...config.pg, tar } }, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side', instanceName, backupId });
  try {
    expect(result.state).toBe('promoted');
    expect(result.backupId).toBe(backupId);
    const client = new pg.Client({ host: result.socketDir!, port: result.port!, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      const rows: unknown[] = [];
      for (const sql of queries) rows.push((await client.query(sql)).rows[0]);
      return rows;
    } finally {
      await client.end();
    }
  } finally {
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
  }
}

test.each(['bsdtar', 'gnu'] as const)('PITR from the file-level backup, extracted by %s, is row-exact, and the unlogged table is there and empty', async (tar) => {
  const expected = (await sandbox.query<{ n: number; hash: string }>(rowsHash))[0]!;
  expect(await restoredRows(files.id, `files-${tar}`, tar, [rowsHash, 'SELECT count(*)::int AS n FROM scratch'])).toEqual([expected, { n: 0 }]);
});

test('PITR from the streamed backup is row-exact too', async () => {
  const expected = (await sandbox.query<{ n: number; hash: string }>(rowsHash))[0]!;
  expect(await restoredRows(streamed.id, 'streamed', 'bsdtar', [rowsHash])).toEqual([expected]);
});

test('a source role that may not read data_directory: auto streams through pg_basebackup, forced files is refused saying why', async () => {
  await sandbox.query(`CREATE ROLE backup_only LOGIN REPLICATION`);
  const url = parseConnectionUrl(sandbox.productionUrl.replace('postgres://postgres@', 'postgres://backup_only@'));
  // Without pg_switch_wal the backup could never be completed: refused before any work, saying what to grant.
  const ungranted = await takeBaseBackup(sandbox.context(), config.pg, url).then(
    () => null,
    (error: unknown) => error,
  );
  expect(ungranted).toBeInstanceOf(RecoverError);
  expect((ungranted as RecoverError).message).toMatch(/backup_only may not run pg_switch_wal/);
  expect((ungranted as RecoverError).hint).toContain('GRANT EXECUTE ON FUNCTION pg_switch_wal() TO "backup_only";');
  await sandbox.query(`GRANT EXECUTE ON FUNCTION pg_switch_wal() TO backup_only`);
  const refused = await takeBaseBackup(sandbox.context(), { ...config.pg, backupMethod: 'files' }, url).then(
    () => null,
    (error: unknown) => error,
  );
  expect(refused).toBeInstanceOf(RecoverError);
  expect((refused as RecoverError).code).toBe('BACKUP_FAILED');
  expect((refused as RecoverError).message).toMatch(/cannot be taken here: the source role cannot read data_directory/);
  expect((refused as RecoverError).hint).toMatch(/RECOVER_BACKUP_METHOD=auto/);
  const auto = await takeBaseBackup(sandbox.context(), { ...config.pg, backupMethod: 'auto' }, url);
  expect(auto.method).toBe('stream');
});
