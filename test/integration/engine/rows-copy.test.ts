/**
 * Copying rows back between two real clusters: "side" holds the data from before the mistake,
 * "production" lost user 12345's workflows (and their executions and logs), then kept working.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { createExec } from '../../../src/engine/exec.js';
import { freePort, initCluster, startCluster, stopCluster, withClient, type ClusterHandle } from '../../../src/engine/local-cluster.js';
import { ownerFor } from '../../../src/engine/os-user.js';
import { clusterClient } from '../../../src/engine/local-cluster.js';
import { copyMissingRows, previewRows } from '../../../src/engine/rows/copy-back.js';
import { RecoverError } from '../../../src/errors.js';

const BIN = '/usr/lib/postgresql/15/bin';
const exec = createExec(pino({ level: 'silent' }));
let dir: string;
const clusters: ClusterHandle[] = [];
let side: ClusterHandle;
let production: ClusterHandle;

const SCHEMA = `
  DROP TABLE IF EXISTS execution_logs, workflow_executions, workflows, no_key, sessions, accounts;
  CREATE TABLE workflows (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id int NOT NULL, name text NOT NULL,
    amount numeric(30,10), created_at timestamptz NOT NULL DEFAULT '2025-01-01 00:00:00+00', name_len int GENERATED ALWAYS AS (length(name)) STORED);
  CREATE TABLE workflow_executions (id serial PRIMARY KEY, workflow_id bigint NOT NULL REFERENCES workflows(id), status text);
  CREATE TABLE execution_logs (execution_id int REFERENCES workflow_executions(id), line int, message text, PRIMARY KEY (execution_id, line));
  CREATE TABLE no_key (user_id int);
  INSERT INTO workflows (user_id, name, amount) SELECT CASE WHEN g % 10 = 0 THEN 12345 ELSE g END, 'wf ' || g, 12345678901234567890.1234567891 FROM generate_series(1, 100) g;
  INSERT INTO workflow_executions (workflow_id, status) SELECT w.id, s FROM workflows w, unnest(ARRAY['ok', 'failed']) s;
  INSERT INTO execution_logs SELECT e.id, l, 'line ' || l FROM workflow_executions e, generate_series(1, 2) l;
  CREATE TABLE accounts (id int PRIMARY KEY, team int NOT NULL, email text NOT NULL CONSTRAINT accounts_email_key UNIQUE);
  CREATE UNIQUE INDEX accounts_email_lower ON accounts (lower(email));
  CREATE TABLE sessions (id int PRIMARY KEY, account_id int NOT NULL REFERENCES accounts(id));
  INSERT INTO accounts SELECT g, 7, 'a' || g FROM generate_series(1, 6) g;
  INSERT INTO sessions SELECT g, 1 + g % 6 FROM generate_series(1, 12) g;`;

const sql = (cluster: ClusterHandle, text: string, params: unknown[] = []) => withClient(cluster, 'postgres', async (client) => (await client.query(text, params)).rows);
const conn = (cluster: ClusterHandle) => ({ host: cluster.socketDir, port: cluster.port, user: 'postgres', database: 'postgres' });
const othersHash = (cluster: ClusterHandle) =>
  sql(cluster, `SELECT (SELECT md5(string_agg(md5(w::text), '' ORDER BY w.id)) FROM workflows w WHERE user_id <> 12345) AS w,
                       (SELECT md5(string_agg(md5(e::text), '' ORDER BY e.id)) FROM workflow_executions e JOIN workflows w ON w.id = e.workflow_id WHERE w.user_id <> 12345) AS e`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rb-rows-'));
  await chmod(dir, 0o755);
  const owner = await ownerFor('postgres');
  for (const name of ['side', 'production']) {
    const cluster = await initCluster(exec, { bin: BIN, osUser: 'postgres', owner, dataDir: join(dir, name, 'data'), socketDir: join(dir, name, 'run'), port: await freePort(), settings: { fsync: 'off' } });
    await startCluster(exec, BIN, 'postgres', cluster);
    clusters.push(cluster);
  }
  [side, production] = clusters as [ClusterHandle, ClusterHandle];
});

afterAll(async () => {
  for (const cluster of clusters) await stopCluster(exec, BIN, 'postgres', cluster.dataDir, 'immediate').catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  for (const cluster of clusters) await sql(cluster, SCHEMA);
  // The side instance also has one of the user's workflows with an id above production's sequence.
  await sql(side, `INSERT INTO workflows (id, user_id, name) OVERRIDING SYSTEM VALUE VALUES (5000, 12345, 'late')`);
  // The mistake in production: the user's workflows, executions and logs deleted…
  await sql(production, `DELETE FROM execution_logs WHERE execution_id IN (SELECT e.id FROM workflow_executions e JOIN workflows w ON w.id = e.workflow_id WHERE w.user_id = 12345 AND w.id <> 30);
    DELETE FROM workflow_executions WHERE workflow_id IN (SELECT id FROM workflows WHERE user_id = 12345 AND id <> 30);
    DELETE FROM workflows WHERE user_id = 12345 AND id <> 30;
    UPDATE workflows SET name = 'renamed since' WHERE id = 30;`);
  // … then one workflow re-created by the user with the same values, and production kept working.
  await sql(production, `INSERT INTO workflows (id, user_id, name, amount) OVERRIDING SYSTEM VALUE VALUES (10, 12345, 'wf 10', 12345678901234567890.1234567891);
    INSERT INTO workflows (user_id, name) VALUES (7, 'new after the mistake')`);
});

const spec = { table: 'workflows', filter: 'user_id = 12345', withChildren: true, pageRows: 3 };

test('preview: matching, missing, present, different per table, parents first, and a stable digest', async () => {
  const preview = await previewRows(conn(side), conn(production), spec);
  expect(preview.tables.map((t) => [t.table, t.depth, t.matching, t.missing, t.present, t.different])).toEqual([
    ['workflows', 0, 11, 9, 1, 1],
    ['workflow_executions', 1, 20, 18, 2, 0],
    ['execution_logs', 2, 40, 36, 4, 0],
  ]);
  expect(preview.tables[1]!.via).toBe('workflow_executions_workflow_id_fkey → workflows');
  expect(preview.tables[0]!.sampleDifferent).toEqual(['{"id": 30}']);
  expect((await previewRows(conn(side), conn(production), spec)).digest).toBe(preview.digest);
  const alone = await previewRows(conn(side), conn(production), { ...spec, withChildren: false });
  expect(alone.tables.map((t) => t.table)).toEqual(['workflows']);
  expect(alone.digest).not.toBe(preview.digest);
});

test('copy: missing rows back with the same values, re-created rows skipped, the changed one left alone, sequence moved, others untouched', async () => {
  const before = await othersHash(production);
  const preview = await previewRows(conn(side), conn(production), spec);
  const result = await copyMissingRows(conn(side), conn(production), spec, { expectDigest: preview.digest });
  expect(result.tables).toMatchObject([
    { table: 'workflows', restored: 9, skippedPresent: 1, conflicting: 1, different: 1, uniqueConflicts: 0, conflicts: [], rowsBefore: 93, rowsAfter: 102 },
    { table: 'workflow_executions', restored: 18, skippedPresent: 2, conflicting: 0 },
    { table: 'execution_logs', restored: 36, skippedPresent: 4, conflicting: 0 },
  ]);
  expect(result.totals).toEqual({ restored: 63, skippedPresent: 7, conflicting: 1, different: 1, uniqueConflicts: 0, parentSkipped: 0 });
  for (const table of result.tables) expect(table.productionHash).toBe(table.sideHash);
  expect(result.sequences).toEqual([{ sequence: 'public.workflows_id_seq', movedTo: '5000' }]);
  // Same values, numeric precision and generated column included; the conflicting row kept production's values.
  const userRows = `SELECT id, user_id, name, amount::text, created_at, name_len FROM workflows WHERE user_id = 12345 AND id <> 30 ORDER BY id`;
  expect(await sql(production, userRows)).toEqual(await sql(side, userRows));
  expect(await sql(production, `SELECT name FROM workflows WHERE id = 30`)).toEqual([{ name: 'renamed since' }]);
  expect(await sql(production, `SELECT count(*)::int AS n FROM workflows WHERE id = 10`)).toEqual([{ n: 1 }]);
  expect(await othersHash(production)).toEqual(before);
  const [next] = await sql(production, `INSERT INTO workflows (user_id, name) VALUES (1, 'after') RETURNING id`);
  expect(Number(next!.id)).toBe(5001);
  // Again: everything is present now; nothing is written twice.
  const again = await copyMissingRows(conn(side), conn(production), spec);
  expect(again.totals).toEqual({ restored: 0, skippedPresent: 70, conflicting: 1, different: 1, uniqueConflicts: 0, parentSkipped: 0 });
});

test('a changed preview refuses before writing anything', async () => {
  const preview = await previewRows(conn(side), conn(production), spec);
  await sql(production, `INSERT INTO workflows (id, user_id, name) OVERRIDING SYSTEM VALUE VALUES (20, 12345, 'someone re-created it differently')`);
  const error = await copyMissingRows(conn(side), conn(production), spec, { expectDigest: preview.digest }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).message).toMatch(/preview changed since it was approved.*nothing was written/);
  expect(await sql(production, `SELECT count(*)::int AS n FROM workflows WHERE user_id = 12345`)).toEqual([{ n: 3 }]);
});

test('production keeps taking writes while the copy transaction is open', async () => {
  // Hold the copy at its last table: a SHARE lock on execution_logs blocks its insert there.
  const blocker: pg.Client = clusterClient(production);
  const writer: pg.Client = clusterClient(production);
  await blocker.connect();
  await writer.connect();
  try {
    await blocker.query('BEGIN; LOCK TABLE execution_logs IN SHARE MODE');
    let settled = false;
    const copying = copyMissingRows(conn(side), conn(production), spec).finally(() => (settled = true));
    copying.catch(() => undefined);
    // Wait for the copy to be waiting on that lock (a state, not a duration).
    for (;;) {
      const [row] = (await writer.query(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'execution_logs' AND NOT l.granted`)).rows;
      if (row.n > 0) break;
      if (settled) await copying; // finished or failed without ever waiting: let the test say so
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Meanwhile another session writes to the same tables, and it is not blocked.
    const inserted = await writer.query(`INSERT INTO workflows (user_id, name) VALUES (99, 'during the copy') RETURNING id`);
    await writer.query(`INSERT INTO workflow_executions (workflow_id, status) VALUES ($1, 'ok')`, [inserted.rows[0].id]);
    await blocker.query('COMMIT');
    expect((await copying).totals.restored).toBe(63);
    expect(await sql(production, `SELECT count(*)::int AS n FROM workflows WHERE name = 'during the copy'`)).toEqual([{ n: 1 }]);
  } finally {
    await blocker.end();
    await writer.end();
  }
});

test('a failure rolls back everything: production unchanged', async () => {
  const before = await sql(production, `SELECT count(*)::int AS n FROM workflows`);
  // A log row whose execution is not in the set: the insert violates its foreign key.
  await sql(production, `ALTER TABLE execution_logs ADD CONSTRAINT short_lines CHECK (line < 2) NOT VALID`);
  const error = await copyMissingRows(conn(side), conn(production), spec).catch((e: unknown) => e);
  expect((error as RecoverError).message).toMatch(/rolled back; production is unchanged: .*short_lines/);
  expect(await sql(production, `SELECT count(*)::int AS n FROM workflows`)).toEqual(before);
});

test('refusals: no primary key, unknown column, a value the column cannot read, no such table', async () => {
  const refusal = (s: typeof spec) => previewRows(conn(side), conn(production), s).then(() => null, (e: RecoverError) => `${e.code}: ${e.message}`);
  expect(await refusal({ ...spec, table: 'no_key' })).toMatch(/^NO_PRIMARY_KEY: no_key has no primary key, so missing rows cannot be told from present ones\.$/);
  expect(await refusal({ ...spec, filter: 'usr_id = 1' })).toMatch(/^BAD_INPUT: Unknown column usr_id at position 1 in workflows; columns are: id, user_id, name, amount, created_at, name_len\.$/);
  expect(await refusal({ ...spec, filter: "created_at > 'yesterday-ish'" })).toMatch(/^BAD_INPUT: A value in the filter does not fit its column: invalid input syntax for type timestamp with time zone/);
  expect(await refusal({ ...spec, table: 'nope' })).toMatch(/^BAD_INPUT: There is no table nope in the side instance\.$/);
  expect(await refusal({ ...spec, table: 'workflows; drop table x' })).toMatch(/^BAD_INPUT: /);
});

test('a row whose unique value another row now holds is a conflict (key and constraint named), skipped with its children; the others are written', async () => {
  // The mistake deleted team 7's accounts 2, 3 and 4 (and their sessions); since then new
  // accounts took 'a3' (accounts_email_key) and 'A4' (only the expression index lower(email)).
  await sql(production, `DELETE FROM sessions WHERE account_id IN (2, 3, 4); DELETE FROM accounts WHERE id IN (2, 3, 4);
    INSERT INTO accounts VALUES (100, 8, 'a3'), (101, 8, 'A4');`);
  const accounts = { table: 'accounts', filter: 'team = 7', withChildren: true };
  const preview = await previewRows(conn(side), conn(production), accounts);
  expect(preview.tables.map((t) => [t.table, t.matching, t.missing, t.present, t.different, t.conflicting, t.parentSkipped])).toEqual([
    ['accounts', 6, 2, 3, 0, 1, 0],
    ['sessions', 12, 4, 6, 0, 0, 2],
  ]);
  expect(preview.tables[0]!.sampleConflicts).toEqual(['{"id": 3}: unique constraint accounts_email_key (email): its value is held by {"id": 100} in production']);
  expect(preview.tables[1]!.sampleParentSkipped).toEqual([
    '{"id": 2}: its parent {"id": 3} in accounts does not go back (a conflict there)',
    '{"id": 8}: its parent {"id": 3} in accounts does not go back (a conflict there)',
  ]);
  expect(preview.totals).toMatchObject({ missing: 6, conflicting: 1, parentSkipped: 2 });

  const result = await copyMissingRows(conn(side), conn(production), accounts, { expectDigest: preview.digest });
  expect(result.tables.map((t) => [t.table, t.restored, t.skippedPresent, t.different, t.uniqueConflicts, t.conflicting, t.parentSkipped])).toEqual([
    ['accounts', 1, 3, 0, 2, 2, 0],
    ['sessions', 2, 6, 0, 0, 0, 4],
  ]);
  expect(result.tables[0]!.conflicts).toEqual([
    { key: '{"id": 3}', reason: 'unique constraint accounts_email_key (email): its value is held by {"id": 100} in production' },
    { key: '{"id": 4}', reason: expect.stringMatching(/^the insert skipped it: a unique value is held by another row \(an expression or partial unique index/) },
  ]);
  expect(result.tables[1]!.parentSkips.map((c) => c.key)).toEqual(['{"id": 2}', '{"id": 3}', '{"id": 8}', '{"id": 9}']);
  expect(result.tables[1]!.parentSkips[1]!.reason).toBe('its parent {"id": 4} in accounts does not go back (a conflict there)');
  expect(result.tables[0]).toMatchObject({ rowsBefore: 5, rowsAfter: 6 });
  expect(result.tables[0]!.productionHash).toBe(result.tables[0]!.sideHash);
  // Account 2 and its sessions are back; 3 and 4 (and theirs) are not, production's holders untouched.
  expect(await sql(production, `SELECT id, email FROM accounts ORDER BY id`)).toEqual([1, 2, 5, 6, 100, 101].map((id) => ({ id, email: id === 100 ? 'a3' : id === 101 ? 'A4' : `a${id}` })));
  expect(await sql(production, `SELECT id FROM sessions WHERE account_id IN (2, 3, 4) ORDER BY id`)).toEqual([{ id: 1 }, { id: 7 }]);
});

/** The side instance's executions of a workflow and their logs' keys, as the copy reports them. */
async function childKeysOf(workflowId: number): Promise<{ executions: string[]; logs: string[] }> {
  const executions = await sql(side, `SELECT jsonb_build_object('id', id)::text AS key FROM workflow_executions WHERE workflow_id = $1 ORDER BY id`, [workflowId]);
  const logs = await sql(side, `SELECT jsonb_build_object('execution_id', l.execution_id, 'line', l.line)::text AS key FROM execution_logs l JOIN workflow_executions e ON e.id = l.execution_id WHERE e.workflow_id = $1 ORDER BY 1`, [workflowId]);
  return { executions: executions.map((row) => row.key as string), logs: logs.map((row) => row.key as string) };
}

