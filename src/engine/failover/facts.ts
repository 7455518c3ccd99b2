/**
 * What /recover failover reads before it plans (read-only): the standby's replication state and
 * the old primary's reachability. Connections only through pg-client.ts.
 */
import type pg from 'pg';
import { DEFAULT_SEGMENT_SIZE } from '../../catalog/segments.js';
import type { Config, FailoverConfig } from '../../config.js';
import { RecoverError } from '../../errors.js';
import { parseConnectionUrl, pgClientConfig } from '../../util/connection-url.js';
import type { Storage } from '../../storage/blob-store.js';
import type { Logger } from '../../types.js';
import { readCatalog } from '../read-catalog.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { answeringServerMismatch } from '../local-identity.js';
import type { ReplaySample } from './lag.js';

export interface StandbyFacts extends ReplaySample {
  /** host:port, as people read it (never the password). */
  label: string;
  inRecovery: boolean;
  receiver: { status: string; lastMessage: Date | null; senderHost: string | null; senderPort: number | null } | null;
  segmentSize: number;
}

/** The newest segment in the WAL archive: the primary's newest known WAL when it does not answer. */
export interface ArchiveFacts {
  newest: { name: string; archivedAt: Date } | null;
  /** Why the archive could not be read (it may be in the lost region too). */
  error: string | null;
}

export interface PrimaryProbe {
  label: string | null;
  reachable: boolean;
  /** Why it is not reachable (connection error), or that it is itself in recovery. */
  detail: string;
  currentLsn: string | null;
}

export interface FailoverFacts {
  standby: StandbyFacts;
  primary: PrimaryProbe;
  archive: ArchiveFacts;
  /** How the old primary can be fenced: the hook (argv), pg_ctl on its local data directory (RECOVER_SOURCE_DATA_DIR), or not at all. */
  fence: { method: 'hook' | 'pg_ctl' | 'none'; dataDir: string | null; argv: string[] | null; localDirProblem?: string };
  switchArgv: string[] | null;
  /** This runner's host (RECOVER_RUNNER_HOST): a plan that fences with pg_ctl is bound to it. */
  runnerHost: string;
  reconnect: 'health-url' | 'connections' | null;
  settings: Pick<FailoverConfig, 'maxLagSeconds' | 'catchUpTimeoutSeconds' | 'reconnectTimeoutSeconds'>;
}

export const DEFAULT_FAILOVER: FailoverConfig = { maxLagSeconds: 60, catchUpTimeoutSeconds: 600, reconnectTimeoutSeconds: 300 };

export function failoverConfig(config: Pick<Config, 'failover'>): FailoverConfig {
  return config.failover ?? DEFAULT_FAILOVER;
}

export function standbyConnection(config: Pick<Config, 'failover'>): TargetConnection {
  const url = failoverConfig(config).standbyUrl;
  if (!url) {
    throw new RecoverError('CONFIG_INVALID', '`failover` promotes the DR standby: set RECOVER_STANDBY_URL to its connection (a superuser: pg_promote and pg_wal_replay_resume need it).', {
      hint: 'e.g. RECOVER_STANDBY_URL=postgres://postgres@standby.dr.example.net:5432/postgres on a runner that reaches the standby.',
    });
  }
  return { ...pgClientConfig(parseConnectionUrl(url, 'RECOVER_STANDBY_URL'), 'postgres'), connectionTimeoutMillis: 10_000 };
}

export const labelOf = (connection: TargetConnection) => `${String(connection.host)}:${String(connection.port)}`;

const REPLAY_SQL = `SELECT pg_is_in_recovery() AS in_recovery,
  pg_last_wal_receive_lsn()::text AS received, pg_last_wal_replay_lsn()::text AS replayed,
  pg_last_xact_replay_timestamp() AS replay_ts,
  CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() <> 'not paused' ELSE false END AS paused,
  clock_timestamp() AS now, (SELECT setting::int FROM pg_settings WHERE name = 'wal_segment_size') AS segment_size`;
const RECEIVER_SQL = 'SELECT status, last_msg_receipt_time, sender_host, sender_port FROM pg_stat_wal_receiver';

/** One reading of the standby on an open connection. */
export async function readStandby(client: pg.Client, label: string): Promise<StandbyFacts> {
  const row = (await client.query(REPLAY_SQL)).rows[0];
  const receiver = (await client.query(RECEIVER_SQL)).rows[0];
  return {
    label,
    inRecovery: Boolean(row.in_recovery),
    receivedLsn: row.received ?? null,
    replayedLsn: row.replayed ?? null,
    lastReplayedCommit: row.replay_ts ?? null,
    paused: Boolean(row.paused),
    at: row.now,
    segmentSize: Number(row.segment_size) || DEFAULT_SEGMENT_SIZE,
    receiver: receiver ? { status: String(receiver.status), lastMessage: receiver.last_msg_receipt_time ?? null, senderHost: receiver.sender_host ?? null, senderPort: receiver.sender_port ?? null } : null,
  };
}

