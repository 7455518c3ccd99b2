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
