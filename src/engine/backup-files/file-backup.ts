/**
 * A base backup read straight from the source's data directory, for a runner on the
 * database host (local-source.ts says whether it is): PostgreSQL's low-level backup API in
 * one session (pg_backup_start, copy the files, pg_backup_stop), as pgBackRest does it.
 *
 * The files go into parts of about RECOVER_BASE_PART_MIB (select-files.ts chooses them, as
 * PostgreSQL's own base backup would), up to RECOVER_BASE_PARALLEL bsdtar processes at once
 * (file-parts.ts). The last part is written from a staging directory: the kept directories
 * (with their modes), global/pg_control copied once every other file is, and the
 * backup_label that pg_backup_stop returns. The stored layout is the streamed backups'
 * (formatVersion 2 parts), so restores do not tell them apart. The WAL is not in the parts:
 * the caller waits for the stop segment to be archived, and restores fetch it from there.
 *
 * Measured, pgbench scale 300 (4.7 GB), warm cache, 2 cores, output discarded: two bsdtar
 * processes 3.0 s wall and 4.1 s of CPU; `pg_basebackup -Ft -D - | zstd -1` 11.2 s and 13.4 s.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { RecoverError } from '../../errors.js';
import type { PartCodec, EngineContext } from '../context.js';
import { partName, type StoredPart } from '../backup-parts/upload-parts.js';
import { runBounded } from '../backup-parts/bounded.js';
import { backupStartSql, backupStopSql } from '../sql.js';
import { walkDataDir } from './local-source.js';
import { packParts, PG_CONTROL, selectBackupEntries, tarBytes, type DataDirEntry } from './select-files.js';
import { storeFilePart } from './file-parts.js';

export interface FileBackupOptions {
  dataDir: string;
  /** Key prefix of the backup's directory in the store, ending in '/'. */
  directory: string;
  label: string;
  partBytes: number;
  parallel: number;
  codec: PartCodec;
  /** Called as parts finish, with listed file bytes done and in all. */
  onProgress?: (done: number, total: number) => void;
}

export interface FileBackupResult {
  parts: StoredPart[];
  startLsn: string;
  stopLsn: string;
  timeline: number;
}

/** backup_label's "START TIMELINE: n" and "START WAL LOCATION: X/Y (file …)". */
export function parseBackupLabel(text: string): { startLsn: string; timeline: number } | null {
  const start = /^START WAL LOCATION: ([0-9A-F]+\/[0-9A-F]+)/im.exec(text);
  const timeline = /^START TIMELINE: (\d+)/im.exec(text);
  if (!start || !timeline) return null;
  return { startLsn: start[1]!, timeline: Number(timeline[1]) };
}

/** A query of the backup's own session: if it fails, the backup does (the session is what holds it open). */
async function backupQuery(client: pg.Client, sql: string, params: unknown[], step: 'pg_backup_start' | 'pg_backup_stop'): Promise<pg.QueryResult> {
  try {
    return await client.query(sql, params);
  } catch (error) {
    throw new RecoverError('BACKUP_FAILED', `${step} failed on the source: ${(error as Error).message}.`, {
      hint:
        step === 'pg_backup_stop'
          ? 'The session holding the backup open was lost or the server refused to end the backup; nothing was kept. Check the source server log, then take the backup again.'
          : 'Check that the source role may run pg_backup_start (or set RECOVER_BACKUP_METHOD=stream), then take the backup again.',
      cause: error,
    });
  }
}

export async function backupDataFiles(ctx: EngineContext, client: pg.Client, options: FileBackupOptions): Promise<FileBackupResult> {
  const { rows: started } = await backupQuery(client, backupStartSql, [options.label], 'pg_backup_start');
  const startLsn: string = started[0].lsn;
  ctx.log.info({ startLsn, dataDir: options.dataDir }, 'file-level base backup started (pg_backup_start)');
  const selection = selectBackupEntries(await walkDataDir(options.dataDir, ctx.signal));
  if (selection.tablespaces.length > 0) {
    throw new RecoverError('BACKUP_FAILED', `The source cluster has tablespaces (${selection.tablespaces.join(', ')}); recover-bot backs up the main data directory only.`, {
      hint: 'Move those tables into pg_default (ALTER TABLE … SET TABLESPACE pg_default), or back this cluster up with another tool.',
    });
  }
  if (!selection.pgControl) throw new RecoverError('BACKUP_FAILED', `${options.dataDir} has no ${PG_CONTROL}.`, { hint: 'Check RECOVER_SOURCE_URL points at the cluster whose data directory this runner reads.' });
  const groups = packParts(selection.files, options.partBytes);
  const total = selection.files.reduce((sum, file) => sum + file.bytes, 0);
  let done = 0;
  const parts = await runBounded(groups, options.parallel, ctx.signal, async (group: DataDirEntry[], index, signal) => {
    const part = await storeFilePart(
      { exec: ctx.exec, store: ctx.storage.backups },
      { name: partName(index + 1, options.codec), root: options.dataDir, paths: group.map((entry) => entry.path), rawBytes: tarBytes(group) },
      { directory: options.directory, codec: options.codec, signal },
    );
    done += group.reduce((sum, file) => sum + file.bytes, 0);
    options.onProgress?.(done, total);
    return part;
  });

  const staging = await mkdtemp(join(tmpdir(), 'recover-backup-'));
  try {
    for (const directory of selection.directories) await mkdir(join(staging, directory.path), { mode: directory.mode & 0o777 || 0o700 });
    await mkdir(join(staging, 'global'), { recursive: true, mode: 0o700 });
    // After every other file, as pg_basebackup does; then the label that makes it a backup.
    await copyFile(join(options.dataDir, PG_CONTROL), join(staging, PG_CONTROL));
    const { rows: stopped } = await backupQuery(client, backupStopSql, [], 'pg_backup_stop');
    const stop = stopped[0] as { lsn: string; labelfile: string; spcmapfile: string | null };
    const label = parseBackupLabel(stop.labelfile);
    if (!label) throw new RecoverError('BACKUP_FAILED', 'pg_backup_stop returned a backup_label without its start point.', { hint: 'Check the source server log; take the backup again.' });
    await writeFile(join(staging, 'backup_label'), stop.labelfile, { mode: 0o600 });
    if (stop.spcmapfile) await writeFile(join(staging, 'tablespace_map'), stop.spcmapfile, { mode: 0o600 });
    const written = (path: string, text: string): DataDirEntry => ({ path, kind: 'file', bytes: Buffer.byteLength(text), mode: 0o600 });
    const labelEntries = [...selection.directories, selection.pgControl, written('backup_label', stop.labelfile), ...(stop.spcmapfile ? [written('tablespace_map', stop.spcmapfile)] : [])];
    const last = await storeFilePart(
      { exec: ctx.exec, store: ctx.storage.backups },
      { name: partName(parts.length + 1, options.codec), root: staging, paths: labelEntries.map((entry) => entry.path), rawBytes: tarBytes(labelEntries) },
      { directory: options.directory, codec: options.codec, signal: ctx.signal },
    );
    return { parts: [...parts, last], startLsn: label.startLsn, stopLsn: stop.lsn, timeline: label.timeline };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