/** Whether the old primary (RECOVER_SOURCE_URL) answers, and where its WAL is. Never throws: unreachable is a fact. */
export async function probePrimary(config: Pick<Config, 'source'>, timeoutMs = 5000): Promise<PrimaryProbe> {
  if (!config.source.url) return { label: null, reachable: false, detail: 'RECOVER_SOURCE_URL is not set, so the old primary cannot be checked', currentLsn: null };
  const connection = { ...pgClientConfig(parseConnectionUrl(config.source.url), 'postgres'), connectionTimeoutMillis: timeoutMs };
  const label = labelOf(connection);
  try {
    return await withTargetClient(connection, async (client) => {
      const row = (await client.query('SELECT pg_is_in_recovery() AS in_recovery, CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS lsn')).rows[0];
      return { label, reachable: true, detail: row.in_recovery ? 'it answers and is in recovery (a standby itself)' : 'it answers and accepts connections', currentLsn: row.lsn ?? null };
    });
  } catch (error) {
    return { label, reachable: false, detail: `it does not answer (${(error as Error).message})`, currentLsn: null };
  }
}

/** Why `dataDir` is not the data directory of the server at RECOVER_SOURCE_URL, or null (a server that stopped answering meanwhile: null, the fence's own check decides). */
export function fencedDirProblem(config: Pick<Config, 'source'>, dataDir: string, log: Logger): Promise<string | null> {
  const connection = { ...pgClientConfig(parseConnectionUrl(config.source.url ?? ''), 'postgres'), connectionTimeoutMillis: 5000 };
  return answeringServerMismatch(log, dataDir, 'RECOVER_SOURCE_DATA_DIR', connection);
}

/** Never throws: an unreadable archive is a fact of the plan. */
export async function readArchive(storage: Storage, now: Date, segmentSize: number): Promise<ArchiveFacts> {
  try {
    const segments = (await readCatalog(storage, now, segmentSize)).wal.segments;
    const newest = segments.reduce<(typeof segments)[number] | null>((max, s) => (max === null || s.segno > max.segno || (s.segno === max.segno && s.timeline > max.timeline) ? s : max), null);
    return { newest: newest ? { name: newest.name, archivedAt: newest.archivedAt } : null, error: null };
  } catch (error) {
    return { newest: null, error: (error as Error).message.split('\n')[0]! };
  }
}

export async function gatherFailover(config: Config, storage: Storage, now: Date, log: Logger): Promise<FailoverFacts> {
  const settings = failoverConfig(config);
  const connection = standbyConnection(config);
  const standby = await withTargetClient(connection, (client) => readStandby(client, labelOf(connection))).catch((error: unknown) => {
    if (error instanceof RecoverError) throw error;
    throw new RecoverError('FAILOVER_REFUSED', `The standby ${labelOf(connection)} (RECOVER_STANDBY_URL) cannot be read: ${(error as Error).message}. Nothing was done.`, {
      hint: 'A failover needs the standby up: check it is running and that this runner reaches it.',
      cause: error,
    });
  });
  const primary = await probePrimary(config);
  const archive = await readArchive(storage, now, standby.segmentSize);
  const fence = settings.fenceCommand
    ? { method: 'hook' as const, dataDir: null, argv: settings.fenceCommand }
    : config.source.dataDir
      ? { method: 'pg_ctl' as const, dataDir: config.source.dataDir, argv: null }
      : { method: 'none' as const, dataDir: null, argv: null };
  // pg_ctl stop -D stops whatever runs there: the directory must be the answering primary's (local-identity.ts).
  const localDirProblem = fence.method === 'pg_ctl' && primary.reachable ? await fencedDirProblem(config, fence.dataDir!, log) : null;
  return {
    standby,
    primary,
    archive,
    fence: localDirProblem ? { ...fence, localDirProblem } : fence,
    switchArgv: settings.switchCommand ?? null,
    runnerHost: config.runnerHost,
    reconnect: settings.healthUrl ? 'health-url' : settings.switchCommand ? 'connections' : null,
    settings: { maxLagSeconds: settings.maxLagSeconds, catchUpTimeoutSeconds: settings.catchUpTimeoutSeconds, reconnectTimeoutSeconds: settings.reconnectTimeoutSeconds },
  };
}
