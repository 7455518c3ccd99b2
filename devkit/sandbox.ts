/**
 * A throwaway world for tests, the demo and benchmarks: Azurite, a "production" cluster
 * archiving through the recover-bot WAL hook and agent, and a restore root. Everything
 * lives under one temp directory and `cleanup()` removes all of it, servers included.
 */
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config.js';
import { createExec, type Exec } from '../src/engine/exec.js';
import { freePort, initCluster, makeOwnedDir, startOnFreePort, stopCluster, withClient, type ClusterHandle } from '../src/engine/local-cluster.js';
import { ownerFor } from '../src/engine/os-user.js';
import type { EngineContext } from '../src/engine/context.js';
import { openStorage } from '../src/storage/index.js';
import type { Storage } from '../src/storage/blob-store.js';
import { startWalAgent, type WalAgent } from '../src/wal/agent.js';
import { WalFetcher } from '../src/wal/fetcher.js';
import { hookCommands } from '../src/wal/hook-commands.js';
import { WAL_HOOK_SOURCE } from '../src/wal/hook-source.js';
import { systemClock, type EngineEvent, type Logger } from '../src/types.js';
import { startAzurite, type AzuriteHandle } from './azurite.js';

export interface Sandbox {
  root: string;
  log: Logger;
  exec: Exec;
  azurite: AzuriteHandle;
  storage: Storage;
  config: Config;
  production: ClusterHandle;
  productionUrl: string;
  archiveAgent: WalAgent;
  events: EngineEvent[];
  context(signal?: AbortSignal): EngineContext;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  /** Switches WAL and waits until the finished segment is archived. */
  switchAndArchive(): Promise<string>;
  /** The environment that points the recover CLI at this sandbox (storage, production, restore root). */
  cliEnv(overrides?: Record<string, string>): Record<string, string>;
  cleanup(): Promise<void>;
}

