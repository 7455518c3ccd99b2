/**
 * What triage reads, all read-only: pg_controldata, the files in pg_wal and their archive status,
 * pg_waldump over them, the archive listing and backups (the catalog), the relation files WAL
 * after REDO changes, and — only when the server runs — its own checks (verification: every
 * table read, checksum failures, amcheck where installed). The decision is triage.ts's.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Catalog } from '../../catalog/catalog.js';
import { formatLsn, parseSegmentName, segmentStartLsn } from '../../catalog/segments.js';
import { selectRestore } from '../../catalog/select-restore.js';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import { parseConnectionUrl, pgClientConfig } from '../../util/connection-url.js';
import type { EngineContext } from '../context.js';
import { postmasterOn } from '../in-place-recovery.js';
import { exists } from '../local-cluster.js';
import { withTargetClient } from '../pg-client.js';
import { verifyRestored } from '../verify.js';
import { readControlData, STANDBY_STATES, type ControlData } from './controldata.js';
import { localWalEnd, scanStart, triage, type LocalSegment, type Triage } from './triage.js';
import { walPageAfter } from './wal-pages.js';
import { scanWal } from './wal-scan.js';

export type CrashConfig = Pick<Config, 'pg' | 'source' | 'verifyTables' | 'verifyConfigFile'>;

const SEGMENT_FILE = /^[0-9A-F]{24}$/;

/** RECOVER_SOURCE_DATA_DIR, or CONFIG_INVALID: triage reads production's own files. */
export function productionDataDir(config: Pick<Config, 'source'>): string {
  const dataDir = config.source.dataDir;
  if (!dataDir) {
    throw new RecoverError('CONFIG_INVALID', '`crash` reads production\'s data directory, and RECOVER_SOURCE_DATA_DIR is not set here.', {
      hint: 'Run it on the database host with RECOVER_SOURCE_DATA_DIR (and RECOVER_SOURCE_URL) set, as the runner there is.',
    });
  }
  return dataDir;
}

async function listWal(dataDir: string): Promise<{ segments: LocalSegment[]; ready: string[] }> {
  const walDir = join(dataDir, 'pg_wal');
  const names = await readdir(walDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const segments: LocalSegment[] = [];
  for (const name of names.filter((n) => SEGMENT_FILE.test(n))) segments.push({ name, size: (await stat(join(walDir, name))).size });
  const status = await readdir(join(walDir, 'archive_status')).catch(() => [] as string[]);
  return { segments, ready: status.filter((n) => n.endsWith('.ready')).map((n) => n.slice(0, -'.ready'.length)) };
}

async function readLocalWal(ctx: EngineContext, config: CrashConfig, dataDir: string, control: ControlData, segments: LocalSegment[], archived: ReadonlySet<string>) {
  const size = control.walSegmentSize;
  const unarchived = segments
    .map((s) => ({ name: s.name, id: parseSegmentName(s.name, size) }))
    .filter((s) => s.id?.timeline === control.timeline && !archived.has(s.name))
    .sort((a, b) => (a.id!.segno < b.id!.segno ? -1 : 1));
  const first = unarchived[0] ?? null;
  const walDir = join(dataDir, 'pg_wal');
  const commitsFrom = first ? formatLsn(segmentStartLsn(first.id!.segno, size)) : null;
  const common = { walDir, timeline: control.timeline, catalogVersion: control.catalogVersion };
  const start = scanStart(control, first?.name ?? null);
  const scan = await scanWal(ctx, config.pg, { ...common, start, end: localWalEnd(segments, control.timeline, size, start), commitsFrom, relationsFrom: control.redoLsn });
  // Readable WAL written after where pg_waldump stopped means the stop was damage, not the end.
  const from = scan.endLsn ? await walPageAfter(walDir, scan.endLsn, control.timeline, size) : null;
  const after = from ? await scanWal(ctx, config.pg, { ...common, start: from, end: localWalEnd(segments, control.timeline, size, from), commitsFrom: from, relationsFrom: null }) : null;
  return { scan, after };
}


async function serverFindings(config: CrashConfig): Promise<string[]> {
  if (!config.source.url) return ['the server runs, but RECOVER_SOURCE_URL is not set, so its data could not be checked'];
  const report = await verifyRestored(pgClientConfig(parseConnectionUrl(config.source.url), 'postgres'), {
    subject: 'production',
    tables: config.verifyTables,
    ...(config.verifyConfigFile ? { configFile: config.verifyConfigFile } : {}),
    amcheck: 'existing',
  });
  return report.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.message}`);
}

/** Whether a running standby's WAL receiver streams. */
async function streaming(config: CrashConfig): Promise<boolean> {
  if (!config.source.url) return false;
  const rows = await withTargetClient(pgClientConfig(parseConnectionUrl(config.source.url), 'postgres'), async (client) => (await client.query<{ status: string }>('SELECT status FROM pg_stat_wal_receiver')).rows).catch(() => []);
  return rows.some((row) => row.status === 'streaming');
}

function newestBackup(catalog: Catalog): Triage['newestBackup'] {
  try {
    const selection = selectRestore(catalog, { kind: 'latest' });
    return { id: selection.backup.id, stopTime: selection.backup.stopTime, timeline: selection.timeline };
  } catch {
    return null;
  }
}

/** Reads everything triage needs and decides (triage.ts). */
export async function gatherTriage(ctx: EngineContext, config: CrashConfig, catalog: Catalog, options: { forceRebuild: boolean }): Promise<Triage> {
  const dataDir = productionDataDir(config);
  if (!(await exists(join(dataDir, 'PG_VERSION')))) {
    throw new RecoverError('CONFIG_INVALID', `${dataDir} is not a PostgreSQL data directory (no PG_VERSION).`, { hint: 'Check RECOVER_SOURCE_DATA_DIR.' });
  }
  const running = await postmasterOn(dataDir);
  let control: ControlData | null = null;
  let controlError: string | null = null;
  try {
    control = await readControlData(ctx, config.pg, dataDir);
  } catch (error) {
    controlError = (error as Error).message;
  }
  const { segments, ready } = await listWal(dataDir);
  const archived = new Set(catalog.wal.segments.map((s) => s.name));
  const wal = control ? await readLocalWal(ctx, config, dataDir, control, segments, archived) : { scan: null, after: null };
  const missingRelationFiles: string[] = [];
  // A running server's files can come and go with its own work; it is checked through SQL instead.
  if (!running && wal.scan) for (const path of wal.scan.relationFiles) if (!(await exists(join(dataDir, path)))) missingRelationFiles.push(path);
  return triage({
    dataDir,
    running,
    control,
    controlError,
    localSegments: segments,
    readySegments: ready,
    archived,
    scan: wal.scan,
    after: wal.after,
    missingRelationFiles,
    serverFindings: running ? await serverFindings(config) : [],
    standbyStreaming: running && control && (STANDBY_STATES as readonly string[]).includes(control.state) ? await streaming(config) : null,
    newestBackup: newestBackup(catalog),
    forceRebuild: options.forceRebuild,
  });
}
