/**
 * `recover wal-agent` prints the archive_command / restore_command lines to paste into
 * postgresql.conf. Pasted as printed into a real cluster's postgresql.conf — with the agent's
 * directory named to need quoting in both layers (a single quote, a space and a %) — the
 * server must start, hold exactly the intended commands, and archive through them.
 */
import { appendFile, chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startAzurite } from '../../devkit/azurite.js';
import { createExec } from '../../src/engine/exec.js';
import { freePort, initCluster, startOnFreePort, stopCluster, withClient } from '../../src/engine/local-cluster.js';
import { ownerFor } from '../../src/engine/os-user.js';
import { openStorage } from '../../src/storage/index.js';
import { hookCommands } from '../../src/wal/hook-commands.js';
import { startWalAgent } from '../support/wal-agent.js';

const BIN = '/usr/lib/postgresql/15/bin';
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const step of cleanups.reverse()) await step().catch((error: unknown) => console.error('cleanup failed', error));
});

test('the printed lines parse in postgresql.conf, SHOW gives the intended commands, and archiving works through them', async () => {
  const exec = createExec(pino({ level: 'silent' }));
  const dir = await mkdtemp(join(tmpdir(), 'rb-conf-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755); // the postgres user reaches the hook and the socket through it
  const azurite = await startAzurite(join(dir, 'azurite'));
  cleanups.push(() => azurite.stop());
  const env = { RECOVER_STORAGE_DRIVER: 'azure', RECOVER_AZURE_CONNECTION_STRING: azurite.connectionString, RECOVER_STORAGE_RETRIES: '1', LOG_LEVEL: 'silent' };

  // Start the agent as an operator would and take what it prints.
  const socketPath = join(dir, "it's 100% agent", 'wal.sock');
  const agent = await startWalAgent(env, socketPath);
  cleanups.push(() => agent.stop());
  const { printed } = agent;
  const pasted = printed.split('\n').filter((line) => /^(archive|restore)_command = /.test(line));
  expect(pasted).toHaveLength(2);

  const initialized = await initCluster(exec, {
    bin: BIN,
    osUser: 'postgres',
    owner: await ownerFor('postgres'),
    dataDir: join(dir, 'pg', 'data'),
    socketDir: join(dir, 'pg', 'run'),
    port: await freePort(),
    settings: { wal_level: 'replica', archive_mode: 'on', fsync: 'off' },
  });
  await appendFile(join(initialized.dataDir, 'postgresql.conf'), `\n${pasted.join('\n')}\n`);
  cleanups.push(() => stopCluster(exec, BIN, 'postgres', initialized.dataDir, 'immediate'));
  const cluster = await startOnFreePort(exec, BIN, 'postgres', initialized);

  const intended = hookCommands({ nodePath: process.execPath, hookPath: join(dir, "it's 100% agent", 'wal-hook.mjs'), socketPath });
  const show = async (sql: string) => withClient(cluster, 'postgres', async (client) => (await client.query(sql)).rows[0]);
  expect((await show('SHOW archive_command')).archive_command).toBe(intended.archiveCommand);
  expect((await show('SHOW restore_command')).restore_command).toBe(intended.restoreCommand);
  // Quoted once for the shell, with % doubled for PostgreSQL's own expansion.
  expect(intended.archiveCommand).toContain(`'${dir}/it'\\''s 100%% agent/wal.sock'`);

  // And the archiver really runs it: a switched segment reaches the archive.
  const { name } = await show('SELECT pg_walfile_name(pg_switch_wal()) AS name');
  let stat: { last: string | null; failed: string };
  do {
    stat = await show('SELECT last_archived_wal AS last, failed_count::text AS failed FROM pg_stat_archiver');
    expect(stat.failed).toBe('0');
    if (!(stat.last && stat.last >= name)) await new Promise((resolve) => setTimeout(resolve, 50)); // throttles the polling; orders nothing
  } while (!(stat.last && stat.last >= name));
  const storage = await openStorage(loadConfig(env).storage);
  expect(await storage.wal.head(`wal/${name}`)).not.toBeNull();
});
