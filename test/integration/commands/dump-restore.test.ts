/**
 * Logical dumps on one sandbox, through the recover CLI: `dump-backup` of app (tables with foreign
 * keys, indexes, a sequence, a comment, a grant) into the dumps container with its manifest;
 * `backups` lists it; app is then damaged; `dump app --as app_back` restores it as a new
 * database whose every table has the original's rows exactly (hash of each table's rows),
 * with its indexes, foreign keys, every sequence's state, table and column comments, grant and large objects; the same name again is refused;
 * `dump app --no-owner` makes app_restored_<stamp> (no grants), which `database app --swap` puts in place;
 * a role the dump names missing on production is refused at planning (ROLES_MISSING), for a stored
 * dump and for a foreign one (a grantee read from its ACL entries), and --no-owner restores it;
 * a dump file with one byte flipped in storage is refused with BACKUP_CORRUPT and nothing created;
 * a foreign `pg_dump -Fc` blob (`--from legacy/app.dump`, no manifest) is restored row-exact, its
 * report saying what could not be verified; a blob that is not a dump is refused, nothing created.
 * `dump-backup` applies dump retention after its dumps, as the schedule does: with a count of 1
 * the earlier dumps expire, manifest and files, and foreign blobs beside them stay.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { scanDumps } from '../../../src/engine/dumps/list.js';
import { dumpManifestSchema, type DumpManifest } from '../../../src/engine/dumps/manifest.js';
import { listAll } from '../../../src/storage/blob-store.js';
import { makeOwnedDir } from '../../../src/engine/local-cluster.js';
import { ownerFor } from '../../../src/engine/os-user.js';
import { tableHashes } from '../../../src/engine/verify.js';
import { readStreamToBuffer } from '../../../src/util/streams.js';
import { parseConnectionUrl, pgClientConfig } from '../../../src/util/connection-url.js';
import { runCli } from '../../support/run-cli.js';

let sandbox: Sandbox;
const q = (text: string, db = 'postgres') => sandbox.query(text, [], db);
const hashes = (db: string) => tableHashes(pgClientConfig(parseConnectionUrl(sandbox.productionUrl)), db);
const env = () => sandbox.cliEnv({ RECOVER_DUMP_DATABASES: 'app' });
const cli = async (...args: string[]) => {
  const out = await runCli([...args, '--json'], env());
  return { ...out, json: JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') };
};
const databases = async () => (await q(`SELECT datname FROM pg_database WHERE datname LIKE 'app%' ORDER BY 1`)).map((row) => row.datname as string);
/** What a restore must carry besides rows: indexes, constraints (FKs), every sequence's state, comments, grants, large objects. */
const shape = (db: string) => q(`SELECT
    (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public') AS indexes,
    (SELECT string_agg(conname || ':' || contype::text, ',' ORDER BY conname) FROM pg_constraint WHERE connamespace = 'public'::regnamespace) AS constraints,
    (SELECT last_value FROM customers_id_seq)::text AS seq,
    (SELECT last_value || ':' || is_called FROM invoice_no) AS invoice_no,
    obj_description('customers'::regclass) AS comment,
    col_description('orders'::regclass, 4) AS column_comment,
    (SELECT string_agg(oid::text || ':' || md5(lo_get(oid)), ',' ORDER BY oid) FROM pg_largeobject_metadata) AS large_objects,
    has_table_privilege('app_reader', 'orders', 'SELECT') AS granted,
    (SELECT tableowner FROM pg_tables WHERE tablename = 'orders') AS owner`, db);

