/**
 * Real primaries and streaming standbys for the failover / switchover / failback tests: a primary
 * made with initdb, standbys with `pg_basebackup -R` from it, and the few queries the tests share.
 * Each test file owns its root directory and stops what it started (stopAll).
 */
import { join } from 'node:path';
import type pg from 'pg';
import type { Exec } from '../../src/engine/exec.js';
import { appendConf, freePort, initCluster, makeOwnedDir, startOnFreePort, stopCluster, withClient, type ClusterHandle } from '../../src/engine/local-cluster.js';
import { ownerFor } from '../../src/engine/os-user.js';
import { until } from './until.js';

export const BIN = '/usr/lib/postgresql/15/bin';

export const q = async <T = Record<string, unknown>>(cluster: Pick<ClusterHandle, 'socketDir' | 'port'>, sql: string): Promise<T[]> => withClient(cluster, 'postgres', async (c) => (await c.query(sql)).rows as T[]);
export const urlOf = (cluster: Pick<ClusterHandle, 'socketDir' | 'port'>) => `postgres://postgres@localhost/postgres?host=${encodeURIComponent(cluster.socketDir)}&port=${cluster.port}`;
export const answers = (cluster: ClusterHandle) => q(cluster, 'SELECT 1').then(() => true, () => false);
export const inRecovery = async (cluster: ClusterHandle) => (await q<{ r: boolean }>(cluster, 'SELECT pg_is_in_recovery() AS r'))[0]!.r;
export const ids = async (cluster: ClusterHandle, table = 'orders') => (await q<{ id: number }>(cluster, `SELECT id FROM ${table} ORDER BY id`)).map((row) => row.id);

/** Waits until `standby` received (or replayed) WAL up to `lsn`. */
/**
 * The CLI's environment for a primary/DR pair the test made in `root`: local storage and state
 * under it, production and DR by URL, their data directories when the command runs on their host.
 */
export function pairEnv(
  root: string,
  pair: { production: ClusterHandle; dr: ClusterHandle; dataDirs: boolean },
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    RECOVER_STORAGE_DRIVER: 'local',
    RECOVER_STORAGE_LOCAL_DIR: join(root, 'storage'),
    RECOVER_STATE_DIR: join(root, 'state'),
    RECOVER_RESTORE_ROOT: join(root, 'restores'),
    RECOVER_PRODUCTION_NAME: 'aiagent_prod',
    RECOVER_SOURCE_URL: urlOf(pair.production),
    RECOVER_STANDBY_URL: urlOf(pair.dr),
    ...(pair.dataDirs ? { RECOVER_SOURCE_DATA_DIR: pair.production.dataDir, RECOVER_STANDBY_DATA_DIR: pair.dr.dataDir, RECOVER_FAILOVER_CATCHUP_TIMEOUT_S: '60' } : {}),
    LOG_LEVEL: 'silent',
    ...extra,
  };
}

export async function untilStandby(standby: ClusterHandle, lsn: string, what: 'receive' | 'replay') {
  await until(`standby ${what} of ${lsn}`, async () => ((await q<{ ok: boolean }>(standby, `SELECT pg_last_wal_${what}_lsn() >= '${lsn}'::pg_lsn AS ok`))[0]!.ok ? true : undefined), 20_000);
}

export const untilStreaming = (standby: ClusterHandle) =>
  until('the standby streams', async () => ((await q(standby, "SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'")).length > 0 ? true : undefined), 20_000);

export interface WriterOptions {
  /** Run on the writer's session first, e.g. `SET synchronous_commit = remote_write`. */
  session?: string;
  /** Characters of random padding per row (rounded up to 32), to make many bytes of WAL per commit. */
  padding?: number;
  /** Parallel sessions; ids are spread over them (session i writes first + i, first + i + n, …). */
  sessions?: number;
}

