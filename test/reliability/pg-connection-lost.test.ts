/**
 * A connection whose server goes away while it sits idle must never take the process down
 * (pg emits 'error' on the client or pool; without a listener Node throws it as uncaught).
 * That is how a restored server dying during replay crashed the runner and the CLI. Every
 * connection the tool opens goes through one seam (src/engine/pg-client.ts), checked here
 * twice: by behaviour against a real server, and by a scan of the source for other paths.
 */
import { mkdtemp, readdir, readFile, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createExec } from '../../src/engine/exec.js';
import { freePort, initCluster, startOnFreePort, stopCluster, withClient, type ClusterHandle } from '../../src/engine/local-cluster.js';
import { ownerFor } from '../../src/engine/os-user.js';
import { createPool, targetClient } from '../../src/engine/pg-client.js';

const bin = '/usr/lib/postgresql/15/bin';
const exec = createExec(pino({ level: 'silent' }));
let root: string;
let cluster: ClusterHandle;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rb-lost-'));
  await chmod(root, 0o755);
  cluster = await startOnFreePort(exec, bin, 'postgres', await initCluster(exec, { bin, osUser: 'postgres', owner: await ownerFor('postgres'), dataDir: join(root, 'data'), socketDir: join(root, 'run'), port: await freePort(), settings: { fsync: 'off' } }));
}, 120_000);

afterAll(async () => {
  if (cluster) await stopCluster(exec, bin, 'postgres', cluster.dataDir, 'immediate');
  if (root) await rm(root, { recursive: true, force: true });
});

const connection = () => ({ host: cluster.socketDir, port: cluster.port, user: 'postgres', database: 'postgres' });

async function terminateOthers(): Promise<void> {
  await withClient(cluster, 'postgres', (client) =>
    client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`),
  );
}

test('an idle client whose server session ends reports it on the next query instead of crashing', async () => {
  const client = targetClient(connection());
  await client.connect();
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  await terminateOthers();
  await ended;
  await expect(client.query('SELECT 1')).rejects.toThrow();
  await client.end().catch(() => undefined);
});

test('an idle pooled connection that is lost is replaced on the next query', async () => {
  const pool = createPool({ ...connection(), max: 1 });
  try {
    await pool.query('SELECT 1');
    const lost = new Promise<void>((resolve) => pool.once('error', () => resolve()));
    await terminateOthers();
    await lost;
    const { rows } = await pool.query('SELECT 2 AS two');
    expect(rows[0].two).toBe(2);
  } finally {
    await pool.end();
  }
});

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

test('no code outside the seam constructs a pg client or pool', async () => {
  const files = [...(await sourceFiles('src')), ...(await sourceFiles('commands')), ...(await sourceFiles('devkit')), ...(await sourceFiles('scripts')), ...(await sourceFiles('bench'))];
  const offenders: string[] = [];
  for (const file of files) {
    if (relative('.', file) === join('src', 'engine', 'pg-client.ts')) continue;
    const text = await readFile(file, 'utf8');
    if (/new\s+(pg\.)?(Client|Pool)\s*\(/.test(text) && /from 'pg'/.test(text)) offenders.push(relative('.', file));
  }
  expect(offenders).toEqual([]);
});
