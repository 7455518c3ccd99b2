/**
 * What the preflight reads: production's own settings and archiver statistics (one query,
 * SQL below), the catalog and the newest backup's parts in storage, the WAL continuity from
 * it, and free space where a restore would write. Every source that fails is reported as that
 * source failing; nothing here throws for a broken production or storage (they are findings).
 */
import { dirname } from 'node:path';
import type { Catalog } from '../../src/catalog/catalog.js';
import { indexSegments, latestTimelineFor, reachFrom, rpoExposureSeconds } from '../../src/catalog/coverage.js';
import { DEFAULT_SEGMENT_SIZE, parseLsn, segmentName, segmentOfLsn, timelineForSegment } from '../../src/catalog/segments.js';
import { withTargetClient } from '../../src/engine/pg-client.js';
import { readCatalog } from '../../src/engine/read-catalog.js';
import { listAll } from '../../src/storage/blob-store.js';
import { parseConnectionUrl, pgClientConfig } from '../../src/util/connection-url.js';
import type { CommandContext } from '../types.js';
import { freeSpace } from '../../src/engine/space.js';
import type { BackupFacts, PreflightFacts, ProductionFacts } from './checks.js';

/** Read-only; pg_settings rather than current_setting so that a setting hidden from this role reads as NULL, not an error. */
export const PREFLIGHT_SQL = `
SELECT current_setting('wal_level') AS wal_level,
       current_setting('archive_mode') AS archive_mode,
       (SELECT setting FROM pg_settings WHERE name = 'archive_command') AS archive_command,
       pg_is_in_recovery() AS in_recovery,
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END AS current_wal,
       a.archived_count::int AS archived_count, a.last_archived_wal, a.last_archived_time,
       a.failed_count::int AS failed_count, a.last_failed_wal, a.last_failed_time,
       r.rolname AS role_name, r.rolsuper AS superuser, r.rolreplication AS replication, r.rolcreatedb AS create_db,
       pg_has_role(current_user, 'pg_read_all_settings', 'MEMBER') AS read_all_settings,
       pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS signal_backend,
       has_function_privilege('pg_backup_start(text, boolean)', 'EXECUTE')
         AND has_function_privilege('pg_backup_stop(boolean)', 'EXECUTE') AS backup_functions
  FROM pg_stat_archiver a, pg_roles r
 WHERE r.rolname = current_user`;

type Row = Record<string, unknown>;
const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : value === null || value === undefined ? null : String(value));
const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

export function productionFactsOf(row: Row): ProductionFacts {
  return {
    walLevel: String(row.wal_level),
    archiveMode: String(row.archive_mode),
    archiveCommand: row.archive_command === null || row.archive_command === undefined ? null : String(row.archive_command),
    inRecovery: row.in_recovery === true,
    currentWal: (row.current_wal as string | null) ?? null,
    archiver: {
      archivedCount: Number(row.archived_count ?? 0),
      lastArchivedWal: (row.last_archived_wal as string | null) ?? null,
      lastArchivedTime: iso(row.last_archived_time),
      failedCount: Number(row.failed_count ?? 0),
      lastFailedWal: (row.last_failed_wal as string | null) ?? null,
      lastFailedTime: iso(row.last_failed_time),
    },
    role: {
      name: String(row.role_name),
      superuser: row.superuser === true,
      replication: row.replication === true,
      createDb: row.create_db === true,
      readAllSettings: row.read_all_settings === true,
      signalBackend: row.signal_backend === true,
      backupFunctions: row.backup_functions === true,
    },
  };
}

async function productionFacts(ctx: CommandContext): Promise<PreflightFacts['production']> {
  if (!ctx.config.source.url) return null;
  try {
    const connection = pgClientConfig(parseConnectionUrl(ctx.config.source.url));
    const row = await withTargetClient(connection, async (client) => (await client.query(PREFLIGHT_SQL)).rows[0] as Row, ctx.engine.log);
    return productionFactsOf(row);
  } catch (error) {
    return { error: firstLine(error) };
  }
}

/** Every file of the backup's manifest present in storage with its recorded size. */
async function backupProblems(ctx: CommandContext, backup: Catalog['backups'][number]): Promise<string[]> {
  const prefix = `${ctx.engine.storage.backupPrefix}${backup.id}/`;
  const stored = new Map((await listAll(ctx.engine.storage.backups, prefix)).map((blob) => [blob.key.slice(prefix.length), blob.size]));
  const problems: string[] = [];
  for (const file of backup.files) {
    const size = stored.get(file.name);
    if (size === undefined) problems.push(`${file.name} is missing`);
    else if (size !== file.bytes) problems.push(`${file.name} is ${size} bytes, the manifest says ${file.bytes}`);
  }
  return problems;
}

export async function gatherPreflight(ctx: CommandContext): Promise<PreflightFacts> {
  const now = ctx.engine.clock.now();
  const base = {
    rpoObjectiveSeconds: ctx.config.objectives.rpoSeconds,
    agentSocket: ctx.config.walAgentSocket,
    restoreRoot: await freeSpace(ctx.config.restoreRoot).catch(() => null),
    dataDir: ctx.config.source.dataDir ? await freeSpace(dirname(ctx.config.source.dataDir)).catch(() => null) : null,
  };
  const production = await productionFacts(ctx);
  let catalog: Catalog;
  try {
    catalog = await readCatalog(ctx.engine.storage, now);
  } catch (error) {
    return { ...base, production, storage: { error: firstLine(error) }, backups: { newest: null, count: 0, unreadable: [] }, walGapAt: null, walReachesTo: null, walBytesSinceBackup: 0, rpoExposureSeconds: null, segmentSize: DEFAULT_SEGMENT_SIZE };
  }
  const newest = [...catalog.backups].sort((a, b) => a.stopTime.localeCompare(b.stopTime)).at(-1) ?? null;
  const segmentSize = newest?.walSegmentSize ?? DEFAULT_SEGMENT_SIZE;
  let walGapAt: string | null = null;
  let walReachesTo: string | null = null;
  let walBytesSinceBackup = 0;
  let newestFacts: BackupFacts | null = null;
  if (newest) {
    const index = indexSegments(catalog);
    const { path } = latestTimelineFor(catalog, index, newest);
    const reach = reachFrom(newest, path, index, segmentSize);
    walGapAt = reach.gapAt;
    if (reach.lastSegno !== null) walReachesTo = segmentName(timelineForSegment(reach.lastSegno, path, segmentSize), reach.lastSegno, segmentSize);
    const start = segmentOfLsn(parseLsn(newest.startLsn), segmentSize);
    walBytesSinceBackup = catalog.wal.segments.filter((s) => s.segno >= start && timelineForSegment(s.segno, path, segmentSize) === s.timeline).reduce((sum, s) => sum + s.size, 0);
    newestFacts = { id: newest.id, stopTime: newest.stopTime, databaseBytes: newest.databaseBytes, problems: await backupProblems(ctx, newest).catch((error: unknown) => [`its parts could not be listed: ${firstLine(error)}`]) };
  }
  return {
    ...base,
    production,
    storage: null,
    backups: { newest: newestFacts, count: catalog.backups.length, unreadable: catalog.unreadableBackups.map((b) => b.id) },
    walGapAt,
    walReachesTo,
    walBytesSinceBackup,
    rpoExposureSeconds: rpoExposureSeconds(catalog, now),
    segmentSize,
  };
}
