/**
 * pg_stat_database.checksum_failures in the integrity report, on a real cluster with data
 * checksums (pg_checksums --enable after initdb, as `initdb -k` would): a table's page is
 * damaged on disk while the server is stopped, then read (ignore_checksum_failure is off, the
 * default, so the read fails and PostgreSQL counts it). The report names the database.
 */
import { chmod, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createExec } from '../../../src/engine/exec.js';
import { freePort, initCluster, startCluster, startOnFreePort, stopCluster, withClient, type ClusterHandle } from '../../../src/engine/local-cluster.js';
import { ownerFor } from '../../../src/engine/os-user.js';
import { verifyRestored } from '../../../src/engine/verify.js';

const BIN = '/usr/lib/postgresql/15/bin';
const exec = createExec(pino({ level: 'silent' }));
let dir: string;
let cluster: ClusterHandle | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rb-checksums-'));
  await chmod(dir, 0o755);
  const made = await initCluster(exec, { bin: BIN, osUser: 'postgres', owner: await ownerFor('postgres'), dataDir: join(dir, 'data'), socketDir: join(dir, 'run'), port: await freePort(), settings: { fsync: 'off' } });
  await exec.run(join(BIN, 'pg_checksums'), ['--enable', '--pgdata', made.dataDir], { asUser: 'postgres', timeoutMs: 120_000 });
  cluster = await startOnFreePort(exec, BIN, 'postgres', made);
  await withClient(cluster, 'postgres', (client) => client.query('CREATE DATABASE app'));
}, 180_000);

afterAll(async () => {
  if (cluster) await stopCluster(exec, BIN, 'postgres', cluster.dataDir, 'immediate').catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const connection = () => ({ host: cluster!.socketDir, port: cluster!.port, user: 'postgres' });
const checksumCheckOf = async () => (await verifyRestored(connection(), { databases: ['app'], subject: 'the test cluster' })).checks.find((c) => c.name === 'checksum failures')!;

test('checksums on and no damage: passes, not skipped', async () => {
  expect(await checksumCheckOf()).toEqual({ name: 'checksum failures', ok: true, message: 'no checksum failures recorded on the test cluster' });
});

test('a page damaged on disk and read: the check fails naming the database and the count', async () => {
  const path = await withClient(cluster!, 'app', async (client) => {
    await client.query(`CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, repeat('x', 50) FROM generate_series(1, 50) g`);
    return (await client.query(`SELECT pg_relation_filepath('notes') AS path`)).rows[0].path as string;
  });
  await stopCluster(exec, BIN, 'postgres', cluster!.dataDir, 'fast');
  // Overwrite bytes inside block 0's tuple area (not its header): only the checksum can tell.
  const file = await open(join(cluster!.dataDir, path), 'r+');
  try {
    await file.write(Buffer.from('damaged by the test'), 0, 19, 8000);
  } finally {
    await file.close();
  }
  await startCluster(exec, BIN, 'postgres', cluster!);
  const read = await withClient(cluster!, 'app', (client) => client.query('SELECT count(*) FROM notes')).catch((error: Error) => error);
  expect(read).toBeInstanceOf(Error);
  expect((read as Error).message).toMatch(/invalid page in block 0/);
  // The failing backend reports the count to the statistics when it flushes them (at the
  // latest when it exits): wait for that state, then the check must see it.
  for (;;) {
    const failures = await withClient(cluster!, 'postgres', async (client) => Number((await client.query(`SELECT coalesce(sum(checksum_failures), 0) AS n FROM pg_stat_database`)).rows[0].n));
    if (failures > 0) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const check = await checksumCheckOf();
  expect(check.ok).toBe(false);
  expect(check.message).toMatch(/^PostgreSQL counted data checksum failures on the test cluster \(pages are damaged\): app: [1-9]\d* \(last \d{4}-/);
});
