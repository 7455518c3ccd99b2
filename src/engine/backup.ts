/**
 * `recover backup`: a base backup straight into blob storage (no local copy), as parts
 * compressed with zstd or LZ4 (RECOVER_BASE_CODEC) and uploaded in parallel, then a manifest
 * (formatVersion 2) with the facts a restore needs to choose and check this backup. Two ways
 * to read the source (backup-files/method.ts): the data files themselves when the runner is
 * on the database host (backup-files/), else pg_basebackup's tar stream cut into parts
 * (backup-parts/). Both store the same layout.
 */
import type pg from 'pg';
import { targetClient } from './pg-client.js';
import { RecoverError, toRecoverError } from '../errors.js';
import { manifestKey, type BackupManifest } from '../catalog/catalog.js';
import { segmentName, segmentOfLsn, parseLsn } from '../catalog/segments.js';
import { toolFailure } from './exec.js';
import { afterRemoval, removePartialUpload } from './partial-upload.js';
import { uploadTarAsParts, type StoredPart } from './backup-parts/upload-parts.js';
import { backupDataFiles } from './backup-files/file-backup.js';
import { chooseBackupMethod } from './backup-files/method.js';
import { FrameFormatError } from './backup-files/frame-end.js';
import { TarFormatError } from './backup-parts/tar-split.js';
import { defaultBaseTransfer, nowIso, type BaseTransferConfig, type EngineContext, type PgToolConfig } from './context.js';
import { pgClientConfig, type SourceConnection } from '../util/connection-url.js';
import { parseBasebackupLog, pgBasebackupArgs } from './pg-args.js';
import { archiverStatusSql, quoteIdent, sourceFactsSql, switchWalSql } from './sql.js';
import { readSourceLayout } from './source-layout.js';
import { backupIdFor, releaseBackupId, unusedBackupId } from './backup-id.js';

interface SourceFacts {
  systemIdentifier: string;
  serverVersion: string;
  serverVersionNum: number;
  walSegmentSize: number;
  nextXid: string;
  databaseBytes: number;
  archiveMode: string;
  maySwitchWal: boolean;
}

async function readSourceFacts(client: pg.Client): Promise<SourceFacts> {
  const { rows } = await client.query(sourceFactsSql);
  const row = rows[0];
  return {
    systemIdentifier: row.system_identifier,
    serverVersion: row.server_version,
    serverVersionNum: row.server_version_num,
    walSegmentSize: Number(row.wal_segment_size),
    nextXid: row.next_xid,
    databaseBytes: Number(row.database_bytes),
    archiveMode: row.archive_mode,
    maySwitchWal: row.may_switch_wal,
  };
}

/** The backup is only restorable once its last WAL segment is archived: wait for that. */
async function waitArchived(ctx: EngineContext, client: pg.Client, segment: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await client.query(archiverStatusSql);
    const last: string | null = rows[0].last_archived_wal;
    if (last && last.slice(0, 24) >= segment) return;
    ctx.signal.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new RecoverError('BACKUP_FAILED', `The backup finished but WAL segment ${segment} was not archived within ${Math.round(timeoutMs / 1000)} s.`, {
    hint: 'Check pg_stat_archiver on the source (failed_count, last_failed_wal) and the archive_command log; the backup is not usable until its WAL is archived.',
  });
}

/** A file-level backup's failure that is not already coded: bsdtar's output, the walk, the staging directory. */
function fileBackupFailure(dataDir: string, error: unknown): RecoverError {
  if (error instanceof RecoverError) return error;
  if (error instanceof FrameFormatError) {
    return new RecoverError('BACKUP_FAILED', `bsdtar's compressed output was not whole: ${error.message}.`, {
      hint: 'Check the bsdtar messages in the runner log.',
      cause: error,
    });
  }
  return new RecoverError('BACKUP_FAILED', `The file-level backup of ${dataDir} failed: ${(error as Error)?.message ?? String(error)}.`, {
    hint: 'Check that the runner can read the whole data directory and write its temporary directory. RECOVER_BACKUP_METHOD=stream takes the backup through pg_basebackup instead.',
    cause: error,
  });
}

function backupFailure(file: string, error: unknown): RecoverError {
  if (error instanceof RecoverError) return error;
  if (error instanceof TarFormatError) {
    return new RecoverError('BACKUP_FAILED', `pg_basebackup's output could not be cut into parts: ${error.message}.`, {
      hint: 'Check the pg_basebackup output in the runner log.',
      cause: error,
    });
  }
  return toolFailure(file, error);
}

