/**
 * Before a runner stops, rewinds or fences a server through a data directory of its host
 * (RECOVER_SOURCE_DATA_DIR / RECOVER_STANDBY_DATA_DIR), it makes sure that directory is that
 * server's: `pg_ctl stop -D <dir>` stops whatever runs there, and a setting that names another
 * cluster's directory (a standby of the same cluster on this host, a test cluster, a symbolic
 * link to the wrong place) would stop the wrong server. Same identity as backups read files by
 * (backup-files/local-source.ts: system identifier, postmaster.pid's directory, port and start
 * time), with both paths resolved first, so a symbolic link to the right directory is accepted
 * and one to another is not.
 */
import { realpath } from 'node:fs/promises';
import type { Client } from 'pg';
import type { Logger } from '../types.js';
import { withTargetClient, type TargetConnection } from './pg-client.js';
import { checkLocalDataDir, type ServerIdentity } from './backup-files/local-source.js';

export const IDENTITY_SQL = `SELECT current_setting('data_directory') AS data_directory, current_setting('port')::int AS port,
  extract(epoch FROM pg_postmaster_start_time())::float8 AS start_epoch, (SELECT system_identifier::text FROM pg_control_system()) AS sysid`;

/** The running server's identity, as it reports it. */
export async function readServerIdentity(client: Pick<Client, 'query'>): Promise<ServerIdentity> {
  const row = (await client.query(IDENTITY_SQL)).rows[0];
  return { dataDirectory: String(row.data_directory), port: Number(row.port), startEpochSeconds: Number(row.start_epoch), systemIdentifier: String(row.sysid) };
}

const resolved = async (path: string): Promise<string | null> => realpath(path).catch(() => null);

/**
 * Why `configured` (named by `setting`) is not the data directory of the server `server`
 * describes, or null when it is. Reads the directory: a directory the runner cannot read is a
 * mismatch, named as such.
 */
export async function localDirMismatch(configured: string, setting: string, server: ServerIdentity): Promise<string | null> {
  const [mine, theirs] = await Promise.all([resolved(configured), resolved(server.dataDirectory)]);
  if (mine === null) return `${setting} ${configured} cannot be read on this runner`;
  if (mine !== theirs) {
    const via = mine !== configured ? ` (a link to ${mine})` : '';
    return `${setting} ${configured}${via} is not the data directory of the server on port ${server.port}, which runs from ${server.dataDirectory}`;
  }
  const why = await checkLocalDataDir(server);
  return why ? `${setting} ${configured} is not that server's: ${why}` : null;
}

/**
 * The same for the server `connection` reaches; null too when it does not answer (logged): a
 * server that is down cannot be compared, and restoring production that is down is the point.
 */
export async function answeringServerMismatch(log: Logger, dataDir: string, setting: string, connection: TargetConnection): Promise<string | null> {
  const identity = await withTargetClient({ connectionTimeoutMillis: 10_000, ...connection }, (client) => readServerIdentity(client), log).catch((error: unknown) => {
    log.warn({ err: error, dataDir }, 'the server does not answer: its data directory cannot be compared with it (going on)');
    return null;
  });
  return identity ? localDirMismatch(dataDir, setting, identity) : null;
}

/** The hint every refusal of this kind carries. */
export const LOCAL_DIR_HINT = 'Set RECOVER_SOURCE_DATA_DIR / RECOVER_STANDBY_DATA_DIR to the data directory each server runs from (SHOW data_directory on it), on the runner of that server\'s host.';