beforeAll(async () => {
  sandbox = await startSandbox();
  await q(`CREATE ROLE app_owner; CREATE ROLE app_reader`);
  await q(`CREATE DATABASE app OWNER app_owner`);
  await q(`CREATE TABLE customers (id serial PRIMARY KEY, email text UNIQUE NOT NULL, created timestamptz NOT NULL);
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), total numeric(12,2), note text);
    CREATE INDEX orders_customer ON orders (customer_id);
    CREATE TABLE lines (order_id bigint REFERENCES orders(id) ON DELETE CASCADE, n int, sku text, PRIMARY KEY (order_id, n));
    COMMENT ON TABLE customers IS 'people who buy';
    COMMENT ON COLUMN orders.note IS 'free text';
    CREATE SEQUENCE invoice_no; SELECT setval('invoice_no', 777, false);
    SELECT lo_from_bytea(0, convert_to(repeat('large object ' || g, 2000), 'UTF8')) FROM generate_series(1, 2) g;
    INSERT INTO customers (email, created) SELECT 'c' || g || '@example.net', '2025-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 2000) g;
    INSERT INTO orders SELECT g, 1 + g % 2000, g * 1.25, CASE WHEN g % 7 = 0 THEN NULL ELSE 'note ' || g END FROM generate_series(1, 6000) g;
    INSERT INTO lines SELECT 1 + g % 6000, g, 'sku-' || g FROM generate_series(1, 12000) g;
    ALTER TABLE orders OWNER TO app_owner; GRANT SELECT ON orders TO app_reader;`, 'app');
}, 120_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

test('dump-backup → damage → dump app --as app_back restores every row exactly; a flipped byte is refused, nothing created', async () => {
  const original = await hashes('app');
  const originalShape = await shape('app');
  // What is compared is there to compare: two large objects, the sequence's state, the column comment.
  expect(originalShape[0]).toMatchObject({ invoice_no: '777:false', column_comment: 'free text', large_objects: expect.stringMatching(/^\d+:[0-9a-f]{32},\d+:[0-9a-f]{32}$/) });
  const taken = await cli('dump-backup', '--jobs', '2');
  expect(taken.code, taken.stdout + taken.stderr).toBe(0);
  const [manifest] = (taken.json.result as { dumps: DumpManifest[] }).dumps;
  expect(dumpManifestSchema.parse(manifest)).toMatchObject({ database: 'app', owner: 'app_owner', encoding: 'UTF8', jobs: 2 });
  expect(manifest!.tables).toEqual([{ table: 'customers', rows: 2000 }, { table: 'lines', rows: 12000 }, { table: 'orders', rows: 6000 }]);
  expect(manifest!.files.map((file) => file.name)).toContain('files/toc.dat');
  expect(manifest!.files.map((file) => file.name)).toContain('globals.sql');
  expect(manifest!.roles).toEqual(expect.arrayContaining(['app_owner', 'app_reader']));
  const stored = JSON.parse((await readStreamToBuffer(await sandbox.storage.dumps.getStream(`app/${manifest!.stamp}/manifest.json`))).toString('utf8'));
  expect(stored).toEqual(manifest);

  const listed = await runCli(['backups'], env());
  expect(listed.stdout).toContain(`app/${manifest!.stamp}`);

  // The mistakes the dump is restored from.
  await q(`DELETE FROM lines WHERE order_id > 3000; UPDATE orders SET total = 0 WHERE id % 3 = 0; DROP INDEX orders_customer`, 'app');

  const restored = await cli('dump', 'app', '--as', 'app_back', '--jobs', '2');
  expect(restored.code, restored.stdout + restored.stderr).toBe(0);
  expect(restored.json.result).toMatchObject({ newName: 'app_back', stamp: manifest!.stamp, swapCommand: null });
  expect(await hashes('app_back')).toEqual(original);
  expect(await shape('app_back')).toEqual(originalShape);

  const again = await cli('dump', 'app', '--as', 'app_back');
  expect([again.code, again.json.code]).toEqual([3, 'INSTANCE_EXISTS']);

  // The default name is a recorded, verified copy: /recover database's own swap puts it in place of app.
  const copy = await cli('dump', 'app', '--no-owner');
  expect(copy.code, copy.stdout + copy.stderr).toBe(0);
  const newName = `app_restored_${manifest!.stamp}`;
  expect(copy.json.result).toMatchObject({ newName, swapCommand: `recover database app --swap ${newName}` });
  expect(await hashes(newName)).toEqual(original);
  // --no-owner --no-acl: the rows, no grants, owned by the restoring role.
  expect(await shape(newName)).toEqual([{ ...originalShape[0], granted: false, owner: 'postgres' }]);
  const swapped = await cli('database', 'app', '--swap', newName, '--confirm', 'aiagent_prod');
  expect(swapped.code, swapped.stdout + swapped.stderr).toBe(0);
  expect(await hashes('app')).toEqual(original);
  expect((await databases()).filter((name) => name.startsWith('app_before_'))).toHaveLength(1);

  // A role the dump names is missing on production: refused before anything is created, naming it.
  await q(`ALTER ROLE app_reader RENAME TO app_reader_away`);
  const roleless = await cli('dump', 'app', '--as', 'app_roleless');
  await q(`ALTER ROLE app_reader_away RENAME TO app_reader`);
  expect([roleless.code, roleless.json.code]).toEqual([3, 'ROLES_MISSING']);
  expect(roleless.json.message).toMatch(/names roles production .*does not have: app_reader /);
  expect(roleless.json.hint).toContain('--no-owner');
  expect(await databases()).not.toContain('app_roleless');

  // One byte of the biggest data file flipped in storage: refused before anything is created.
  const data = manifest!.files.filter((file) => file.name.endsWith('.dat.gz')).sort((a, b) => b.bytes - a.bytes)[0]!;
  const key = `app/${manifest!.stamp}/${data.name}`;
  const bytes = await readStreamToBuffer(await sandbox.storage.dumps.getStream(key));
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = bytes[middle]! ^ 0xff;
  await sandbox.storage.dumps.put(key, bytes);
  const before = await databases();
  const corrupt = await cli('dump', 'app', '--as', 'app_bad');
  expect([corrupt.code, corrupt.json.code]).toEqual([1, 'BACKUP_CORRUPT']);
  expect(corrupt.json.message).toContain(data.name);
  expect(await databases()).toEqual(before);

  // A foreign pg_dump -Fc file in the dumps container (no manifest): checked as far as it can be, restored, the gaps said.
  await makeOwnedDir(join(sandbox.root, 'foreign'), await ownerFor('postgres'));
  const foreignFile = join(sandbox.root, 'foreign', 'app.dump');
  await sandbox.exec.run(join(sandbox.config.pg.bin, 'pg_dump'), ['-Fc', '-h', sandbox.production.socketDir, '-p', String(sandbox.production.port), '-U', 'postgres', '-f', foreignFile, 'app'], { asUser: 'postgres' });
  await sandbox.storage.dumps.put('legacy/app.dump', await readFile(foreignFile));
  const foreign = await cli('dump', 'app', '--from', 'legacy/app.dump', '--as', 'app_foreign');
  expect(foreign.code, foreign.stdout + foreign.stderr).toBe(0);
  expect(await hashes('app_foreign')).toEqual(original);
  const contents = foreign.json.result.report.checks.find((check: { name: string }) => check.name === 'dump contents');
  expect(contents).toMatchObject({ ok: true, message: expect.stringContaining('not verified: no manifest') });
  // A foreign dump whose grantee app_reader is missing on production (app is the --no-owner copy by now: granted again first):
  // refused at planning (read from its ACL entries), nothing created; --no-owner restores it.
  await q(`GRANT SELECT ON customers TO app_reader`, 'app');
  const grantedFile = join(sandbox.root, 'foreign', 'app-granted.dump');
  await sandbox.exec.run(join(sandbox.config.pg.bin, 'pg_dump'), ['-Fc', '-h', sandbox.production.socketDir, '-p', String(sandbox.production.port), '-U', 'postgres', '-f', grantedFile, 'app'], { asUser: 'postgres' });
  await sandbox.storage.dumps.put('legacy/app-granted.dump', await readFile(grantedFile));
  await q(`ALTER ROLE app_reader RENAME TO app_reader_away`);
  try {
    const missing = await cli('dump', 'app', '--from', 'legacy/app-granted.dump', '--as', 'app_foreign_roleless');
    expect([missing.code, missing.json.code]).toEqual([3, 'ROLES_MISSING']);
    expect(missing.json.message).toMatch(/does not have: app_reader /);
    expect(await databases()).not.toContain('app_foreign_roleless');
    const ownerless = await cli('dump', 'app', '--from', 'legacy/app-granted.dump', '--as', 'app_foreign_noowner', '--no-owner');
    expect(ownerless.code, ownerless.stdout + ownerless.stderr).toBe(0);
    expect(await hashes('app_foreign_noowner')).toEqual(original);
  } finally {
    await q(`ALTER ROLE app_reader_away RENAME TO app_reader`);
  }
  await sandbox.storage.dumps.put('legacy/notes.dump', Buffer.from('not a dump at all\n'));
  const notDump = await cli('dump', 'app', '--from', 'legacy/notes.dump', '--as', 'app_notes');
  expect([notDump.code, notDump.json.code]).toEqual([1, 'BACKUP_CORRUPT']);
  expect(notDump.json.message).toContain('PGDMP');
  expect(await databases()).not.toContain('app_notes');
}, 180_000);

test('dump-backup takes RECOVER_DUMP_JOBS and applies dump retention: with RECOVER_DUMP_RETENTION_COUNT=1 the earlier dumps expire (manifest and files), foreign blobs stay', async () => {
  const before = (await scanDumps(sandbox.storage, 'app')).entries.map((entry) => `app/${entry.stamp}`);
  expect(before.length).toBeGreaterThan(0);
  // Without --jobs: RECOVER_DUMP_JOBS (as the schedule takes it).
  const out = await runCli(['dump-backup', '--json'], sandbox.cliEnv({ RECOVER_DUMP_DATABASES: 'app', RECOVER_DUMP_RETENTION_COUNT: '1', RECOVER_DUMP_JOBS: '1' }));
  expect(out.code, out.stdout + out.stderr).toBe(0);
  const { dumps, retention } = JSON.parse(out.stdout.trim().split('\n').at(-1)!).result as { dumps: DumpManifest[]; retention: { dumpsDeleted: string[]; policy: string } };
  expect(dumps[0]!.jobs).toBe(1);
  expect(retention.dumpsDeleted.sort()).toEqual([...before].sort());
  expect(retention.policy).toMatch(/1/);
  expect((await scanDumps(sandbox.storage, 'app')).entries.map((entry) => entry.stamp)).toEqual([dumps[0]!.stamp]);
  for (const name of before) expect(await listAll(sandbox.storage.dumps, `${name}/`)).toEqual([]);
  expect((await listAll(sandbox.storage.dumps, 'legacy/')).length).toBeGreaterThan(0);
  const text = await runCli(['dump-backup', '--jobs', '1'], sandbox.cliEnv({ RECOVER_DUMP_DATABASES: 'app', RECOVER_DUMP_RETENTION_COUNT: '1' }));
  expect(text.code, text.stdout + text.stderr).toBe(0);
  expect(text.stdout).toMatch(/Dump retention \(.*\): 1 dump\(s\) expired \(app\/\d/);
}, 120_000);
