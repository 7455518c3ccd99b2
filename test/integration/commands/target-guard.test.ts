/**
 * Issue 17, items 1 and 4, against one sandbox: rows, table, locate and database refuse (exit 3,
 * TARGET_NOT_ALLOWED, naming what is allowed) PostgreSQL's catalogs (pg_database, pg_authid,
 * pg_class, an unqualified upper-case PG_AUTHID), information_schema, an extension's table, a
 * view (also one over pg_authid), --db template1, and template0 / template1 / postgres as the
 * database of `database` — at planning, before anything is restored (no side instance, the
 * catalogs unchanged). Then the job's own checks: the engines called directly with a catalog
 * (the write functions, the restore jobs, the swap), a plan made on an ordinary table whose
 * name is a view over pg_authid by the time the job runs, and a locate whose planned oid is a
 * catalog's. An ordinary table is still planned (exit 0), so the guard refuses only what it must.
 */
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { locate } from '../../../commands/locate.js';
import { rows } from '../../../commands/rows.js';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { restoreDatabaseCopy } from '../../../src/engine/database/copy.js';
import { swapDatabases } from '../../../src/engine/database/swap.js';
import { copyMissingRows } from '../../../src/engine/rows/copy-back.js';
import { productionConnection, restoreForRows } from '../../../src/engine/rows/restore-rows.js';
import { replaceTable } from '../../../src/engine/table/apply.js';
import { restoreForTable } from '../../../src/engine/table/restore-table.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { rejection } from '../../support/refusal.js';
import { runCli } from '../../support/run-cli.js';

let sandbox: Sandbox;
let env: Record<string, string>;
let xid: string;
const DB = 'shop';
const q = <T extends Record<string, unknown> = Record<string, unknown>>(text: string, database = DB) => sandbox.query<T>(text, [], database);
/** What the refused commands must leave as it was: databases (with their template flags), roles, the side instances. */
const state = async () => ({
  databases: await q(`SELECT datname, datistemplate, datallowconn FROM pg_database ORDER BY 1`),
  roles: await q(`SELECT rolname FROM pg_authid ORDER BY 1`),
  items: await q(`SELECT count(*)::int AS n FROM items`),
  instances: await readdir(sandbox.config.restoreRoot).catch(() => []),
});
const ctx = () => ({ engine: sandbox.context(), config: sandbox.config, cli: null });

