/**
 * What /recover switchover reads before it plans (read-only): both servers — production
 * (RECOVER_SOURCE_URL) and DR (RECOVER_STANDBY_URL) — which one is the primary, whether the other
 * streams from it, that both are the same cluster (system identifier), and whether this runner
 * holds the primary's data directory (it stops it cleanly and restarts it as a standby).
 */
import type { Config } from '../../config.js';
import { parseConnectionUrl, pgClientConfig } from '../../util/connection-url.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { localDirMismatch, readServerIdentity } from '../local-identity.js';
import { failoverConfig, labelOf, readStandby, standbyConnection, type StandbyFacts } from './facts.js';

export type Side = 'production' | 'dr';

export interface ServerFacts {
  side: Side;
  label: string;
  reachable: boolean;
  /** The connection error when it does not answer. */
  detail: string;
  inRecovery: boolean;
  systemId: string | null;
  /** pg_current_wal_lsn() of a primary. */
  currentLsn: string | null;
  replication: StandbyFacts | null;
  configFile: string | null;
  /** Its data directory on this runner's host (RECOVER_SOURCE_DATA_DIR / RECOVER_STANDBY_DATA_DIR), or null. */
  localDataDir: string | null;
  /** Why localDataDir is not this server's data directory (local-identity.ts), when it is set and is not. */
  localDirProblem?: string;
  /** Standbys streaming from it (pg_stat_replication): application_name and state. */
  senders: { name: string; state: string }[];
}

export interface SwitchoverFacts {
  /** Not `production`: the base facts carry production's name under that key. */
  servers: { production: ServerFacts; dr: ServerFacts };
  switchArgv: string[] | null;
  reconnect: 'health-url' | 'connections' | null;
  runnerHost: string;
  /** This runner's RECOVER_SOURCE_DATA_DIR: a plan that stops production is bound to it (routing). */
  sourceDataDir: string | null;
  settings: { catchUpTimeoutSeconds: number; reconnectTimeoutSeconds: number };
}

export function sideConnection(config: Pick<Config, 'source' | 'failover'>, side: Side): TargetConnection {
  if (side === 'dr') return standbyConnection(config);
  return { ...pgClientConfig(parseConnectionUrl(config.source.url ?? ''), 'postgres'), connectionTimeoutMillis: 10_000 };
}

/** The URL a standby of `side` streams from (its user and password, as the runner reaches it). */
export const sideUrl = (config: Pick<Config, 'source' | 'failover'>, side: Side) => parseConnectionUrl((side === 'dr' ? failoverConfig(config).standbyUrl : config.source.url) ?? '', side === 'dr' ? 'RECOVER_STANDBY_URL' : 'RECOVER_SOURCE_URL');

const SERVER_SQL = `SELECT pg_is_in_recovery() AS rec, (SELECT system_identifier::text FROM pg_control_system()) AS sysid,
  CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS lsn, current_setting('config_file') AS config_file`;

/** One server, read without changing anything. Never throws for a server that does not answer: that is a fact. */
export async function readServer(config: Pick<Config, 'source' | 'failover'>, side: Side): Promise<ServerFacts> {
  const connection = sideConnection(config, side);
  const label = labelOf(connection);
  const localDataDir = (side === 'dr' ? failoverConfig(config).standbyDataDir : config.source.dataDir) ?? null;
  try {
    return await withTargetClient(connection, async (client) => {
      const row = (await client.query(SERVER_SQL)).rows[0];
      const senders = (await client.query("SELECT coalesce(application_name, '') AS name, state FROM pg_stat_replication")).rows.map((r) => ({ name: String(r.name), state: String(r.state) }));
      const replication = row.rec ? await readStandby(client, label) : null;
      const problem = localDataDir ? await localDirMismatch(localDataDir, side === 'dr' ? 'RECOVER_STANDBY_DATA_DIR' : 'RECOVER_SOURCE_DATA_DIR', await readServerIdentity(client)) : null;
      return { side, label, reachable: true, detail: 'answers', inRecovery: Boolean(row.rec), systemId: row.sysid, currentLsn: row.lsn ?? null, replication, configFile: row.config_file ?? null, localDataDir, ...(problem ? { localDirProblem: problem } : {}), senders };
    });
  } catch (error) {
    return { side, label, reachable: false, detail: `it does not answer (${(error as Error).message})`, inRecovery: false, systemId: null, currentLsn: null, replication: null, configFile: null, localDataDir, senders: [] };
  }
}

export async function gatherSwitchover(config: Config): Promise<SwitchoverFacts> {
  const settings = failoverConfig(config);
  standbyConnection(config); // RECOVER_STANDBY_URL is required: CONFIG_INVALID with its hint
  const [production, dr] = await Promise.all([readServer(config, 'production'), readServer(config, 'dr')]);
  return {
    servers: { production, dr },
    switchArgv: settings.switchCommand ?? null,
    reconnect: settings.healthUrl ? 'health-url' : settings.switchCommand ? 'connections' : null,
    runnerHost: config.runnerHost,
    sourceDataDir: config.source.dataDir ?? null,
    settings: { catchUpTimeoutSeconds: settings.catchUpTimeoutSeconds, reconnectTimeoutSeconds: settings.reconnectTimeoutSeconds },
  };
}