export interface SandboxOptions {
  log?: Logger;
  pgBin?: string;
  productionSettings?: Record<string, string>;
  /** More initdb options for production, e.g. `--waldir` on a small filesystem and `--wal-segsize 1` (disk-full tests). */
  productionInitdb?: string[];
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const log = options.log ?? pino({ level: 'silent' });
  const exec = createExec(log);
  const bin = options.pgBin ?? '/usr/lib/postgresql/15/bin';
  const root = await mkdtemp(join(tmpdir(), 'rb-'));
  // The postgres OS user must traverse the root to reach data dirs, hooks and sockets.
  await chmod(root, 0o755);
  const owner = await ownerFor('postgres');
  const cleanups: (() => Promise<void>)[] = [async () => rm(root, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => log.warn({ err: error }, 'sandbox cleanup step failed'));
  };
  try {
    const azurite = await startAzurite(join(root, 'azurite'));
    cleanups.push(() => azurite.stop());
    const config: Config = {
      ...loadConfig({ LOG_LEVEL: 'silent', RECOVER_PRODUCTION_NAME: 'aiagent_prod' }),
      storage: {
        driver: 'azure',
        localDir: join(root, 'local-storage'),
        azure: { kind: 'connection-string', connectionString: azurite.connectionString },
        containers: { backups: 'postgresql-full', wal: 'postgresql-wal-archive', dumps: 'postgresql-dumps' },
        backupPrefix: 'daily/',
        walPrefix: 'wal/',
        retries: 2,
        timeoutMs: 10_000,
      },
      pg: { bin, osUser: 'postgres' },
      source: { stop: { method: 'pg_ctl' } },
      restoreRoot: join(root, 'restores'),
      // The CLI's records of the database copies it made (never the default under /var/lib).
      stateDir: join(root, 'state'),
      walAgentSocket: join(root, 'agent', 'wal.sock'),
      prefetch: { parallel: 8, ahead: 64 },
      recoveryTimeoutSeconds: 600,
    };
    const storage = await openStorage(config.storage);
    await Promise.all([storage.backups.ensureContainer(), storage.wal.ensureContainer(), storage.dumps.ensureContainer()]);

    const agentDir = join(root, 'agent');
    await rm(agentDir, { recursive: true, force: true });
    await makeOwnedDir(agentDir, owner);
    const hookPath = join(agentDir, 'wal-hook.mjs');
    await writeFile(hookPath, WAL_HOOK_SOURCE, { mode: 0o644 });
    if (owner) await chown(hookPath, owner.uid, owner.gid);
    const archiveAgent = await startWalAgent({
      socketPath: config.walAgentSocket,
      storage,
      log,
      fetcher: new WalFetcher({ storage, spoolDir: join(agentDir, 'spool'), log }),
      ...(owner ? { owner } : {}),
    });
    cleanups.push(() => archiveAgent.close());

    const initialized = await initCluster(exec, {
      bin,
      osUser: 'postgres',
      owner,
      dataDir: join(root, 'prod', 'data'),
      socketDir: join(root, 'prod', 'run'),
      port: await freePort(),
      ...(options.productionInitdb ? { initdb: options.productionInitdb } : {}),
      settings: {
        wal_level: 'replica',
        archive_mode: 'on',
        archive_command: hookCommands({ nodePath: process.execPath, hookPath, socketPath: config.walAgentSocket }).archiveCommand,
        max_wal_senders: '4',
        fsync: 'off',
        ...options.productionSettings,
      },
    });
    cleanups.push(() => stopCluster(exec, bin, 'postgres', initialized.dataDir, 'immediate'));
    const production = await startOnFreePort(exec, bin, 'postgres', initialized);
    const productionUrl = `postgres://postgres@localhost/postgres?host=${encodeURIComponent(production.socketDir)}&port=${production.port}`;
    config.source = { url: productionUrl, dataDir: production.dataDir, stop: { method: 'pg_ctl' } };

    const events: EngineEvent[] = [];
    const query = <T extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres') =>
      withClient(production, database, async (client) => (await client.query<T>(sql, params)).rows);
    return {
      root,
      log,
      exec,
      azurite,
      storage,
      config,
      production,
      productionUrl,
      archiveAgent,
      events,
      context: (signal = new AbortController().signal) => ({ log, exec, storage, events: { emit: (event) => events.push(event) }, signal, clock: systemClock }),
      query,
      async switchAndArchive() {
        const [row] = await query<{ name: string }>(`SELECT pg_walfile_name(pg_switch_wal()) AS name`);
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline) {
          const [stat] = await query<{ last: string | null }>(`SELECT last_archived_wal AS last FROM pg_stat_archiver`);
          if (stat?.last && stat.last.slice(0, 24) >= row!.name) return row!.name;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        // Say why (a failing archive_command shows here), so a slow run and a stuck archiver differ.
        const [stat] = await query<{ last: string | null; failed: string; lastFailed: string | null; failedAt: string | null }>(`SELECT last_archived_wal AS last, failed_count::text AS failed, last_failed_wal AS "lastFailed", last_failed_time::text AS "failedAt" FROM pg_stat_archiver`);
        throw new Error(`segment ${row!.name} was not archived within 60 s (last archived ${stat?.last ?? 'none'}; ${stat?.failed ?? '?'} failed attempts, the last for ${stat?.lastFailed ?? 'none'} at ${stat?.failedAt ?? '-'})`);
      },
      cliEnv: (overrides = {}) => ({
        RECOVER_STORAGE_DRIVER: 'azure',
        RECOVER_AZURE_CONNECTION_STRING: azurite.connectionString,
        RECOVER_SOURCE_URL: productionUrl,
        RECOVER_RESTORE_ROOT: config.restoreRoot,
        RECOVER_STATE_DIR: config.stateDir,
        RECOVER_PRODUCTION_NAME: 'aiagent_prod',
        LOG_LEVEL: 'silent',
        ...overrides,
      }),
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