interface BackupRange {
  startLsn: string;
  stopLsn: string;
  timeline: number;
}

interface MethodContext {
  ctx: EngineContext;
  client: pg.Client;
  facts: SourceFacts;
  directory: string;
  label: string;
  transfer: Required<BaseTransferConfig>;
  archiveWaitMs: number;
}

const progress = (ctx: EngineContext, done: number, total: number | null) =>
  ctx.events.emit({ type: 'step.progress', at: nowIso(ctx.clock), step: 'base-backup', done, total, unit: 'bytes' });

/** The stop segment switched out and archived: only then is the backup usable. */
async function archiveStop(m: MethodContext, range: BackupRange): Promise<BackupRange> {
  const stopSegment = segmentName(range.timeline, segmentOfLsn(parseLsn(range.stopLsn), m.facts.walSegmentSize), m.facts.walSegmentSize);
  try {
    await m.client.query(switchWalSql);
    await waitArchived(m.ctx, m.client, stopSegment, m.archiveWaitMs);
  } catch (error) {
    if (error instanceof RecoverError) throw error;
    // A query error here is the source's, not the tool's that read the files.
    throw new RecoverError('BACKUP_FAILED', `The backup's files are stored, but switching out and archiving its last WAL segment ${stopSegment} failed on the source: ${(error as Error).message}.`, {
      hint: 'Check the source server and its connection, then take the backup again.',
      cause: error,
    });
  }
  return range;
}

async function fileLevelBackup(m: MethodContext, dataDir: string): Promise<{ parts: StoredPart[]; range: BackupRange }> {
  const { parts, ...range } = await backupDataFiles(m.ctx, m.client, {
    dataDir,
    directory: m.directory,
    label: m.label,
    partBytes: m.transfer.partBytes,
    parallel: m.transfer.parallel,
    codec: m.transfer.codec,
    onProgress: (done, total) => progress(m.ctx, done, total),
  });
  return { parts, range: await archiveStop(m, range) };
}

async function streamedBackup(m: MethodContext, tools: PgToolConfig, source: SourceConnection): Promise<{ parts: StoredPart[]; range: BackupRange }> {
  const { ctx } = m;
  const stopUploads = new AbortController();
  const [file, args] = pgBasebackupArgs(tools.bin, { host: source.host, port: source.port, user: source.user }, m.label);
  const child = ctx.exec.spawn(file, args, {
    stdoutStream: true,
    signal: ctx.signal,
    timeoutMs: 6 * 3600_000,
    ...(source.password ? { env: { PGPASSWORD: source.password } } : {}),
  });
  let reported = 0;
  const uploading = uploadTarAsParts(child.stdout!, {
    store: ctx.storage.backups,
    directory: m.directory,
    partBytes: m.transfer.partBytes,
    parallel: m.transfer.parallel,
    codec: m.transfer.codec,
    exec: ctx.exec,
    signal: AbortSignal.any([ctx.signal, stopUploads.signal]),
    onRawBytes: (done) => {
      if (done - reported < 32 * 1024 * 1024) return;
      reported = done;
      progress(ctx, done, null);
    },
  });
  // As soon as pg_basebackup is done, its last WAL segment is switched out and archived while
  // the last parts still compress and upload (the backup is usable only once both are done).
  const archived = child.then(async (result) => {
    const found = parseBasebackupLog(String(result.stderr ?? ''));
    if (!found.startLsn || !found.stopLsn || !found.timeline) {
      throw new RecoverError('BACKUP_FAILED', 'pg_basebackup finished without reporting its WAL range.', { hint: 'Check the pg_basebackup output in the runner log.' });
    }
    return archiveStop(m, { startLsn: found.startLsn, stopLsn: found.stopLsn, timeline: found.timeline });
  });
  try {
    const [range, parts] = await Promise.all([archived, uploading]);
    return { parts, range };
  } catch (error) {
    stopUploads.abort(error);
    child.kill();
    const childError = await child.then(() => null, (failure: unknown) => failure);
    await uploading.catch(() => undefined);
    throw backupFailure(file, error instanceof TarFormatError && childError ? childError : error);
  }
}

/** No half backup stays behind: without a manifest it would never be used, but it costs storage. */
async function discardPartial(ctx: EngineContext, directory: string, failure: RecoverError): Promise<RecoverError> {
  const removal = await removePartialUpload(ctx.storage.backups, directory, ctx.log);
  return afterRemoval(failure, removal, { where: `${ctx.storage.backups.description}/${directory}`, cleanedBy: '`recover expire` (or the scheduled backup\'s retention, a day later)' });
}

