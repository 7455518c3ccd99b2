/**
 * freePort() only finds a port that was free a moment ago: on a loaded machine another
 * process can take it before PostgreSQL binds. startOnFreePort moves the cluster to another
 * port instead of failing the whole test run (or the demo).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, expect, test } from 'vitest';
import { createExec } from '../../../src/engine/exec.js';
import { freePort, initCluster, startOnFreePort, stopCluster, withClient } from '../../../src/engine/local-cluster.js';
import { ownerFor } from '../../../src/engine/os-user.js';

const bin = '/usr/lib/postgresql/15/bin';
const exec = createExec(pino({ level: 'silent' }));
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test('a cluster whose port was taken meanwhile starts on another one', async () => {
  const root = await mkdtemp(join(tmpdir(), 'rb-port-'));
  await chmod(root, 0o755);
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const taken = await freePort();
  const squatter: Server = createServer();
  await new Promise<void>((resolve) => squatter.listen(taken, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => squatter.close(resolve)));

  const cluster = await initCluster(exec, { bin, osUser: 'postgres', owner: await ownerFor('postgres'), dataDir: join(root, 'data'), socketDir: join(root, 'run'), port: taken, settings: { fsync: 'off' } });
  cleanups.push(() => stopCluster(exec, bin, 'postgres', cluster.dataDir, 'immediate'));
  const started = await startOnFreePort(exec, bin, 'postgres', cluster);
  expect(started.port).not.toBe(taken);
  const [row] = await withClient(started, 'postgres', async (client) => (await client.query('SHOW port')).rows);
  expect(Number(row.port)).toBe(started.port);
});
