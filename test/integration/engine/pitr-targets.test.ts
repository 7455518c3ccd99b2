/**
 * The five target kinds land exactly (in the spirit of PostgreSQL's
 * src/test/recovery/t/003_recovery_targets.pl): batches of rows between the targets, and each
 * restore has exactly the rows up to its target. Plus a time target just before a destructive
 * change restoring tables hash-identical to a snapshot taken at that moment.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { stopCluster } from '../../../src/engine/local-cluster.js';
import { runPitr, type PitrRequest } from '../../../src/engine/pitr.js';
import { tableHashes } from '../../../src/engine/verify.js';
import { parseLsn } from '../../../src/catalog/segments.js';
import type { RecoveryTarget } from '../../../src/types.js';
import pg from 'pg';

let sandbox: Sandbox;
const marks: { xid?: string; time?: Date; lsn?: string; snapshotTime?: Date } = {};
let snapshot: Record<string, { rows: number; hash: string }>;

async function insertBatch(batch: number): Promise<void> {
  await sandbox.query(`INSERT INTO batches SELECT $1, g, md5(g::text) FROM generate_series(1, 100) g`, [batch]);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE TABLE batches (batch int NOT NULL, id int NOT NULL, payload text, PRIMARY KEY (batch, id))');
  await sandbox.query('CREATE DATABASE aiagent_prod');
  await sandbox.query(
    `CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
     CREATE TABLE workflows (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users(id) ON DELETE CASCADE, name text, updated_at timestamptz NOT NULL DEFAULT now());
     INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 200) g;
     INSERT INTO workflows SELECT g, 1 + g % 200, 'workflow ' || g FROM generate_series(1, 1000) g;`,
    [],
    'aiagent_prod',
  );
  await insertBatch(1);
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));

  // Batch 2 is committed by the transaction whose xid is the target.
  const client = new pg.Client({ host: sandbox.production.socketDir, port: sandbox.production.port, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`INSERT INTO batches SELECT 2, g, md5(g::text) FROM generate_series(1, 100) g`);
    marks.xid = (await client.query('SELECT pg_current_xact_id()::text AS xid')).rows[0].xid;
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
  await insertBatch(3);
  await pause(50);
  marks.time = (await sandbox.query<{ now: Date }>('SELECT clock_timestamp() AS now'))[0]!.now;
  await pause(50);
  await insertBatch(4);
  await sandbox.query(`SELECT pg_create_restore_point('before_batch_5')`);
  await insertBatch(5);
  marks.lsn = (await sandbox.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn;
  await insertBatch(6);
  await sandbox.switchAndArchive();

  // The mistaken change: snapshot, then a destructive delete and update in aiagent_prod.
  await pause(50);
  const productionConn = { host: sandbox.production.socketDir, port: sandbox.production.port, user: 'postgres' };
  snapshot = await tableHashes(productionConn, 'aiagent_prod');
  marks.snapshotTime = (await sandbox.query<{ now: Date }>('SELECT clock_timestamp() AS now'))[0]!.now;
  await pause(50);
  await sandbox.query(`DELETE FROM users WHERE id % 3 = 0; UPDATE workflows SET name = 'oops'`, [], 'aiagent_prod');
  await sandbox.switchAndArchive();
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

async function restore(target: RecoveryTarget, name: string, extra: Partial<PitrRequest> = {}) {
  const result = await runPitr(sandbox.context(), sandbox.config, { target, inclusive: true, action: 'promote', to: 'side', instanceName: name, ...extra });
  return result;
}

async function batchesIn(result: { socketDir: string | null; port: number | null }): Promise<number[]> {
  const client = new pg.Client({ host: result.socketDir!, port: result.port!, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT batch, count(*)::int AS n FROM batches GROUP BY batch ORDER BY batch');
    for (const row of rows) expect(row.n).toBe(100);
    return rows.map((row) => row.batch as number);
  } finally {
    await client.end();
  }
}

describe('each target kind restores exactly the rows up to its target', () => {
  const cases: [string, () => RecoveryTarget, number[]][] = [
    ['immediate', () => ({ kind: 'immediate' }), [1]],
    ['xid', () => ({ kind: 'xid', xid: marks.xid! }), [1, 2]],
    ['time', () => ({ kind: 'time', time: marks.time!, raw: marks.time!.toISOString() }), [1, 2, 3]],
    ['name', () => ({ kind: 'name', name: 'before_batch_5' }), [1, 2, 3, 4]],
    ['lsn', () => ({ kind: 'lsn', lsn: parseLsn(marks.lsn!) }), [1, 2, 3, 4, 5]],
    ['latest', () => ({ kind: 'latest' }), [1, 2, 3, 4, 5, 6]],
  ];
  test.each(cases)('%s', async (name, target, expected) => {
    const result = await restore(target(), `target-${name}`);
    try {
      expect(result.state).toBe('promoted');
      expect(result.report.ok).toBe(true);
      expect(result.timeline).toBeGreaterThan(1);
      expect(await batchesIn(result)).toEqual(expected);
    } finally {
      await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
    }
  });
});

test('a time target just before a destructive change restores tables hash-identical to the snapshot', async () => {
  const result = await restore({ kind: 'time', time: marks.snapshotTime!, raw: marks.snapshotTime!.toISOString() }, 'before-mistake', { databases: ['aiagent_prod'] });
  try {
    const restored = await tableHashes({ host: result.socketDir!, port: result.port!, user: 'postgres' }, 'aiagent_prod');
    expect(restored).toEqual(snapshot);
    expect(restored.users?.rows).toBe(200);
    // Reached time is at or before the target, and it is reported.
    expect(Date.parse(result.reachedTime!)).toBeLessThanOrEqual(marks.snapshotTime!.getTime());
    const tables = result.report.databases.find((db) => db.name === 'aiagent_prod')!.tables;
    expect(tables.find((t) => t.table === 'workflows')?.rows).toBe(1000);
    // The restored side instance has archiving off, so its new timeline never reaches production's archive.
    const client = new pg.Client({ host: result.socketDir!, port: result.port!, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      expect((await client.query('SHOW archive_mode')).rows[0].archive_mode).toBe('off');
    } finally {
      await client.end();
    }
  } finally {
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
  }
});

test('progress events: steps, fetched segments and replay LSN are reported', () => {
  const types = new Set(sandbox.events.map((event) => event.type));
  expect(types).toContain('step.started');
  expect(types).toContain('step.finished');
  expect(types).toContain('integrity.report');
  const steps = new Set(sandbox.events.flatMap((event) => (event.type === 'step.progress' ? [event.step] : [])));
  expect(steps).toContain('restore-base-backup');
  expect(steps).toContain('replay-wal');
  // Prefetch progress rides on replay's: no step of its own that Slack would list.
  expect(steps).not.toContain('fetch-wal');
  const details = sandbox.events.flatMap((event) => (event.type === 'step.progress' && event.step === 'replay-wal' ? [event.detail ?? ''] : []));
  expect(details.some((detail) => /replayed to [0-9A-F]+\/[0-9A-F]+ · \d+\/\d+ segments fetched/.test(detail))).toBe(true);
});

test('--action pause stops at the target without promoting, for a person to inspect', async () => {
  const result = await restore({ kind: 'lsn', lsn: parseLsn(marks.lsn!) }, 'paused', { action: 'pause' });
  try {
    expect(result.state).toBe('paused');
    expect(await batchesIn(result)).toEqual([1, 2, 3, 4, 5]);
    const client = new pg.Client({ host: result.socketDir!, port: result.port!, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT pg_is_in_recovery() AS recovering, pg_get_wal_replay_pause_state() AS pause');
      expect(rows[0]).toEqual({ recovering: true, pause: 'paused' });
    } finally {
      await client.end();
    }
  } finally {
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
  }
});
