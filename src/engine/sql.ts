/** SQL text builders (pure). Identifiers are always quoted; nothing user-given is spliced raw. */

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table` or `table` (public) → a quoted qualified name. */
export function qualifiedName(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || parts.some((part) => part.length === 0)) throw new Error(`not a table name: ${name}`);
  return parts.map(quoteIdent).join('.');
}

export const listUserTablesSql = `
  SELECT n.nspname AS schema, c.relname AS table
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
   ORDER BY 1, 2`;

export const listDatabasesSql = `SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1`;

/** Every database of the cluster, and whether it is a user database that takes connections (what --db may name). */
export const databasesSql = `SELECT datname, (datallowconn AND NOT datistemplate) AS usable FROM pg_database ORDER BY 1`;

export function rowCountSql(table: string): string {
  return `SELECT count(*)::bigint AS rows FROM ${qualifiedName(table)}`;
}

export function newestTimestampSql(table: string, column: string): string {
  return `SELECT max(${quoteIdent(column)})::text AS newest FROM ${qualifiedName(table)}`;
}

/** An order-independent digest of a table's contents: the same rows give the same hash. */
export function tableHashSql(table: string): string {
  return `SELECT count(*)::bigint AS rows, coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), md5('')) AS hash FROM ${qualifiedName(table)} t`;
}

/**
 * One poll of a server in recovery: whether it still recovers, how far it replayed, the time
 * reached, the pause state and the timeline. Run by startAndWatchRecovery.
 */
export const replayStatusSql = `
  SELECT pg_is_in_recovery() AS in_recovery,
         COALESCE(pg_last_wal_replay_lsn(), '0/0')::text AS replay_lsn,
         -- As text with all six fractional digits: a JS Date would drop the microseconds.
         to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS reached,
         CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() ELSE 'not paused' END AS pause_state,
         -- pg_walfile_name() refuses to run during recovery; there the last checkpoint's timeline is the answer.
         CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())
              ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline`;

/** The pid of the startup process (the one that replays WAL), to raise its CPU priority. */
export const startupPidSql = `SELECT pid FROM pg_stat_activity WHERE backend_type = 'startup'`;

/** What a base backup's manifest records about its source, read before the backup starts (and whether its role may end the last WAL segment). */
export const sourceFactsSql = `
  SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier,
         current_setting('server_version') AS server_version,
         current_setting('server_version_num')::int AS server_version_num,
         (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size') AS wal_segment_size,
         pg_snapshot_xmax(pg_current_snapshot())::text AS next_xid,
         (SELECT sum(pg_database_size(oid))::bigint FROM pg_database) AS database_bytes,
         current_setting('archive_mode') AS archive_mode,
         has_function_privilege('pg_switch_wal()', 'execute') AS may_switch_wal`;

/** Ends the current WAL segment so the backup's last one is archived now, not when it fills. */
export const switchWalSql = 'SELECT pg_switch_wal()';

/** The archiver's progress: a segment is archived once `last_archived_wal` reaches it. */
export const archiverStatusSql = `SELECT last_archived_wal, last_failed_wal, failed_count FROM pg_stat_archiver`;

/**
 * What a file-level backup checks before reading the data directory itself (local-source.ts).
 * data_directory needs superuser or pg_read_all_settings: without them the query fails and
 * the backup streams through pg_basebackup instead.
 */
export const localSourceSql = `
  SELECT current_setting('data_directory') AS data_directory,
         current_setting('port')::int AS port,
         extract(epoch FROM pg_postmaster_start_time())::float8 AS start_epoch,
         pg_is_in_recovery() AS in_recovery,
         has_function_privilege('pg_backup_start(text, boolean)', 'execute') AS may_start_backup`;

/** PostgreSQL 15's low-level backup API; fast = an immediate checkpoint, like pg_basebackup --checkpoint fast. */
export const backupStartSql = 'SELECT pg_backup_start($1, true)::text AS lsn';
/** Without waiting for the archive inside the server: the caller waits with a timeout it reports. */
export const backupStopSql = 'SELECT lsn::text AS lsn, labelfile AS labelfile, spcmapfile AS spcmapfile FROM pg_backup_stop(false)';
