/**
 * `/recover locate` on a table truncated and refilled since the base backup (issue 17 item 8),
 * against a sandbox at wal_level replica (where a TRUNCATE writes no heap TRUNCATE record: the
 * table only gets a new relfilenode, the old one dropped at commit). After the backup: rows
 * inserted, two deleted (under the table's first relfilenode), TRUNCATE, refilled, three deleted,
 * then VACUUM FULL (another relfilenode, rows kept). Locate lists the later DELETE, the TRUNCATE
 * and the earlier DELETE with their xids, notes the VACUUM FULL as a rewrite, and
 * `pitr --before-xid` of the TRUNCATE brings back the rows as they were just before it.
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
import { parseConnectionUrl } from '../../../src/util/connection-url.js';

let sandbox: Sandbox;
const xids: { deleteOld?: string; truncate?: string; deleteNew?: string } = {};
const filenodes: { first?: string; afterTruncate?: string; now?: string } = {};

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

const filenode = async () => (await sandbox.query<{ f: string }>(`SELECT pg_relation_filenode('orders')::text AS f`, [], 'app'))[0]!.f;

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE DATABASE app');
  await sandbox.query(`CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, 'before the backup ' || g FROM generate_series(1, 10) g`, [], 'app');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query(`INSERT INTO orders SELECT g, 'after the backup ' || g FROM generate_series(11, 20) g`, [], 'app');
  filenodes.first = await filenode();
  xids.deleteOld = await inTransaction(['DELETE FROM orders WHERE id IN (3, 4)']);
  xids.truncate = await inTransaction(['TRUNCATE orders']);
  filenodes.afterTruncate = await filenode();
  await sandbox.query(`INSERT INTO orders SELECT g, 'refilled ' || g FROM generate_series(100, 109) g`, [], 'app');
  xids.deleteNew = await inTransaction(['DELETE FROM orders WHERE id IN (100, 101, 102)']);
  await sandbox.query('VACUUM FULL orders', [], 'app');
  filenodes.now = await filenode();
  await sandbox.switchAndArchive();
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

async function runCommand<R>(command: RecoverCommand, words: string[]): Promise<R> {
  const ctx = { engine: sandbox.context(), config: sandbox.config, cli: null };
  const args = command.parse(words);
  const facts = { ...(await command.gather!(ctx, args)), now: new Date(), production: { name: 'aiagent_prod' }, requestId: 'locate-truncate-test' };
  const plan = command.plan!(args, facts);
  return (await command.run!({ ...ctx, beforeDestructiveStep: async () => undefined }, command.paramsSchema!.parse(plan.params))) as R;
}

test('locate lists the DELETE after the refill, the TRUNCATE, and the DELETE under the old relfilenode; VACUUM FULL is noted, not listed', async () => {
  expect(new Set([filenodes.first, filenodes.afterTruncate, filenodes.now]).size).toBe(3);
  const result = await runCommand<LocateResult>(locate, ['orders', '--db', 'app']);
  expect(result.transactions.map((t) => [String(t.xid), t.table.deleted, t.table.truncated])).toEqual([
    [xids.deleteNew, 3, false],
    [xids.truncate, 0, true],
    [xids.deleteOld, 2, false],
  ]);
  const [deleteNew, truncate, deleteOld] = result.transactions;
  expect(truncate).toMatchObject({ status: 'committed', storage: { kind: 'truncate', unresolved: false } });
  expect(truncate!.storage!.from[0]).toMatch(new RegExp(`/${filenodes.first}$`));
  expect(truncate!.storage!.to[0]).toMatch(new RegExp(`/${filenodes.afterTruncate}$`));
  expect(truncate!.commitTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/);
  expect(deleteOld!.oldStorage[0]).toMatch(new RegExp(`/${filenodes.first}$`));
  expect(deleteNew!.oldStorage[0]).toMatch(new RegExp(`/${filenodes.afterTruncate}$`)); // VACUUM FULL moved the table since
  expect(result.relfilenodes[0]).toMatch(new RegExp(`/${filenodes.now}$`));
  expect(result.rewrites).toHaveLength(1);
  const text = locate.format!(result);
  expect(text).toContain(`xid ${xids.truncate}, committed ${truncate!.commitTime}`);
  expect(text).toContain(`TRUNCATE of public.orders (all rows removed; relfilenode`);
  expect(text).toContain(`recover pitr --before-xid ${xids.truncate} --db app`);
  expect(text).toContain(`recover table public.orders --before-xid ${xids.truncate} --mode missing-rows --db app`);
  expect(text).toContain('(under its old relfilenode');
  expect(result.notes.some((note) => note.includes('VACUUM FULL or CLUSTER'))).toBe(true);
  expect(result.notes.some((note) => note.includes('only inserts'))).toBe(false);
  expect(locate.summary!({}, result).followUps[1]).toContain(`/recover pitr --before-xid ${xids.truncate} --db app`);
}, 180_000);

test('pitr --before-xid of the TRUNCATE brings back the rows as they were just before it', async () => {
  const result = await runCommand<{ dataDir: string; socketDir: string; port: number; state: string }>(pitr, ['--before-xid', xids.truncate!, '--db', 'app', '--instance', 'before-truncate']);
  try {
    expect(result.state).toBe('promoted');
    const client = new pg.Client({ host: result.socketDir, port: result.port, user: 'postgres', database: 'app' });
    await client.connect();
    try {
      const ids = (await client.query<{ id: number }>('SELECT id FROM orders ORDER BY id')).rows.map((row) => row.id);
      expect(ids).toEqual([1, 2, ...Array.from({ length: 16 }, (_, i) => i + 5)]);
    } finally {
      await client.end();
    }
  } finally {
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
  }
}, 240_000);
