/**
 * Issue 19 item 4: the WAL agent goes away while PostgreSQL archives through its hook. The hook
 * must fall back to a direct push (`recover wal-push`, settings from RECOVER_ENV_FILE) so
 * archiving goes on, say so in the server log, and use the socket again once the agent is back.
 * A real cluster, Azurite, the agent as `recover wal-agent` runs it, and the bundled CLI built
 * from this tree as the fallback (the postgres user runs it, as on a database host).
 */
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { pino } from 'pino';
import { afterAll, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startAzurite } from '../../devkit/azurite.js';
import { createExec } from '../../src/engine/exec.js';
import { freePort, initCluster, startOnFreePort, stopCluster, withClient, type ClusterHandle } from '../../src/engine/local-cluster.js';
import { ownerFor } from '../../src/engine/os-user.js';
import { openStorage } from '../../src/storage/index.js';
import { startWalAgent } from '../support/wal-agent.js';

const BIN = '/usr/lib/postgresql/15/bin';
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const step of cleanups.reverse()) await step().catch((error: unknown) => console.error('cleanup failed', error));
});

async function switchAndWait(cluster: ClusterHandle): Promise<string> {
  const one = async (sql: string) => withClient(cluster, 'postgres', async (client) => (await client.query(sql)).rows[0]);
  await one('CREATE TABLE IF NOT EXISTS t (x int)');
  await one('INSERT INTO t SELECT generate_series(1, 1000)');
  const { name } = await one('SELECT pg_walfile_name(pg_switch_wal()) AS name');
  for (;;) {
    const { last } = await one('SELECT last_archived_wal AS last FROM pg_stat_archiver');
    if (last && last >= name) return name as string;
    await new Promise((resolve) => setTimeout(resolve, 100)); // throttles the polling; orders nothing
  }
}

test('with the agent gone the hook pushes directly (and says so in the server log); with it back, the socket again', async () => {
  const exec = createExec(pino({ level: 'silent' }));
  const dir = await mkdtemp(join(tmpdir(), 'rb-fallback-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755);
  const azurite = await startAzurite(join(dir, 'azurite'));
  cleanups.push(() => azurite.stop());

  // The settings file PostgreSQL's direct push reads (and the agent too): nothing in any environment.
  const envFile = join(dir, 'env');
  await writeFile(envFile, `RECOVER_STORAGE_DRIVER=azure\nRECOVER_AZURE_CONNECTION_STRING="${azurite.connectionString}"\nRECOVER_STORAGE_RETRIES=1\nLOG_LEVEL=silent\n`, { mode: 0o644 });
  // The CLI bundle of this tree, where node_modules resolves (packages stay external) and postgres can read it.
  const bundleDir = join(process.cwd(), '.tmp', `fallback-${process.pid}`);
  cleanups.push(() => rm(bundleDir, { recursive: true, force: true }));
  await mkdir(bundleDir, { recursive: true, mode: 0o755 });
  await chmod(join(process.cwd(), '.tmp'), 0o755);
  await build({ entryPoints: { recover: 'src/cli/entry.ts' }, outdir: bundleDir, outExtension: { '.js': '.mjs' }, splitting: true, chunkNames: 'chunks/[name]-[hash]', bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' });
  await exec.run('chmod', ['-R', 'a+rX', bundleDir]);
  const env = { RECOVER_ENV_FILE: envFile, RECOVER_HOOK_FALLBACK: join(bundleDir, 'recover.mjs') };

  const socketPath = join(dir, 'agent', 'wal.sock');
  let agent = await startWalAgent(env, socketPath);
  cleanups.push(() => agent.stop());
  expect(agent.printed).toContain(`wal-push, with its settings from ${envFile}`);
  expect(agent.printed).not.toContain('WARNING');
  const pasted = agent.printed.split('\n').filter((line) => /^(archive_mode|archive_command|restore_command) = /.test(line));

  const initialized = await initCluster(exec, {
    bin: BIN, osUser: 'postgres', owner: await ownerFor('postgres'),
    dataDir: join(dir, 'pg', 'data'), socketDir: join(dir, 'pg', 'run'), port: await freePort(),
    settings: { wal_level: 'replica', fsync: 'off' },
  });
  await appendFile(join(initialized.dataDir, 'postgresql.conf'), `\n${pasted.join('\n')}\n`);
  cleanups.push(() => stopCluster(exec, BIN, 'postgres', initialized.dataDir, 'immediate'));
  const cluster = await startOnFreePort(exec, BIN, 'postgres', initialized);
  const storage = await openStorage(loadConfig({ RECOVER_ENV_FILE: envFile }).storage);
  const serverLog = () => readFile(cluster.logFile, 'utf8');

  // Through the agent: archived, no fallback.
  const first = await switchAndWait(cluster);
  expect(await storage.wal.head(`wal/${first}`)).not.toBeNull();
  expect(await serverLog()).not.toContain('falling back');

  // The agent goes away: the next segment still reaches storage, by the direct push, and the log says why.
  await agent.stop();
  const second = await switchAndWait(cluster);
  expect(await storage.wal.head(`wal/${second}`)).not.toBeNull();
  const log = await serverLog();
  expect(log).toMatch(new RegExp(`recover-bot wal push ${second}: WAL agent unreachable at ${socketPath.replace(/[.]/g, '\\.')} .*; falling back to a direct push`));
  expect(log).toContain(`recover-bot wal push ${second}: direct push archived it`);

  // The agent is back: the socket again, no new fallback.
  agent = await startWalAgent(env, socketPath);
  const third = await switchAndWait(cluster);
  expect(await storage.wal.head(`wal/${third}`)).not.toBeNull();
  expect(await serverLog()).not.toContain(`recover-bot wal push ${third}:`);
});