const productionChildrenOf = async (workflowId: number) =>
  sql(production, `SELECT (SELECT count(*)::int FROM workflow_executions WHERE workflow_id = $1) AS executions,
                          (SELECT count(*)::int FROM execution_logs l JOIN workflow_executions e ON e.id = l.execution_id WHERE e.workflow_id = $1) AS logs`, [workflowId]);

test('a parent whose key a new production row took since the preview: left alone, its old children NOT inserted (skipped, by key); a parent present and equal gets its missing children', async () => {
  const preview = await previewRows(conn(side), conn(production), spec);
  expect(preview.totals.parentSkipped).toBe(0);
  // After the preview, someone creates a new workflow (another user's) with id 20 in production.
  await sql(production, `INSERT INTO workflows (id, user_id, name) OVERRIDING SYSTEM VALUE VALUES (20, 777, 'a new workflow that took id 20')`);
  const { executions, logs } = await childKeysOf(20);
  // Read again, the preview already says so (children of a parent that differs are not inserted).
  const again = await previewRows(conn(side), conn(production), spec);
  expect(again.tables.map((t) => [t.table, t.missing, t.different, t.parentSkipped])).toEqual([
    ['workflows', 8, 2, 0],
    ['workflow_executions', 16, 0, 2],
    ['execution_logs', 32, 0, 4],
  ]);
  expect(again.tables[1]!.sampleParentSkipped[0]).toBe(`${executions[0]}: its parent {"id": 20} in workflows is in production with other values (left alone; it may be a new row that took the key), so this row is not attached to it`);

  const result = await copyMissingRows(conn(side), conn(production), spec);
  expect(result.tables.map((t) => [t.table, t.restored, t.different, t.uniqueConflicts, t.parentSkipped])).toEqual([
    ['workflows', 8, 2, 0, 0],
    ['workflow_executions', 16, 0, 0, 2],
    ['execution_logs', 32, 0, 0, 4],
  ]);
  expect(result.totals.parentSkipped).toBe(6);
  expect(result.tables[1]!.parentSkips.map((c) => c.key)).toEqual(executions);
  expect(result.tables[2]!.parentSkips.map((c) => c.key).sort()).toEqual(logs);
  expect(result.tables[2]!.parentSkips[0]!.reason).toMatch(/^its parent \{"id": \d+\} in workflow_executions does not go back \(skipped there: its own parent does not go back or differs in production\)$/);
  // The new workflow 20 is untouched and has no children; workflow 10 (re-created equal) got its executions and logs back.
  expect(await sql(production, `SELECT user_id, name FROM workflows WHERE id = 20`)).toEqual([{ user_id: 777, name: 'a new workflow that took id 20' }]);
  expect(await productionChildrenOf(20)).toEqual([{ executions: 0, logs: 0 }]);
  expect(await productionChildrenOf(10)).toEqual([{ executions: 2, logs: 4 }]);
  for (const table of result.tables) expect(table.productionHash).toBe(table.sideHash);
});

