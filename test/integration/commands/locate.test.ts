/**
 * `/recover locate` against a sandbox: several transactions touch `workflows` (an INSERT
 * batch, an UPDATE of three rows, the DELETE of user 12345's rows beside an INSERT into
 * `audit`, a later INSERT) and a later unrelated DELETE hits `audit`. Locate lists the DELETE
 * with its xid, row count, commit time and the other table it wrote; `pitr --before-xid` of it
 * brings the rows back without the later commits.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { locate } from '../../../commands/locate.js';
import type { LocateResult } from '../../../commands/locate-format.js';
import { pitr } from '../../../commands/pitr.js';
import type { RecoverCommand } from '../../../commands/types.js';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { stopCluster } from '../../../src/engine/local-cluster.js';
import type { EngineEvent } from '../../../src/types.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { oneJsonObject, runBundledCli } from '../../support/run-bundled-cli.js';

let sandbox: Sandbox;
const marks: { deleteXid?: string; before?: Date; after?: Date; updateXid?: string } = {};

async function inTransaction(sql: string[]): Promise<string> {
  const client = new pg.Client({ host: sandbox.production.socketDir, port: sandbox.production.port, user: 'postgres', database: 'app' });
  await client.connect();
  try {
    await client.query('BEGIN');
    for (const statement of sql) await client.query(statement);
    const xid = (await client.query('SELECT pg_current_xact_id()::text AS xid')).rows[0].xid as string;
    await client.query('COMMIT');
    return xid;
  } finally {
    await client.end();
  }
}

const now = async () => (await sandbox.query<{ now: Date }>('SELECT clock_timestamp() AS now'))[0]!.now;

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE DATABASE app');
  await sandbox.query('CREATE TABLE workflows (id int PRIMARY KEY, user_id int NOT NULL, name text); CREATE TABLE audit (id serial PRIMARY KEY, what text)', [], 'app');
  await sandbox.query(`INSERT INTO audit (what) SELECT 'old ' || g FROM generate_series(1, 10) g`, [], 'app');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query(`INSERT INTO workflows SELECT g, CASE WHEN g % 25 = 0 THEN 12345 ELSE g END, 'workflow ' || g FROM generate_series(1, 200) g`, [], 'app');
  marks.updateXid = await inTransaction([`UPDATE workflows SET name = 'renamed' WHERE id IN (1, 2, 3)`]);
  marks.before = await now();
  marks.deleteXid = await inTransaction([`INSERT INTO audit (what) VALUES ('cleanup')`, 'DELETE FROM workflows WHERE user_id = 12345']);
  marks.after = await now();
  await sandbox.query(`INSERT INTO workflows VALUES (1000, 7, 'later')`, [], 'app');
  await sandbox.query(`DELETE FROM audit WHERE what LIKE 'old %'`, [], 'app');
  await sandbox.switchAndArchive();
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

const steps: { planned: string[]; ran: string[] }[] = [];

/** A runner command as the runner (and the CLI) drives it: words → gather → plan → run; records planned and reported steps. */
async function runCommand<R>(command: RecoverCommand, words: string[]): Promise<R> {
  const events: EngineEvent[] = [];
  const engine = { ...sandbox.context(), events: { emit: (event: EngineEvent) => void events.push(event) } };
  const ctx = { engine, config: sandbox.config, cli: null };
  const args = command.parse(words);
  const facts = { ...(await command.gather!(ctx, args)), now: new Date(), production: { name: 'aiagent_prod' }, requestId: 'locate-test' };
  const plan = command.plan!(args, facts);
  const result = (await command.run!({ ...ctx, beforeDestructiveStep: async () => undefined }, command.paramsSchema!.parse(plan.params))) as R;
  steps.push({ planned: plan.steps.map((step) => step.kind), ran: events.flatMap((event) => (event.type === 'step.started' ? [event.step] : [])) });
  return result;
}