beforeAll(async () => {
  sandbox = await startSandbox();
  await q(`CREATE DATABASE ${DB}`, 'postgres');
  await q(`CREATE TABLE items (id int PRIMARY KEY, name text);
    INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20) g;
    CREATE VIEW items_view AS SELECT * FROM items;
    CREATE VIEW roles_view AS SELECT oid::int AS id, rolname::text AS name FROM pg_authid;
    CREATE EXTENSION hstore;
    CREATE TABLE ext_owned (id int PRIMARY KEY);
    ALTER EXTENSION hstore ADD TABLE ext_owned;`);
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  [{ xid }] = (await q<{ xid: string }>(`WITH d AS (DELETE FROM items WHERE id = 20 RETURNING 1) SELECT txid_current()::text AS xid FROM (SELECT count(*) FROM d) x`)) as [{ xid: string }];
  await sandbox.switchAndArchive();
  env = sandbox.cliEnv();
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

test.each([
  ['table of pg_catalog.pg_database, --mode replace (the reported deletion of databases)', ['table', 'pg_catalog.pg_database', '--before-xid', '<xid>', '--mode', 'replace', '--db', DB], /recover table refuses pg_catalog\.pg_database: it is in pg_catalog/],
  ['table of pg_catalog.pg_database from an instance (refused before the instance is looked at)', ['table', 'pg_catalog.pg_database', '--from-instance', 'no-such-instance', '--mode', 'replace', '--db', DB], /refuses pg_catalog\.pg_database/],
  ['rows of pg_catalog.pg_authid (the reported deletion of a role)', ['rows', 'pg_catalog.pg_authid', '--where', "rolname = 'x'", '--before-xid', '<xid>', '--db', DB], /recover rows refuses pg_catalog\.pg_authid/],
  ['rows of PG_AUTHID, unqualified and upper case (resolved by the catalog)', ['rows', 'PG_AUTHID', '--where', "rolname = 'x'", '--from-instance', 'no-such-instance', '--db', DB], /refuses PG_AUTHID \(pg_catalog\.pg_authid\)/],
  ['locate of pg_catalog.pg_class', ['locate', 'pg_catalog.pg_class', '--db', DB], /recover locate refuses pg_catalog\.pg_class/],
  ['table of information_schema', ['table', 'information_schema.sql_features', '--before-xid', '<xid>', '--db', DB], /information_schema, a PostgreSQL system schema/],
  ['table of an extension\'s table', ['table', 'ext_owned', '--before-xid', '<xid>', '--mode', 'replace', '--db', DB], /belongs to the extension hstore/],
  ['table of a view', ['table', 'items_view', '--before-xid', '<xid>', '--db', DB], /items_view \(public\.items_view\): it is a view/],
  ['rows of a view over pg_authid', ['rows', 'roles_view', '--where', 'id = 10', '--before-xid', '<xid>', '--db', DB], /roles_view.*it is a view/],
  ['a table in --db template1', ['table', 'items', '--before-xid', '<xid>', '--db', 'template1'], /template1 is a template database/],
  ['database template1 --swap (left a template1 that is no template)', ['database', 'template1', '--swap', 'template1_restored_20250101000000'], /will not swap template1: .*datistemplate = false/],
  ['database postgres --swap', ['database', 'postgres', '--swap', 'postgres_restored_20250101000000'], /will not swap postgres/],
  ['database template1 copied', ['database', 'template1', '--before-xid', '<xid>'], /will not restore template1/],
  ['database template0 copied', ['database', 'template0', '--before-xid', '<xid>'], /will not restore template0/],
])('%s: exit 3 at planning, nothing restored or changed', async (_name, words, message) => {
  const before = await state();
  // --dry-run: without the guard the CLI would only plan (exit 0), never restore, so a failure here is quick (locate only reads: it has none).
  const { code, stdout, stderr } = await runCli([...words.map((w) => (w === '<xid>' ? xid : w)), ...(words[0] === 'locate' ? [] : ['--dry-run']), '--json'], env);
  const out = JSON.parse(stdout.trim().split('\n').at(-1) || '{}') as { ok: boolean; code?: string; message: string; hint: string | null };
  expect(out.code, stdout + stderr).toBe('TARGET_NOT_ALLOWED');
  expect(code).toBe(3);
  expect(out.message).toMatch(message);
  // names what is allowed instead, and says what to do
  expect(out.message).toMatch(/Only (ordinary user tables|user databases)|rows, tables and WAL are looked for only in user databases/);
  expect(out.hint).toBeTruthy();
  expect(await state()).toEqual(before);
}, 60_000);

test('an ordinary user table and database are still planned (exit 0)', async () => {
  for (const words of [['table', 'items', '--before-xid', xid, '--mode', 'replace', '--db', DB], ['rows', 'items', '--where', 'id = 20', '--before-xid', xid, '--db', DB], ['locate', 'public.items', '--db', DB], ['database', DB, '--before-xid', xid]]) {
    const { code, stdout, stderr } = await runCli([...words, ...(words[0] === 'locate' ? [] : ['--dry-run']), '--json'], env);
    expect(code, `${words.join(' ')}: ${stdout}${stderr}`).toBe(0);
  }
}, 120_000);

test('the job refuses too: the write functions, the restore jobs and the swap, given a catalog or a template', async () => {
  const before = await state();
  const production = productionConnection(sandbox.config, DB);
  // Right before writing: the engines resolve every table they write through the guard (production as its own "side copy" here).
  const replaced = await rejection(replaceTable(production, production, 'pg_catalog.pg_database', '0'.repeat(64)));
  expect([replaced.code, replaced.message]).toEqual(['TARGET_NOT_ALLOWED', expect.stringMatching(/^recover-bot refuses pg_catalog\.pg_database: it is in pg_catalog/)]);
  const copied = await rejection(copyMissingRows(production, production, { table: 'pg_catalog.pg_authid', filter: "rolname = 'postgres'", withChildren: false }));
  expect(copied.code).toBe('TARGET_NOT_ALLOWED');
  // Before a side instance is restored (the selection is never looked at).
  const job = { selection: undefined as never, target: { kind: 'xid' as const, xid }, inclusive: false, instanceName: 'guard-job' };
  expect((await rejection(restoreForTable(sandbox.context(), sandbox.config, { ...job, database: DB, table: 'pg_catalog.pg_database' }))).code).toBe('TARGET_NOT_ALLOWED');
  expect((await rejection(restoreForRows(sandbox.context(), sandbox.config, { ...job, database: DB, spec: { table: 'ext_owned', filter: 'id = 1', withChildren: false } }))).code).toBe('TARGET_NOT_ALLOWED');
  // (only the fields the guard reads: it refuses before the copy's record or anything else is used)
  const copyRequest = { ...job, targetText: 'x', database: 'template1', newName: 'template1_restored_1', jobs: 1 } as unknown as Parameters<typeof restoreDatabaseCopy>[2];
  expect((await rejection(restoreDatabaseCopy(sandbox.context(), sandbox.config, copyRequest))).code).toBe('TARGET_NOT_ALLOWED');
  const swapRequest = (database: string, restoredName: string) => ({ database, restoredName, beforeName: `${database}_before_1`, databaseOid: '1', restoredOid: '1', beforeDestructiveStep: async () => undefined }) as unknown as Parameters<typeof swapDatabases>[2];
  const swap = await rejection(swapDatabases(sandbox.context(), sandbox.config, swapRequest('template1', DB)));
  expect([swap.code, swap.message]).toEqual(['TARGET_NOT_ALLOWED', expect.stringMatching(/will not swap template1/)]);
  // the other side of a swap too (the words refuse `--swap template1`; params could still name it)
  const swapIn = await rejection(swapDatabases(sandbox.context(), sandbox.config, swapRequest(DB, 'template1')));
  expect([swapIn.code, swapIn.message]).toEqual(['TARGET_NOT_ALLOWED', expect.stringMatching(/will not swap template1/)]);
  expect(await state()).toEqual(before);
}, 60_000);

test('a plan made on an ordinary table is refused in the job once the name is a view over pg_authid, before restoring', async () => {
  const args = rows.parse(['items', '--where', 'id = 20', '--before-xid', xid, '--db', DB]);
  const plan = rows.plan!(args, { ...(await rows.gather!(ctx(), args)), now: new Date(), production: { name: 'shop_prod' }, requestId: 'req-guard' });
  await q(`ALTER TABLE items RENAME TO items_real; CREATE VIEW items AS SELECT oid::int AS id, rolname::text AS name FROM pg_authid`);
  try {
    const before = await state();
    const refused = await rejection(rows.run!({ ...ctx(), beforeDestructiveStep: async () => undefined }, rows.paramsSchema!.parse(plan.params)));
    expect([refused.code, refused.message]).toEqual(['TARGET_NOT_ALLOWED', expect.stringMatching(/refuses items \(public\.items\): it is a view/)]);
    expect(await state()).toEqual(before);
  } finally {
    await q(`DROP VIEW items; ALTER TABLE items_real RENAME TO items`);
  }
  // locate binds the oid at planning; the job checks that oid (here a catalog's, as if forged) again.
  const located = locate.plan!(locate.parse(['items', '--db', DB]), { ...(await locate.gather!(ctx(), locate.parse(['items', '--db', DB]))), now: new Date(), production: { name: 'shop_prod' }, requestId: 'req-locate' });
  const params = locate.paramsSchema!.parse({ ...(located.params as object), oid: 1262 });
  const scan = await rejection(locate.run!({ ...ctx(), beforeDestructiveStep: async () => undefined }, params));
  expect([scan.code, scan.message]).toEqual(['TARGET_NOT_ALLOWED', expect.stringMatching(/\/recover locate refuses public\.items \(pg_catalog\.pg_database\): it is in pg_catalog/)]);
}, 120_000);
