/**
 * `recover dumpall` on one sandbox: `dump-backup` of app (owned by app_owner, a grant to
 * app_reader, a foreign key, a sequence) and shop, one run; a second cluster as a side instance
 * of this tool; `dumpall <stamp> --to second` creates the run's roles there and restores both
 * databases with every table's rows exactly, owner and grant kept; the same again is refused,
 * naming the databases and roles it already has, nothing created; `--rename-suffix _r` restores
 * them beside under new names; `--to production` without a suffix is refused.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import type { DumpManifest } from '../../../src/engine/dumps/manifest.js';
import { initCluster, startOnFreePort, stopCluster, withClient, type ClusterHandle } from '../../../src/engine/local-cluster.js';
import { ownerFor } from '../../../src/engine/os-user.js';
import { createSideInstance } from '../../../src/engine/restore-layout.js';
import { tableHashes } from '../../../src/engine/verify.js';
import { parseConnectionUrl, pgClientConfig } from '../../../src/util/connection-url.js';
import { runCli } from '../../support/run-cli.js';

let sandbox: Sandbox;
let second: ClusterHandle | undefined;
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
}, 180_000);

afterAll(async () => {
  if (second) await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', second.dataDir, 'immediate').catch(() => undefined);
  await sandbox?.cleanup();
});

test('dumpall into a second cluster: roles, every database row-exact; an existing database refused; a suffix beside; production needs one', async () => {
  const production = pgClientConfig(parseConnectionUrl(sandbox.productionUrl));
  const original = { app: await tableHashes(production, 'app'), shop: await tableHashes(production, 'shop') };
  const taken = await cli('dump-backup', '--jobs', '2');
  expect(taken.code, taken.stdout + taken.stderr).toBe(0);
  const stamp = (taken.json.result as DumpManifest[])[0]!.stamp;

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
