/**
 * Issue 17 item 3: the swap's proof that a database is a verified copy. Through the recover CLI
 * against a real production cluster:
 *   - a database created by hand under a copy's name, with the comment the copy job writes,
 *     is refused (exit 3) and production's appdb is unchanged (it used to be swapped in: exit 0,
 *     appdb became the empty database);
 *   - a real, verified copy made by the CLI is recorded on the CLI's own disk (RECOVER_STATE_DIR,
 *     0700 / 0600); a database created again under its name (same comment) is refused (its oid is
 *     not the recorded one); the real copy, back under its name, is swapped in (exit 0).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { runCli } from '../support/run-cli.js';

let sandbox: Sandbox;
let env: Record<string, string>;
let stateDir: string;
const q = <T extends Record<string, unknown> = Record<string, unknown>>(text: string, db = 'postgres') => sandbox.query<T>(text, [], db);
const databases = async () => (await q<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'appdb%' ORDER BY 1`)).map((row) => row.datname);
const rows = async (db: string) => (await q<{ n: number; h: string }>(`SELECT count(*)::int AS n, md5(string_agg(md5(t::text), '' ORDER BY id)) AS h FROM orders t`, db))[0];
const oid = async (db: string) => (await q<{ oid: string }>(`SELECT oid::text AS oid FROM pg_database WHERE datname = '${db}'`))[0]?.oid;

beforeAll(async () => {
  sandbox = await startSandbox();
  stateDir = join(sandbox.root, 'cli-state');
  env = sandbox.cliEnv({ RECOVER_STATE_DIR: stateDir });
  await q(`CREATE DATABASE appdb`);
  await q(`CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 400) g`, 'appdb');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

test('a hand-made database with the copy comment is not swapped in: exit 3, appdb unchanged', async () => {
  const forged = 'appdb_restored_20990101000000';
  await q(`CREATE DATABASE ${forged}`);
  await q(`COMMENT ON DATABASE ${forged} IS 'recover-bot: verified copy of appdb at 2099'`);
  const before = { databases: await databases(), appdb: await rows('appdb'), oid: await oid('appdb') };

  const run = await runCli(['database', 'appdb', '--swap', forged], env);
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 3, stdout: '' });
  expect(run.stderr).toMatch(/error \[COPY_UNVERIFIED\]: appdb_restored_20990101000000 is not a copy recover-bot made and verified: there is no record of it .*a comment on the database is not proof/);
  expect(run.stderr).toContain('recover database appdb --at');
  expect({ databases: await databases(), appdb: await rows('appdb'), oid: await oid('appdb') }).toEqual(before);

  // The same with --json: one object saying why.
  const json = await runCli(['database', 'appdb', '--swap', forged, '--json'], env);
  expect(json.code).toBe(3);
  expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, code: 'COPY_UNVERIFIED' });
  expect({ databases: await databases(), appdb: await rows('appdb'), oid: await oid('appdb') }).toEqual(before);
  await q(`DROP DATABASE ${forged}`);
});

test('a real copy is recorded on the CLI\'s disk; a database created again under its name is refused; the real one is swapped in', async () => {
  const [{ at }] = (await q<{ at: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS at`)) as [{ at: string }];
  const wanted = await rows('appdb');
  await q(`DELETE FROM orders WHERE id > 300`, 'appdb');
  await sandbox.switchAndArchive();
  const damaged = await rows('appdb');

  const copy = await runCli(['database', 'appdb', '--at', at, '--jobs', '2', '--json'], env);
  expect(copy.code, copy.stderr).toBe(0);
  const copied = (JSON.parse(copy.stdout) as { result: { copied: { newName: string; record: { copyId: string } } } }).result.copied;
  const copyName = copied.newName;
  expect(await rows(copyName)).toEqual(wanted);
  // The record: on the CLI's own disk, this user's alone, bound to the copy's oid.
  const recordDir = join(stateDir, 'database-copies');
  const files = await readdir(recordDir);
  expect(files).toEqual([`${copyName}--${copied.record.copyId}.json`]);
  expect([(await stat(stateDir)).mode & 0o777, (await stat(recordDir)).mode & 0o777, (await stat(join(recordDir, files[0]!))).mode & 0o777]).toEqual([0o700, 0o700, 0o600]);

  // Someone moves the real copy aside and creates a database under its name, with the same comment.
  const realOid = await oid(copyName);
  const [{ comment }] = (await q<{ comment: string }>(`SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = '${copyName}'`)) as [{ comment: string }];
  expect(comment).toMatch(/^recover-bot: verified copy of appdb at /);
  await q(`ALTER DATABASE ${copyName} RENAME TO appdb_aside`);
  await q(`CREATE DATABASE ${copyName}`);
  await q(`COMMENT ON DATABASE ${copyName} IS '${comment}'`);
  const before = { databases: await databases(), appdb: await rows('appdb'), oid: await oid('appdb') };
  const refused = await runCli(['database', 'appdb', '--swap', copyName], env);
  expect(refused.code).toBe(3);
  expect(refused.stderr).toMatch(new RegExp(`error \\[COPY_UNVERIFIED\\]: ${copyName} is not the database recover-bot made under that name: the record \\(recover CLI on .*\\) is of database oid ${realOid}, the database now has oid ${await oid(copyName)} \\(it was dropped and created again since\\)`));
  expect({ databases: await databases(), appdb: await rows('appdb'), oid: await oid('appdb') }).toEqual(before);
  expect(before.appdb).toEqual(damaged);

  // The real copy back under its name: the record holds again, the swap goes through.
  await q(`DROP DATABASE ${copyName}`);
  await q(`ALTER DATABASE appdb_aside RENAME TO ${copyName}`);
  // Destructive: the CLI runs it only once confirmed with production's name (issue 19 item 2).
  const unconfirmed = await runCli(['database', 'appdb', '--swap', copyName], env);
  expect(unconfirmed.code).toBe(2);
  expect(unconfirmed.stderr).toContain('error [BAD_INPUT]: This plan is destructive and stdin is not a terminal');
  expect(unconfirmed.stderr).toContain('--confirm aiagent_prod');
  expect({ databases: await databases(), appdb: await rows('appdb') }).toEqual({ databases: ['appdb', copyName], appdb: damaged });
  const swap = await runCli(['database', 'appdb', '--swap', copyName, '--confirm', 'aiagent_prod'], env);
  expect(swap.code, swap.stderr).toBe(0);
  expect(await rows('appdb')).toEqual(wanted);
  expect(await oid('appdb')).toBe(realOid);
  expect(await databases()).toEqual(['appdb', expect.stringMatching(/^appdb_before_\d{14}$/)]);
}, 300_000);