export async function takeBaseBackup(
  ctx: EngineContext,
  tools: PgToolConfig,
  source: SourceConnection,
  options: { archiveWaitMs?: number } = {},
): Promise<BackupManifest> {
  const client = targetClient(pgClientConfig(source), ctx.log);
  await client.connect();
  try {
    // Where the source keeps its configuration (Debian: outside the data directory, so outside
    // the backup): a restore in place starts production with it, a side instance writes its own.
    // Read first, so the source facts stay the session's last query while the backup runs.
    const sourceLayout = await readSourceLayout(client);
    const facts = await readSourceFacts(client);
    if (facts.archiveMode === 'off') {
      throw new RecoverError('BACKUP_FAILED', 'The source cluster has archive_mode = off, so no base backup can be used for point-in-time recovery.', {
        hint: "Set archive_mode = on and archive_command to the recover-bot WAL hook, restart, then take the backup.",
      });
    }
    // Checked before any work: without it the backup would be taken, then wait in vain for its last segment.
    if (!facts.maySwitchWal) {
      throw new RecoverError('BACKUP_FAILED', `The source role ${source.user} may not run pg_switch_wal(), which ends the backup's last WAL segment so it is archived.`, {
        hint: `GRANT EXECUTE ON FUNCTION pg_switch_wal() TO ${quoteIdent(source.user)}; (or use a superuser role for backups), then take the backup again.`,
      });
    }
    const method = await chooseBackupMethod(ctx, tools.backupMethod ?? 'auto', client, facts);
    const startTime = ctx.clock.now();
    const id = await unusedBackupId(ctx, backupIdFor(startTime));
    const directory = `${ctx.storage.backupPrefix}${id}/`;
    const defaults = defaultBaseTransfer();
    const transfer = { ...defaults, ...tools.baseTransfer, codec: tools.baseTransfer?.codec ?? defaults.codec };
    const m: MethodContext = { ctx, client, facts, directory, label: `recover-bot ${id}`, transfer, archiveWaitMs: options.archiveWaitMs ?? 120_000 };
    const how = method.method === 'files' ? `read from ${method.dataDir}` : 'streamed by pg_basebackup';
    ctx.events.emit({ type: 'step.started', at: nowIso(ctx.clock), step: 'base-backup', title: `Base backup ${id} (${how})` });
    let parts: StoredPart[];
    let range: BackupRange;
    try {
      ({ parts, range } = method.method === 'files' ? await fileLevelBackup(m, method.dataDir) : await streamedBackup(m, tools, source));
    } catch (error) {
      throw await discardPartial(ctx, directory, method.method === 'files' ? fileBackupFailure(method.dataDir, error) : backupFailure('pg_basebackup', error));
    }
    const manifest: BackupManifest = {
      formatVersion: 2,
      id,
      startLsn: range.startLsn,
      stopLsn: range.stopLsn,
      startTime: startTime.toISOString(),
      stopTime: ctx.clock.now().toISOString(),
      timeline: range.timeline,
      systemIdentifier: facts.systemIdentifier,
      serverVersion: facts.serverVersion,
      serverVersionNum: facts.serverVersionNum,
      walSegmentSize: facts.walSegmentSize,
      nextXidAtStart: facts.nextXid,
      databaseBytes: facts.databaseBytes,
      method: method.method,
      sourceLayout,
      files: parts.map((part) => ({ name: part.name, bytes: part.bytes, sha256: part.sha256, rawBytes: part.rawBytes, codec: part.codec })),
    };
    const rawBytes = parts.reduce((sum, part) => sum + part.rawBytes, 0);
    const storedBytes = parts.reduce((sum, part) => sum + part.bytes, 0);
    // The manifest goes last: a directory without one is an interrupted backup, never used.
    try {
      await ctx.storage.backups.put(manifestKey(ctx.storage.backupPrefix, id), Buffer.from(JSON.stringify(manifest, null, 2)));
    } catch (error) {
      throw await discardPartial(ctx, directory, toRecoverError(error, 'STORAGE_ERROR'));
    }
    await releaseBackupId(ctx, id);
    ctx.events.emit({ type: 'step.finished', at: nowIso(ctx.clock), step: 'base-backup', seconds: (ctx.clock.now().getTime() - startTime.getTime()) / 1000, detail: `${how}: ${parts.length} ${parts[0]?.codec ?? ''} parts, ${rawBytes} bytes of tar, ${storedBytes} bytes stored` });
    return manifest;
  } finally {
    await client.end();
  }
}