test('a parent inserted by someone else while the approved copy runs (after the digest check, inside its transaction): its children are not attached to it', async () => {
  const preview = await previewRows(conn(side), conn(production), spec);
  const { executions } = await childKeysOf(20);
  // Hold the copy at its first insert into workflows: a SHARE lock there blocks it; the copy's in-transaction preview has passed.
  const blocker: pg.Client = clusterClient(production);
  await blocker.connect();
  try {
    await blocker.query('BEGIN; LOCK TABLE workflows IN SHARE MODE');
    let settled = false;
    const copying = copyMissingRows(conn(side), conn(production), spec, { expectDigest: preview.digest }).finally(() => (settled = true));
    copying.catch(() => undefined);
    for (;;) {
      const [row] = (await blocker.query(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'workflows' AND NOT l.granted`)).rows;
      if (row.n > 0) break;
      if (settled) await copying; // finished or failed without ever waiting: let the test say so
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Meanwhile a new workflow takes id 20 (one the copy is about to insert) and commits first.
    await blocker.query(`INSERT INTO workflows (id, user_id, name) OVERRIDING SYSTEM VALUE VALUES (20, 777, 'a new workflow that took id 20')`);
    await blocker.query('COMMIT');
    const result = await copying;
    expect(result.tables.map((t) => [t.table, t.restored, t.skippedPresent, t.different, t.parentSkipped])).toEqual([
      ['workflows', 8, 1, 2, 0],
      ['workflow_executions', 16, 2, 0, 2],
      ['execution_logs', 32, 4, 0, 4],
    ]);
    expect(result.tables[1]!.parentSkips).toEqual(executions.map((key) => ({ key, reason: 'its parent {"id": 20} in workflows does not go back (inserted meanwhile in production with other values)' })));
    expect(await productionChildrenOf(20)).toEqual([{ executions: 0, logs: 0 }]);
    expect(await sql(production, `SELECT user_id FROM workflows WHERE id = 20`)).toEqual([{ user_id: 777 }]);
  } finally {
    await blocker.end();
  }
});