test('locate lists the DELETE of user 12345 with its xid, rows, commit time and the other table, then the UPDATE', async () => {
  const result = await runCommand<LocateResult>(locate, ['workflows']);
  expect(result.database).toBe('app');
  expect(result.transactions.map((t) => String(t.xid))).toEqual([marks.deleteXid, marks.updateXid]);
  const [deleted, updated] = result.transactions;
  expect(deleted).toMatchObject({ status: 'committed', table: { deleted: 8, updated: 0, truncated: false } });
  expect(deleted!.others).toEqual([expect.objectContaining({ name: 'audit', inserted: 1 })]);
  const commitMicros = Date.parse(deleted!.commitTime!);
  expect(deleted!.commitTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
  expect(commitMicros).toBeGreaterThanOrEqual(Math.floor(marks.before!.getTime()));
  expect(commitMicros).toBeLessThanOrEqual(marks.after!.getTime());
  expect(updated).toMatchObject({ table: { updated: 3, deleted: 0 } });
  // The later unrelated DELETE (audit) is not a change of workflows.
  expect(result.found).toBe(2);
  expect(result.tableRecords).toBeGreaterThan(0);
  expect(locate.format!(result)).toContain(`pitr --before-xid ${marks.deleteXid} --db app`);
  const followUps = locate.summary!({}, result).followUps;
  expect(followUps[0]).toContain(`/recover pitr --before-xid ${marks.deleteXid} --db app`);
  // Read-only, one declared step, reported as planned.
  expect(steps.at(-1)).toEqual({ planned: ['scan-wal'], ran: ['scan-wal'] });
  expect(locate.plan!(locate.parse(['workflows']), { table: { database: 'app', table: 'public.workflows', oid: 1, relations: [] }, wal: { segments: ['000000010000000000000003'], from: 'x', timeline: 1, segmentSize: 16 << 20, gapAt: null, bytes: 1 }, now: new Date(), production: { name: 'p' }, requestId: 'r' }).risk).toBe('read-only');
}, 120_000);

test('recover locate through the bundled CLI: text and --json', async () => {
  const env = sandbox.cliEnv();
  const text = await runBundledCli(['locate', 'workflows', '--db', 'app'], env);
  expect(text.code, text.stderr).toBe(0);
  expect(text.stdout).toContain(`xid ${marks.deleteXid}`);
  expect(text.stdout).toContain(`recover pitr --before-xid ${marks.deleteXid} --db app`);
  const json = await runBundledCli(['locate', 'workflows', '--json'], env);
  expect(json.code, json.stderr).toBe(0);
  expect(oneJsonObject(json.stdout)).toMatchObject({ ok: true, result: { table: 'public.workflows', transactions: [{ xid: Number(marks.deleteXid), table: { deleted: 8 } }, { xid: Number(marks.updateXid) }] } });
  const where = await runBundledCli(['locate', 'workflows', '--where', 'user_id = 12345'], env);
  expect(where.code).toBe(2);
}, 120_000);

test('a table whose relfilenode saw no change says so', async () => {
  await sandbox.query('CREATE TABLE quiet (id int)', [], 'app');
  const result = await runCommand<LocateResult>(locate, ['public.quiet', '--db', 'app']);
  expect(result.transactions).toEqual([]);
  expect(result.notes[0]).toContain('relfilenode has no records');
}, 120_000);

test('an unknown table or database is refused at planning', async () => {
  await expect(runCommand(locate, ['nope', '--db', 'app'])).rejects.toMatchObject({ code: 'BAD_INPUT' });
  await expect(runCommand(locate, ['workflows', '--db', 'no_such_db'])).rejects.toMatchObject({ code: 'DATABASE_NOT_FOUND', message: 'Production has no database no_such_db; its databases are: app, postgres.' });
}, 60_000);

test('pitr --before-xid of the DELETE brings the rows back, and the later commits are absent', async () => {
  const result = await runCommand<{ dataDir: string; socketDir: string; port: number; state: string }>(pitr, ['--before-xid', marks.deleteXid!, '--db', 'app', '--instance', 'before-delete']);
  try {
    expect(result.state).toBe('promoted');
    const client = new pg.Client({ host: result.socketDir, port: result.port, user: 'postgres', database: 'app' });
    await client.connect();
    try {
      const count = async (sql: string) => Number((await client.query(sql)).rows[0].n);
      expect(await count('SELECT count(*) AS n FROM workflows WHERE user_id = 12345')).toBe(8);
      expect(await count(`SELECT count(*) AS n FROM workflows WHERE name = 'renamed'`)).toBe(3);
      expect(await count('SELECT count(*) AS n FROM workflows WHERE id = 1000')).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM audit WHERE what = 'cleanup'`)).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM audit WHERE what LIKE 'old %'`)).toBe(10);
    } finally {
      await client.end();
    }
  } finally {
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
  }
}, 180_000);
