/**
 * `recover dumpall` on one sandbox: `dump-backup` of app (owned by app_owner, a grant to
 * app_reader, a foreign key, a sequence) and shop, one run; a second cluster as a side instance
 * of this tool; `dumpall <stamp> --to second` creates the run's roles there and restores both
 * databases with every table's rows exactly, owner and grant kept; the same again is refused,
 * naming the databases and roles it already has, nothing created; `--rename-suffix _r` restores
 * them beside under new names; `--to production` without a suffix is refused.
 * A foreign pg_dumpall file (gzip) of the same cluster, with a database whose name holds quotes,
 * `;`, `=` and a backslash, into a third cluster: roles and every database row-exact; again
 * refused naming them; with a suffix beside (the hostile name renamed); a file with `\!` (whole
 * line or mid-line) or `\copy … program` refused before anything runs, the file it would touch
 * not created; and psql's own \restrict guard refusing what the reading let through.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import type { DumpManifest } from '../../../src/engine/dumps/manifest.js';
import { psqlLoadArgs } from '../../../src/engine/dumps/dumpall-foreign.js';
import { initCluster, makeOwnedDir, startOnFreePort, stopCluster, withClient, type ClusterHandle } from '../../../src/engine/local-cluster.js';
import { ownerFor } from '../../../src/engine/os-user.js';
import { createSideInstance } from '../../../src/engine/restore-layout.js';
import { tableHashes } from '../../../src/engine/verify.js';
import { parseConnectionUrl, pgClientConfig } from '../../../src/util/connection-url.js';
import { runCli } from '../../support/run-cli.js';

let sandbox: Sandbox;
let second: ClusterHandle | undefined;
let third: ClusterHandle | undefined;
const HOSTILE = `h"; DROP DATABASE app; --'x=\\ y`;
const q = (text: string, db = 'postgres') => sandbox.query(text, [], db);
const onSecond = async (text: string, db = 'postgres') => withClient(second!, db, async (client) => (await client.query(text)).rows);
const env = () => sandbox.cliEnv({ RECOVER_DUMP_DATABASES: 'app,shop' });
const cli = async (...args: string[]) => {
  const out = await runCli([...args, '--json'], env());
  return { ...out, json: JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') };
};
const secondDatabases = async () => (await onSecond(`SELECT datname FROM pg_database WHERE datname NOT LIKE 'template%' ORDER BY 1`)).map((row) => row.datname as string);

beforeAll(async () => {
  sandbox = await startSandbox();
  await q(`CREATE ROLE app_owner; CREATE ROLE app_reader LOGIN PASSWORD 'reader-secret'`);
  await q(`CREATE DATABASE app OWNER app_owner`);
  await q(`CREATE DATABASE shop`);
  await q(`CREATE TABLE customers (id serial PRIMARY KEY, email text UNIQUE NOT NULL);
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), total numeric(12,2));
    INSERT INTO customers (email) SELECT 'c' || g || '@example.net' FROM generate_series(1, 500) g;
    INSERT INTO orders SELECT g, 1 + g % 500, g * 1.25 FROM generate_series(1, 1500) g;
    ALTER TABLE orders OWNER TO app_owner; GRANT SELECT ON orders TO app_reader;`, 'app');
  await q(`CREATE TABLE items (sku text PRIMARY KEY, n int); INSERT INTO items SELECT 'sku-' || g, g FROM generate_series(1, 800) g;`, 'shop');
  const owner = await ownerFor('postgres');
  const instance = await createSideInstance(sandbox.config.restoreRoot, 'second', owner);
  second = await startOnFreePort(sandbox.exec, sandbox.config.pg.bin, 'postgres', await initCluster(sandbox.exec, { bin: sandbox.config.pg.bin, osUser: 'postgres', owner, dataDir: join(instance.workDir, 'data'), socketDir: join(instance.workDir, 'run'), port: instance.port, settings: { fsync: 'off' } }));
  const instance3 = await createSideInstance(sandbox.config.restoreRoot, 'third', owner);
  third = await startOnFreePort(sandbox.exec, sandbox.config.pg.bin, 'postgres', await initCluster(sandbox.exec, { bin: sandbox.config.pg.bin, osUser: 'postgres', owner, dataDir: join(instance3.workDir, 'data'), socketDir: join(instance3.workDir, 'run'), port: instance3.port, settings: { fsync: 'off' } }));
}, 180_000);

afterAll(async () => {
  if (second) await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', second.dataDir, 'immediate').catch(() => undefined);
  if (third) await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', third.dataDir, 'immediate').catch(() => undefined);
  await sandbox?.cleanup();
});

test('dumpall into a second cluster: roles, every database row-exact; an existing database refused; a suffix beside; production needs one', async () => {
  const production = pgClientConfig(parseConnectionUrl(sandbox.productionUrl));
  const original = { app: await tableHashes(production, 'app'), shop: await tableHashes(production, 'shop') };
  const taken = await cli('dump-backup', '--jobs', '2');
  expect(taken.code, taken.stdout + taken.stderr).toBe(0);
  const stamp = (taken.json.result as { dumps: DumpManifest[] }).dumps[0]!.stamp;

  const restored = await cli('dumpall', stamp, '--to', 'second', '--jobs', '2');
  expect(restored.code, restored.stdout + restored.stderr).toBe(0);
  expect(restored.json.result).toMatchObject({ ok: true, rolesCreated: expect.arrayContaining(['app_owner', 'app_reader']) });
  expect(restored.json.result.rolesKept).toEqual(['postgres']);
  const secondConn = { host: second!.socketDir, port: second!.port, user: 'postgres', database: 'postgres' };
  expect(await tableHashes(secondConn, 'app')).toEqual(original.app);
  expect(await tableHashes(secondConn, 'shop')).toEqual(original.shop);
  expect(await onSecond(`SELECT (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS db_owner,
    (SELECT tableowner FROM pg_tables WHERE tablename = 'orders') AS owner, has_table_privilege('app_reader', 'orders', 'SELECT') AS granted,
    (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'app_reader') AS login`, 'app')).toEqual([{ db_owner: 'app_owner', owner: 'app_owner', granted: true, login: true }]);

  // Again: the databases and roles are there now; refused at planning, naming them, nothing created.
  const before = await secondDatabases();
  const again = await cli('dumpall', stamp, '--to', 'second');
  expect([again.code, again.json.code]).toEqual([3, 'INSTANCE_EXISTS']);
  expect(again.json.message).toContain('databases app, shop');
  expect(again.json.message).toMatch(/roles app_owner, app_reader/);
  expect(again.json.hint).toContain('--rename-suffix');
  expect(await secondDatabases()).toEqual(before);

  // With a suffix: beside them, existing roles kept.
  const beside = await cli('dumpall', stamp, '--to', 'second', '--rename-suffix', '_r');
  expect(beside.code, beside.stdout + beside.stderr).toBe(0);
  expect(beside.json.result).toMatchObject({ ok: true, rolesCreated: [] });
  expect(await tableHashes(secondConn, 'shop_r')).toEqual(original.shop);
  expect(await secondDatabases()).toEqual(['app', 'app_r', 'postgres', 'shop', 'shop_r']);

  // Production's own cluster: never without a suffix.
  const own = await cli('dumpall', stamp, '--to', 'production');
  expect([own.code, own.json.code]).toEqual([3, 'TARGET_NOT_ALLOWED']);
}, 180_000);

test('a foreign pg_dumpall file into a third cluster: row-exact with roles; conflicts listed; a hostile name renamed; meta-commands refused', async () => {
  const hostileLiteral = HOSTILE.replace(/'/g, "''");
  await q(`CREATE DATABASE "${HOSTILE.replace(/"/g, '""')}"`);
  await q(`CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, E'line\\\\.' || g || E'\\n\\\\. end' FROM generate_series(1, 300) g;`, HOSTILE);
  const production = pgClientConfig(parseConnectionUrl(sandbox.productionUrl));
  const original = { app: await tableHashes(production, 'app'), shop: await tableHashes(production, 'shop'), hostile: await tableHashes(production, HOSTILE) };
  const dir = join(sandbox.root, 'foreign-dumpall');
  await makeOwnedDir(dir, await ownerFor('postgres'));
  const file = join(dir, 'cluster.sql');
  await sandbox.exec.run(join(sandbox.config.pg.bin, 'pg_dumpall'), ['-h', sandbox.production.socketDir, '-p', String(sandbox.production.port), '-U', 'postgres', '-f', file], { asUser: 'postgres' });
  const plain = await readFile(file);
  await sandbox.storage.dumps.put('legacy/cluster.sql.gz', gzipSync(plain));
  const thirdConn = { host: third!.socketDir, port: third!.port, user: 'postgres', database: 'postgres' };
  const onThird = async (text: string, db = 'postgres') => withClient(third!, db, async (client) => (await client.query(text)).rows);
  const thirdDatabases = async () => (await onThird(`SELECT datname FROM pg_database WHERE datname NOT LIKE 'template%' ORDER BY 1`)).map((row) => row.datname as string);

  const restored = await cli('dumpall', 'legacy/cluster.sql.gz', '--to', 'third');
  expect(restored.code, restored.stdout + restored.stderr).toBe(0);
  expect(restored.json.result).toMatchObject({ ok: true, rolesCreated: expect.arrayContaining(['app_owner', 'app_reader']), unverified: expect.stringContaining('no manifest') });
  expect(await tableHashes(thirdConn, 'app')).toEqual(original.app);
  expect(await tableHashes(thirdConn, 'shop')).toEqual(original.shop);
  expect(await tableHashes(thirdConn, HOSTILE)).toEqual(original.hostile);
  const app = restored.json.result.databases.find((d: { database: string }) => d.database === 'app');
  expect(app).toMatchObject({ ok: true, tables: 2, rows: 2000 });
  expect(await onThird(`SELECT (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS db_owner,
    (SELECT tableowner FROM pg_tables WHERE tablename = 'orders') AS owner, has_table_privilege('app_reader', 'orders', 'SELECT') AS granted`, 'app')).toEqual([{ db_owner: 'app_owner', owner: 'app_owner', granted: true }]);

  // Again: every database and role is there now; refused at planning, listed, nothing created.
  const before = await thirdDatabases();
  const again = await cli('dumpall', 'legacy/cluster.sql.gz', '--to', 'third');
  expect([again.code, again.json.code]).toEqual([3, 'INSTANCE_EXISTS']);
  expect(again.json.message).toContain(`databases app, ${HOSTILE}, shop`);
  expect(again.json.message).toMatch(/roles app_owner, app_reader/);
  expect(await thirdDatabases()).toEqual(before);

  // With a suffix: beside them, the hostile name renamed (its original left as it is).
  const beside = await cli('dumpall', 'legacy/cluster.sql.gz', '--to', 'third', '--rename-suffix', '_r');
  expect(beside.code, beside.stdout + beside.stderr).toBe(0);
  expect(beside.json.result).toMatchObject({ ok: true, rolesCreated: [] });
  expect(await tableHashes(thirdConn, `${HOSTILE}_r`)).toEqual(original.hostile);
  expect(await tableHashes(thirdConn, HOSTILE)).toEqual(original.hostile);
  expect((await thirdDatabases()).sort()).toEqual([...before, 'app_r', 'shop_r', `${HOSTILE}_r`].sort());
  expect(await onThird(`SELECT count(*)::int AS n FROM pg_database WHERE datname = '${hostileLiteral}_r'`)).toEqual([{ n: 1 }]);

  // The same file zstd-compressed: read through zstd at planning, the same databases and sha256 of its own bytes.
  const zstdFile = join(dir, 'cluster.sql.zst');
  await sandbox.exec.run('zstd', ['--quiet', '-o', zstdFile, file], { asUser: 'postgres' });
  await sandbox.storage.dumps.put('legacy/cluster.sql.zst', await readFile(zstdFile));
  const zstdPlan = await cli('dumpall', 'legacy/cluster.sql.zst', '--to', 'third', '--rename-suffix', '_z', '--jobs', '3', '--dry-run');
  expect(zstdPlan.code, zstdPlan.stdout + zstdPlan.stderr).toBe(0);
  // --jobs: databases side by side (each one psql transaction); the first restore above ran two at once (the default).
  expect(zstdPlan.json.result.plan.steps.find((s: { kind: string }) => s.kind === 'restore').title).toContain('3 databases at once');
  expect(zstdPlan.json.result.plan.facts.Dump).toContain(`databases app, ${HOSTILE}, shop`);
  expect(zstdPlan.json.result.plan.params.foreign.sha256).not.toBe(restored.json.result.sha256);

    // Production without a suffix: refused as for a dump run.
  const own = await cli('dumpall', 'legacy/cluster.sql.gz', '--to', 'production');
  expect([own.code, own.json.code]).toEqual([3, 'TARGET_NOT_ALLOWED']);

  // Hostile files: a shell escape on its own line, one mid-line, \copy … program: refused before anything is created.
  const marker = join(dir, 'touched');
  const text = plain.toString('utf8');
  const cut = text.indexOf('COPY public.customers');
  const hostileFiles = {
    'legacy/bang.sql': text.replace('\\connect app\n', `\\connect app\n\\! touch ${marker}\n`),
    'legacy/midline.sql': `${text.slice(0, cut)}SELECT 1; \\! touch ${marker}\n${text.slice(cut)}`,
    'legacy/copyprog.sql': `${text.slice(0, cut)}\\copy public.customers to program 'touch ${marker}'\n${text.slice(cut)}`,
    'legacy/notdumpall.sql': `SELECT 1;\n\\! touch ${marker}\n`,
  };
  const expected = { 'legacy/bang.sql': /line \d+: \\! \(psql would run a shell command/, 'legacy/midline.sql': /line \d+: \\! .*only on a line of its own/, 'legacy/copyprog.sql': /line \d+: \\copy \(psql would read or write a client file or run a program/, 'legacy/notdumpall.sql': /not a pg_dumpall file/ };
  const untouched = await thirdDatabases();
  for (const [path, content] of Object.entries(hostileFiles)) {
    await sandbox.storage.dumps.put(path, Buffer.from(content));
    const refused = await cli('dumpall', path, '--to', 'third', '--rename-suffix', '_x');
    expect([refused.code, refused.json.code], path).toEqual([2, 'BAD_INPUT']);
    expect(refused.json.message).toMatch(expected[path as keyof typeof expected]);
    expect(refused.json.hint).toContain('\\connect, \\restrict, \\unrestrict, \\encoding');
  }
  expect(existsSync(marker)).toBe(false);
  expect(await thirdDatabases()).toEqual(untouched);

  // The second guard: what reaches psql runs behind a \restrict key, so psql itself refuses any meta-command in it.
  const body = join(dir, 'body.sql');
  await writeFile(body, `\\restrict k${Date.now()}\nSELECT 1;\n\\! touch ${marker}\n`, { mode: 0o644 });
  const guarded = await sandbox.exec.run(...psqlLoadArgs(sandbox.config.pg.bin, { host: third!.socketDir, port: third!.port, user: 'postgres' }, 'postgres', body), { asUser: 'postgres', allowFailure: true });
  expect(guarded.exitCode).toBe(3);
  expect(guarded.stderr).toContain('backslash commands are restricted');
  expect(existsSync(marker)).toBe(false);
}, 240_000);
