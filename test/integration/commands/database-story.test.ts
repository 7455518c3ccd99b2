/**
 * /recover database against a sandbox with two databases: rows of app_a are deleted by mistake,
 * app_b changes afterwards. `database app_a --at <before the mistake>` creates
 * app_a_restored_<stamp> with the rows back while app_a and app_b are untouched (owners,
 * grants and database settings kept); `database app_a --swap …` makes app_a the restored one,
 * ends a session left open on it and keeps the old one as app_a_before_<stamp>; app_b never changes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { database } from '../../../commands/database.js';
import type { DatabaseResult } from '../../../commands/database-view.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { targetClient } from '../../../src/engine/pg-client.js';
import { tableHashes } from '../../../src/engine/verify.js';
import { parseConnectionUrl, pgClientConfig } from '../../../src/util/connection-url.js';
import { RecoverError } from '../../../src/errors.js';
import { fileCopyRecords } from '../../../src/engine/database/copy-record-file.js';
import { rejection } from '../../support/refusal.js';

let sandbox: Sandbox;
const q = (text: string, db = 'postgres') => sandbox.query(text, [], db);
const hashes = (db: string) => tableHashes(pgClientConfig(parseConnectionUrl(sandbox.productionUrl)), db);
// As the CLI does: copies recorded in files under the state directory (the runner's control-DB records: e2e/recover-database).
const ctx = () => ({ engine: sandbox.context(), config: sandbox.config, cli: null, copies: fileCopyRecords(sandbox.config.stateDir, sandbox.log) });
const base = (requestId: string, now = new Date()) => ({ now, production: { name: 'aiagent_prod' }, requestId });
const databases = async () => (await q(`SELECT datname FROM pg_database WHERE datname LIKE 'app%'`)).map((row) => row.datname as string).sort();

beforeAll(async () => {
  sandbox = await startSandbox();
  await q(`CREATE ROLE app_owner; CREATE ROLE app_reader`);
  await q(`CREATE DATABASE app_a OWNER app_owner`);
  await q(`CREATE DATABASE app_b`);
  await q(`ALTER DATABASE app_a SET work_mem TO '7MB'`);
  await q(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE notes (id serial PRIMARY KEY, item_id int REFERENCES items(id), body text);
    INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g;
    INSERT INTO notes (item_id, body) SELECT g, 'note ' || g FROM generate_series(1, 500) g;
    ALTER TABLE items OWNER TO app_owner; GRANT SELECT ON items TO app_reader;`, 'app_a');
  await q(`CREATE TABLE events (id int PRIMARY KEY, kind text); INSERT INTO events SELECT g, 'e' FROM generate_series(1, 300) g`, 'app_b');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

test('mistake in app_a, later change in app_b → copy at before the mistake → swap; app_b untouched, old app_a kept', async () => {
  const [{ before }] = (await q(`SELECT clock_timestamp()::text AS before`)) as [{ before: string }];
  await q(`DELETE FROM notes WHERE item_id > 400; DELETE FROM items WHERE id > 400`, 'app_a');
  await q(`INSERT INTO events SELECT g, 'later' FROM generate_series(301, 350) g`, 'app_b');
  await sandbox.switchAndArchive();
  const aBefore = await hashes('app_a');
  const bBefore = await hashes('app_b');
  const at = before.replace(' ', 'T').replace(/\+00$/, '+00:00');

  const copyArgs = database.parse(['app_a', '--at', at, '--jobs', '2']);
  expect(database.risk(copyArgs)).toBe('side-copy');
  expect(database.confirmation(copyArgs, { production: { name: 'aiagent_prod' } })).toBeNull();
  const now = new Date();
  const copyPlan = database.plan!(copyArgs, { ...(await database.gather!(ctx(), copyArgs)), ...base('req-db-copy', now) });
  expect(copyPlan.steps.map((s) => s.kind)).toEqual(['select', 'restore-base-backup', 'configure-recovery', 'replay-wal', 'dump', 'create-database', 'restore-dump', 'verify', 'remove-instance']);
  expect(copyPlan.steps.some((s) => s.destructive)).toBe(false);
  sandbox.events.length = 0;
  const copied = (await database.run!({ ...ctx(), beforeDestructiveStep: async () => undefined }, database.paramsSchema!.parse(copyPlan.params))) as Extract<DatabaseResult, { form: 'copy' }>;
  const newName = copied.copied.newName;
  const started = () => sandbox.events.filter((event) => event.type === 'step.started').map((event) => (event as { step: string }).step);
  expect(started()).toEqual(copyPlan.steps.map((s) => s.kind));
  expect(newName).toMatch(/^app_a_restored_\d{14}$/);
  expect(copied.copied.report.checks.filter((c) => !c.ok)).toEqual([]);
  expect(database.verdict!(copied, database.paramsSchema!.parse(copyPlan.params))).toBeNull();
  expect(copied.copied.tables).toEqual([{ table: 'items', side: 500, copy: 500 }, { table: 'notes', side: 500, copy: 500 }]);
  expect(copied.copied.swapCommand).toBe(`/recover database app_a --swap ${newName}`);
  // The copy is recorded by the tool itself, bound to the database's oid; the comment is for people only.
  const [record] = await ctx().copies.find({ database: 'app_a', restoredName: newName });
  const [{ oid: copyOid }] = (await q(`SELECT oid::text AS oid FROM pg_database WHERE datname = '${newName}'`)) as [{ oid: string }];
  expect(record).toMatchObject({ copyId: copied.copied.record.copyId, database: 'app_a', restoredName: newName, restoredOid: copyOid, verified: true, failedChecks: [] });
  expect(existsSync(join(sandbox.config.restoreRoot, copied.copied.instanceName))).toBe(false);
  // The copy: rows back, owner, grants and settings kept, same encoding; the originals untouched.
  expect(await q(`SELECT count(*)::int AS n FROM items`, newName)).toEqual([{ n: 500 }]);
  expect(await q(`SELECT tableowner AS owner, has_table_privilege('app_reader', 'items', 'SELECT') AS reader FROM pg_tables WHERE tablename = 'items'`, newName)).toEqual([{ owner: 'app_owner', reader: true }]);
  expect(await q(`SELECT pg_get_userbyid(datdba) AS owner, (SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = d.oid AND setrole = 0) AS settings FROM pg_database d WHERE datname = '${newName}'`)).toEqual([{ owner: 'app_owner', settings: ['work_mem=7MB'] }]);
  expect(await hashes('app_a')).toEqual(aBefore);
  expect(await hashes('app_b')).toEqual(bBefore);
  expect(await databases()).toEqual(['app_a', 'app_b', newName].sort());

  // A swap of a database that is not a verified copy is refused at planning.
  const stray = database.parse(['app_a', '--swap', 'app_a_restored_20000101000000']);
  await expect(database.gather!(ctx(), stray).then((facts) => database.plan!(stray, { ...facts, ...base('req-stray') }))).rejects.toThrow(/does not exist on production/);

  const swapArgs = database.parse(['app_a', '--swap', newName]);
  expect(database.risk(swapArgs)).toBe('destructive');
  expect(database.confirmation(swapArgs, { production: { name: 'aiagent_prod' } })).toBe('aiagent_prod');
  const swapPlan = database.plan!(swapArgs, { ...(await database.gather!(ctx(), swapArgs)), ...base('req-db-swap') });
  expect(swapPlan.steps.map((s) => [s.kind, s.destructive])).toEqual([['check-swap', false], ['swap', true]]);
  expect(swapPlan.params).toMatchObject({ restoredOid: copyOid, copyId: record!.copyId });
  const beforeName = (swapPlan.params as { beforeName: string }).beforeName;
  // The job checks the record again: params naming another copy, or no record where it looks (a lost state directory), are refused; nothing changes.
  const runSwap = (params: unknown, copies = ctx().copies) => rejection(database.run!({ ...ctx(), copies, beforeDestructiveStep: async () => undefined }, database.paramsSchema!.parse(params)));
  const otherCopy = await runSwap({ ...swapPlan.params, copyId: 'cli-0000000000000000' });
  expect([otherCopy.code, otherCopy.message]).toEqual(['COPY_UNVERIFIED', `${newName} is recorded as copy ${record!.copyId}, not as copy cli-0000000000000000 the swap was approved for; nothing was changed.`]);
  const noRecord = await runSwap(swapPlan.params, fileCopyRecords(join(sandbox.root, 'another-state'), sandbox.log));
  expect([noRecord.code, noRecord.message]).toEqual(['COPY_UNVERIFIED', expect.stringMatching(new RegExp(`^${newName} is not a copy recover-bot made and verified: there is no record of it in .*another-state`))]);
  expect(await databases()).toEqual(['app_a', 'app_b', newName].sort());
  // An application session left open on app_a is ended by the swap.
  const session = targetClient({ ...pgClientConfig(parseConnectionUrl(sandbox.productionUrl)), database: 'app_a' });
  await session.connect();
  await session.query('SELECT 1');
  const checked: string[] = [];
  sandbox.events.length = 0;
  const swapped = (await database.run!({ ...ctx(), beforeDestructiveStep: async (kind) => void checked.push(kind) }, database.paramsSchema!.parse(swapPlan.params))) as Extract<DatabaseResult, { form: 'swap' }>;
  expect(checked).toEqual(['swap']);
  expect(started()).toEqual(['check-swap', 'swap']);
  expect(swapped.swapped).toMatchObject({ database: 'app_a', restoredName: newName, beforeName });
  expect(swapped.swapped.sessionsEnded).toBeGreaterThanOrEqual(1);
  await expect(session.query('SELECT 1')).rejects.toThrow();
  await session.end().catch(() => undefined);
  expect(await databases()).toEqual(['app_a', beforeName, 'app_b'].sort());
  expect(await q(`SELECT datname, datallowconn FROM pg_database WHERE datname IN ('app_a', '${beforeName}')`)).toEqual(expect.arrayContaining([{ datname: 'app_a', datallowconn: true }, { datname: beforeName, datallowconn: true }]));
  expect(await q(`SELECT count(*)::int AS n FROM items`, 'app_a')).toEqual([{ n: 500 }]);
  expect(await hashes(beforeName)).toEqual(aBefore);
  expect(await hashes('app_b')).toEqual(bBefore);

  // The approved swap cannot run twice: the copy's name is gone, nothing changes.
  const again = await database.run!({ ...ctx(), beforeDestructiveStep: async () => undefined }, database.paramsSchema!.parse(swapPlan.params)).catch((error: unknown) => error);
  expect(again).toBeInstanceOf(RecoverError);
  expect((again as RecoverError).message).toMatch(new RegExp(`${newName} does not exist`));
  expect(await databases()).toEqual(['app_a', beforeName, 'app_b'].sort());
}, 300_000);

test('a role the restored database names but production no longer has: refused before anything is created, side instance removed', async () => {
  await q(`CREATE ROLE gone_reader`);
  await q(`GRANT SELECT ON events TO gone_reader`, 'app_b');
  const [{ at }] = (await q(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS at`)) as [{ at: string }];
  await q(`REVOKE SELECT ON events FROM gone_reader`, 'app_b');
  await q(`DROP ROLE gone_reader`);
  await sandbox.switchAndArchive();
  const before = await databases();
  const args = database.parse(['app_b', '--at', at]);
  const plan = database.plan!(args, { ...(await database.gather!(ctx(), args)), ...base('req-db-role') });
  const error = await database.run!({ ...ctx(), beforeDestructiveStep: async () => undefined }, database.paramsSchema!.parse(plan.params)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).message).toMatch(/names roles production does not have: gone_reader\. Nothing was created/);
  expect(await databases()).toEqual(before);
  expect(existsSync(join(sandbox.config.restoreRoot, (plan.params as { instanceName: string }).instanceName))).toBe(false);
}, 300_000);

test('a swap that fails inside the rename transaction leaves both names as they were and connections allowed again', async () => {
  const args = database.parse(['app_b', '--at', (await q(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS at`))[0]!.at as string]);
  await q(`INSERT INTO events VALUES (9999, 'after')`, 'app_b');
  await sandbox.switchAndArchive();
  const plan = database.plan!(args, { ...(await database.gather!(ctx(), args)), ...base('req-db-fail') });
  const copy = (await database.run!({ ...ctx(), beforeDestructiveStep: async () => undefined }, database.paramsSchema!.parse(plan.params))) as Extract<DatabaseResult, { form: 'copy' }>;
  const swapArgs = database.parse(['app_b', '--swap', copy.copied.newName]);
  const swapPlan = database.plan!(swapArgs, { ...(await database.gather!(ctx(), swapArgs)), ...base('req-db-fail-swap') });
  const beforeName = (swapPlan.params as { beforeName: string }).beforeName;
  const bBefore = await hashes('app_b');
  const before = await databases();
  // Someone takes the old database's new name after the check: the first rename fails inside the transaction.
  const error = await database.run!({ ...ctx(), beforeDestructiveStep: async () => void (await q(`CREATE DATABASE ${beforeName}`)) }, database.paramsSchema!.parse(swapPlan.params)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).message).toMatch(new RegExp(`The swap failed: .*already exists\\. Nothing was renamed: app_b and ${copy.copied.newName} keep their names; connections are allowed again on app_b and ${copy.copied.newName}\\.$`));
  expect(await databases()).toEqual([...before, beforeName].sort());
  expect(await q(`SELECT count(*)::int AS n FROM pg_database WHERE datname IN ('app_b', '${copy.copied.newName}') AND datallowconn`)).toEqual([{ n: 2 }]);
  expect(await hashes('app_b')).toEqual(bBefore);
}, 300_000);
