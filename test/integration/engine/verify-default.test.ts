/** Default verification (no --db): every database with data, including `postgres` when it holds the tables. */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createExec } from '../../../src/engine/exec.js';
import { freePort, initCluster, startOnFreePort, stopCluster, withClient, type ClusterHandle } from '../../../src/engine/local-cluster.js';
import { ownerFor } from '../../../src/engine/os-user.js';
import { verifyRestored } from '../../../src/engine/verify.js';
import { parseIntegrityConfig } from '../../../src/config.js';

const BIN = '/usr/lib/postgresql/15/bin';
const exec = createExec(pino({ level: 'silent' }));
let dir: string;
let cluster: ClusterHandle | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rb-verify-'));
  await chmod(dir, 0o755);
  cluster = await startOnFreePort(exec, BIN, 'postgres', await initCluster(exec, { bin: BIN, osUser: 'postgres', owner: await ownerFor('postgres'), dataDir: join(dir, 'data'), socketDir: join(dir, 'run'), port: await freePort(), settings: { fsync: 'off' } }));
});

afterAll(async () => {
  if (cluster) await stopCluster(exec, BIN, 'postgres', cluster.dataDir, 'immediate');
  await rm(dir, { recursive: true, force: true });
});

const connection = () => ({ host: cluster!.socketDir, port: cluster!.port, user: 'postgres' });

test('an empty postgres database is skipped; one holding the data is verified', async () => {
  await withClient(cluster!, 'postgres', (client) => client.query('CREATE DATABASE app'));
  let report = await verifyRestored(connection());
  expect(report.ok).toBe(true);
  expect(report.databases.map((db) => db.name)).toEqual(['app']);

  await withClient(cluster!, 'postgres', async (client) => {
    await client.query('CREATE TABLE workflows (id int)');
    await client.query('INSERT INTO workflows SELECT generate_series(1, 42)');
  });
  report = await verifyRestored(connection());
  expect(report.ok).toBe(true);
  expect(report.databases.map((db) => db.name).sort()).toEqual(['app', 'postgres']);
  expect(report.databases.find((db) => db.name === 'postgres')?.tables).toEqual([{ table: 'workflows', rows: 42 }]);
});

test('large tables report the statistics as estimates, critical ones are counted, and a spent budget skips counts', async () => {
  await withClient(cluster!, 'postgres', (client) => client.query('CREATE DATABASE sized'));
  await withClient(cluster!, 'sized', async (client) => {
    await client.query('CREATE TABLE big (id int, pad text); CREATE TABLE critical_big (id int, pad text); CREATE TABLE tiny (id int)');
    await client.query(`INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 3000) g; INSERT INTO critical_big SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g`);
    await client.query('ANALYZE');
    // Rows the statistics do not know yet: the estimate stays 3000, the exact count says 3001.
    await client.query(`INSERT INTO big VALUES (0, 'late'); INSERT INTO critical_big VALUES (0, 'late')`);
  });
  // 64 kB: both tables (about 400 kB each) are above it, the empty one below.
  const integrity = parseIntegrityConfig(JSON.stringify({ exactCountBelowMb: 0.0625, databases: { '*': { criticalTables: ['critical_big'] } } }));
  const report = await verifyRestored(connection(), { databases: ['sized'], integrity });
  expect(report.ok).toBe(true);
  expect(report.databases[0]?.tables).toEqual([
    { table: 'big', rows: 3000, count: 'estimate' },
    { table: 'critical_big', rows: 2001 },
    { table: 'tiny', rows: 0 },
  ]);
  expect(report.checks.find((c) => c.name === 'database sized')?.message).toContain('2 exact, 1 estimated, 0 skipped');

  // An estimated table is still read (one row): locked away, it fails as unreadable, the estimate still shown.
  const short = parseIntegrityConfig(JSON.stringify({ exactCountBelowMb: 0.0625, ruleTimeoutMs: 200 }));
  const locked = await withClient(cluster!, 'sized', async (holder) => {
    await holder.query('BEGIN; LOCK TABLE big IN ACCESS EXCLUSIVE MODE');
    try {
      return await verifyRestored(connection(), { databases: ['sized'], integrity: short });
    } finally {
      await holder.query('ROLLBACK');
    }
  });
  expect(locked.checks.filter((c) => !c.ok).map((c) => [c.name, c.message])).toEqual([['table sized.big', expect.stringMatching(/^could not read big: canceling statement due to statement timeout/)]]);
  expect(locked.databases[0]?.tables[0]).toEqual({ table: 'big', rows: 3000, count: 'estimate' });

  // 'exact' (a copy compared count for count) counts every table.
  const exact = await verifyRestored(connection(), { databases: ['sized'], integrity, counts: 'exact' });
  expect(exact.databases[0]?.tables.map((t) => [t.rows, t.count])).toEqual([[3001, undefined], [2001, undefined], [0, undefined]]);

  // A budget spent before the counts start: every planned count skipped, the estimates shown, the report says so.
  let calls = 0;
  const late = await verifyRestored(connection(), { databases: ['sized'], integrity, now: () => (calls++ === 0 ? 0 : 10_000_000) });
  expect(late.ok).toBe(true);
  expect(late.databases[0]?.tables.map((t) => [t.table, t.count])).toEqual([['big', 'estimate'], ['critical_big', 'skipped'], ['tiny', 'skipped']]);
  expect(late.checks.find((c) => c.name === 'row counts sized')).toMatchObject({ skipped: true, message: expect.stringContaining('critical_big, tiny') });
});