/** Random padding (32 hex characters per md5): not compressible, so it is that many bytes of WAL. */
const PADDED_INSERT = "INSERT INTO orders VALUES ($1, $2 || (SELECT coalesce(string_agg(md5(random()::text), ''), '') FROM generate_series(1, $3)))";

/**
 * A client inserting one row per transaction into `orders` on `cluster` until a write fails (the
 * switch, the kill) or stop(): `acknowledged` holds the ids whose COMMIT returned, nothing else.
 */
export function writer(cluster: Pick<ClusterHandle, 'socketDir' | 'port'>, first: number, options: WriterOptions = {}) {
  const acknowledged: number[] = [];
  const sessions = options.sessions ?? 1;
  let stop = false;
  const session = (client: pg.Client, offset: number) => async () => {
    if (options.session) await client.query(options.session);
    for (let id = first + offset; !stop; id += sessions) {
      const ok = await client.query(PADDED_INSERT, [id, 'written throughout', Math.ceil((options.padding ?? 0) / 32)]).then(() => true, () => false);
      if (!ok) return;
      acknowledged.push(id);
    }
  };
  const done = Promise.all(Array.from({ length: sessions }, (_, i) => withClient(cluster, 'postgres', (client) => session(client, i)()).catch(() => undefined)));
  return {
    acknowledged,
    /** Resolves once `count` inserts were acknowledged. */
    async reached(count: number, timeoutMs = 30_000) {
      await until(`${count} acknowledged inserts`, async () => (acknowledged.length >= count ? true : undefined), timeoutMs);
    },
    stop: async () => ((stop = true), await done),
    /** Resolves once every session ended by itself (a write failed). */
    ended: done,
  };
}

/** The clusters a test file started, stopped (immediate) by stopAll. */
export class Clusters {
  readonly started: ClusterHandle[] = [];
  constructor(
    readonly exec: Exec,
    readonly root: string,
  ) {}

  /** A primary that can have standbys (wal_level replica, senders), fsync off. */
  async primary(name: string, settings: Record<string, string> = {}): Promise<ClusterHandle> {
    const dir = join(this.root, name);
    const cluster = await initCluster(this.exec, { bin: BIN, osUser: 'postgres', owner: await ownerFor('postgres'), dataDir: join(dir, 'data'), socketDir: join(dir, 'run'), port: await freePort(), settings: { wal_level: 'replica', max_wal_senders: '6', max_replication_slots: '6', fsync: 'off', ...settings } });
    const started = await startOnFreePort(this.exec, BIN, 'postgres', cluster);
    this.started.push(started);
    return started;
  }

  /** A streaming standby of `primary` (pg_basebackup -R), started and streaming. */
  async standby(primary: ClusterHandle, name: string, settings: Record<string, string> = {}): Promise<ClusterHandle> {
    const owner = await ownerFor('postgres');
    const dir = join(this.root, name);
    const cluster: ClusterHandle = { dataDir: join(dir, 'data'), socketDir: join(dir, 'run'), port: await freePort(), logFile: join(dir, 'server.log') };
    await makeOwnedDir(dir, owner);
    await makeOwnedDir(cluster.socketDir, owner);
    await this.exec.run(join(BIN, 'pg_basebackup'), ['-D', cluster.dataDir, '-R', '-X', 'stream', '-c', 'fast', '-h', primary.socketDir, '-p', String(primary.port), '-U', 'postgres'], { asUser: 'postgres', timeoutMs: 60_000 });
    await appendConf(cluster.dataDir, { port: String(cluster.port), unix_socket_directories: cluster.socketDir, archive_mode: 'off', ...settings }, 'test standby');
    const started = await startOnFreePort(this.exec, BIN, 'postgres', cluster);
    this.started.push(started);
    await untilStreaming(started);
    return started;
  }

  async stopAll(): Promise<void> {
    for (const cluster of this.started) await stopCluster(this.exec, BIN, 'postgres', cluster.dataDir, 'immediate').catch(() => undefined);
  }
}
