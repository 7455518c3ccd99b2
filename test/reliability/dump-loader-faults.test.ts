/**
 * The dump loader's COPY when its session dies or its job is cancelled in the middle of a table:
 * the rows come through a named pipe the test writes, so the COPY is provably running (seen in
 * pg_stat_activity) when the fault is injected, without any timing. The loader must fail with
 * the cause, promptly, and leave no COPY running and no rows of that table behind.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { copyRows } from '../../src/engine/dumps/parallel/copy-rows.js';
import { createExec } from '../../src/engine/exec.js';
import { freePort, initCluster, startOnFreePort, stopCluster, withClient, type ClusterHandle } from '../../src/engine/local-cluster.js';
import { ownerFor } from '../../src/engine/os-user.js';
import { targetClient } from '../../src/engine/pg-client.js';

const BIN = '/usr/lib/postgresql/15/bin';
const exec = createExec(pino({ level: 'silent' }));
let dir: string;
let cluster: ClusterHandle | undefined;
const sql = (text: string, params: unknown[] = []) => withClient(cluster!, 'faults', (client) => client.query(text, params));
const connection = () => ({ host: cluster!.socketDir, port: cluster!.port, user: 'postgres', database: 'faults' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rb-loader-faults-'));
  await chmod(dir, 0o755);
  cluster = await startOnFreePort(exec, BIN, 'postgres', await initCluster(exec, { bin: BIN, osUser: 'postgres', owner: await ownerFor('postgres'), dataDir: join(dir, 'data'), socketDir: join(dir, 'run'), port: await freePort(), settings: { fsync: 'off' } }));
  await withClient(cluster, 'postgres', (client) => client.query('CREATE DATABASE faults'));
  await sql('CREATE TABLE t (id int, v text)');
}, 120_000);

afterAll(async () => {
  if (cluster) await stopCluster(exec, BIN, 'postgres', cluster.dataDir, 'immediate').catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** A named pipe fed with gzip'd rows on demand: the COPY reads what has been written and waits for more. */
async function pipeOfRows(name: string) {
  const path = join(dir, name);
  await exec.run('mkfifo', [path]);
  const gzip = createGzip({ flush: 2 /* Z_SYNC_FLUSH: every write reaches the reader at once */ });
  const opened = createWriteStream(path);
  gzip.pipe(opened);
  let next = 0;
  return {
    path,
    write(rows: number) {
      gzip.write(Array.from({ length: rows }, () => `${next++}\trow ${next}\n`).join(''));
    },
    async close() {
      gzip.end();
      await once(opened, 'close').catch(() => undefined);
    },
    destroy() {
      gzip.destroy();
      opened.destroy();
    },
  };
}

/** Waits (by polling the server, no fixed sleep) until a COPY into t runs in another session. */
async function copyRunning(): Promise<number> {
  for (;;) {
    const row = (await sql(`SELECT pid FROM pg_stat_activity WHERE datname = 'faults' AND query LIKE 'COPY public.t%' AND state = 'active' AND pid <> pg_backend_pid()`)).rows[0];
    if (row) return Number(row.pid);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('the loader\'s session killed in the middle of a COPY: the load fails with the server\'s cause, nothing of the table kept', async () => {
  const pipe = await pipeOfRows('killed.dat.gz');
  const session = targetClient(connection());
  await session.connect();
  try {
    const loading = copyRows([session], 'COPY public.t (id, v) FROM stdin', pipe.path, true, new AbortController().signal);
    const failed = loading.then(() => null, (error: unknown) => error as Error);
    pipe.write(5000);
    const pid = await copyRunning();
    await sql('SELECT pg_terminate_backend($1)', [pid]);
    pipe.write(5000);
    const error = await failed;
    expect(error?.message).toMatch(/terminat|Connection terminated|ECONNRESET/i);
  } finally {
    pipe.destroy();
    await session.end().catch(() => undefined);
  }
  expect((await sql('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(0);
}, 120_000);

test('the job cancelled in the middle of a COPY: the load stops with the job\'s reason, the session is free and nothing is kept', async () => {
  const pipe = await pipeOfRows('cancelled.dat.gz');
  const session = targetClient(connection());
  await session.connect();
  const controller = new AbortController();
  try {
    const loading = copyRows([session], 'COPY public.t (id, v) FROM stdin', pipe.path, true, controller.signal);
    const failed = loading.then(() => null, (error: unknown) => error as Error);
    pipe.write(5000);
    await copyRunning();
    controller.abort(new Error('cancelled by the on-call'));
    expect((await failed)?.message).toBe('cancelled by the on-call');
    // The COPY was failed on the server (CopyFail), and the session answers again.
    expect((await session.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  } finally {
    pipe.destroy();
    await session.end().catch(() => undefined);
  }
  expect((await sql('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(0);
}, 120_000);
