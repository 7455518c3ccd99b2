/**
 * Starting and stopping PostgreSQL clusters on this host with pg_ctl, as the postgres OS user.
 * Used for restored side instances, in-place restarts, and by tests, the demo and benchmarks.
 */
import { chown, mkdir, readFile, writeFile, appendFile, access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type pg from 'pg';
import type { Exec } from './exec.js';
import { initdbArgs, pgCtlStartArgs, pgCtlStopArgs } from './pg-args.js';
import { targetClient, withTargetClient } from './pg-client.js';
import { renderConf } from './pg-settings.js';

export interface ClusterHandle {
  dataDir: string;
  port: number;
  socketDir: string;
  logFile: string;
  /** A postgresql.conf outside the data directory (Debian's layout), passed as -c config_file. */
  configFile?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A directory owned by the postgres OS user, mode 700 (PostgreSQL refuses anything looser). */
export async function makeOwnedDir(path: string, owner: { uid: number; gid: number } | undefined): Promise<void> {
  // Parents stay traversable (0755) so the postgres user can reach the directory itself.
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await mkdir(path, { recursive: true, mode: 0o700 });
  if (owner) await chown(path, owner.uid, owner.gid);
}

export async function writeOwnedFile(path: string, text: string, owner: { uid: number; gid: number } | undefined, mode = 0o600): Promise<void> {
  await writeFile(path, text, { mode });
  if (owner) await chown(path, owner.uid, owner.gid);
}

export async function appendConf(dataDir: string, settings: Record<string, string>, header: string): Promise<void> {
  await appendFile(join(dataDir, 'postgresql.auto.conf'), renderConf(settings, header));
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export interface InitOptions {
  bin: string;
  osUser: string;
  owner: { uid: number; gid: number } | undefined;
  dataDir: string;
  socketDir: string;
  port: number;
  settings?: Record<string, string>;
  /** More initdb options (`--waldir`, `--wal-segsize`). */
  initdb?: readonly string[];
}

/** The data directory's parent is owned by the postgres user too: the server log goes there. */
export async function initCluster(exec: Exec, options: InitOptions): Promise<ClusterHandle> {
  await makeOwnedDir(dirname(options.dataDir), options.owner);
  await makeOwnedDir(options.dataDir, options.owner);
  await makeOwnedDir(options.socketDir, options.owner);
  const [file, args] = initdbArgs(options.bin, options.dataDir, options.initdb);
  await exec.run(file, args, { asUser: options.osUser, timeoutMs: 120_000 });
  await appendConf(
    options.dataDir,
    { port: String(options.port), unix_socket_directories: options.socketDir, listen_addresses: '127.0.0.1', ...options.settings },
    'recover-bot test/demo cluster',
  );
  return { dataDir: options.dataDir, port: options.port, socketDir: options.socketDir, logFile: join(dirname(options.dataDir), 'server.log') };
}

export async function startCluster(exec: Exec, bin: string, osUser: string, cluster: ClusterHandle, timeoutSeconds = 120, signal?: AbortSignal): Promise<void> {
  const [file, args] = pgCtlStartArgs(bin, cluster.dataDir, cluster.logFile, timeoutSeconds, cluster.configFile);
  await exec.run(file, args, { asUser: osUser, timeoutMs: (timeoutSeconds + 10) * 1000, signal });
}

/**
 * Starts a cluster on its port, moving to another free port when that one was taken in the
 * meantime (freePort() only finds a port that was free a moment ago; on a busy machine another
 * process can bind it first). Returns the handle with the port it really listens on.
 */
export async function startOnFreePort(exec: Exec, bin: string, osUser: string, cluster: ClusterHandle, attempts = 5): Promise<ClusterHandle> {
  let current = cluster;
  for (let attempt = 1; ; attempt++) {
    try {
      await startCluster(exec, bin, osUser, current);
      return current;
    } catch (error) {
      const log = (await tailFile(current.logFile, 30)).join('\n');
      if (attempt >= attempts || !/could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(log)) throw error;
      current = { ...current, port: await freePort() };
      await appendConf(current.dataDir, { port: String(current.port) }, 'port moved: the previous one was taken');
    }
  }
}

export async function stopCluster(exec: Exec, bin: string, osUser: string, dataDir: string, mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
  if (!(await exists(join(dataDir, 'postmaster.pid')))) return;
  const [file, args] = pgCtlStopArgs(bin, dataDir, mode, 120);
  await exec.run(file, args, { asUser: osUser, timeoutMs: 130_000 });
}

export function clusterClient(cluster: Pick<ClusterHandle, 'socketDir' | 'port'>, database = 'postgres'): pg.Client {
  return targetClient({ host: cluster.socketDir, port: cluster.port, user: 'postgres', database });
}

export async function withClient<T>(cluster: Pick<ClusterHandle, 'socketDir' | 'port'>, database: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  return withTargetClient({ host: cluster.socketDir, port: cluster.port, user: 'postgres', database }, use);
}

export async function tailFile(path: string, lines = 20): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).trimEnd().split('\n').slice(-lines);
  } catch (error) {
    // A server that never started may have no log yet: report nothing rather than a second error.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
