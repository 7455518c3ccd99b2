/**
 * Whether the runner can read the source cluster's data directory itself, and is sure it is
 * that cluster's: the directory the server reports (data_directory), its global/pg_control
 * holding the server's system identifier, and its postmaster.pid naming the same directory,
 * port and start time as the server we are connected to. A standby of the same cluster on
 * this host has the same system identifier but its own port and start time, so its files
 * are never taken for the primary's. Also the walk of that directory (walkDataDir).
 */
import { lstat, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listsContents, type DataDirEntry, type EntryKind } from './select-files.js';

export interface ServerIdentity {
  dataDirectory: string;
  systemIdentifier: string;
  port: number;
  /** pg_postmaster_start_time() in epoch seconds (fractional). */
  startEpochSeconds: number;
}

/** postmaster.pid: pid, data directory, start time (epoch s), port, socket dir, listen address, shmem key, status. */
export function parsePostmasterPid(text: string): { dataDirectory: string; startEpochSeconds: number; port: number } | null {
  const lines = text.split('\n');
  const startEpochSeconds = Number(lines[2]);
  const port = Number(lines[3]);
  if (!lines[1] || !Number.isFinite(startEpochSeconds) || !Number.isInteger(port)) return null;
  return { dataDirectory: lines[1], startEpochSeconds, port };
}

/** The system identifier is pg_control's first 8 bytes (little-endian on the hosts PostgreSQL runs on here). */
export function pgControlSystemIdentifier(bytes: Buffer): string | null {
  return bytes.length >= 8 ? bytes.readBigUInt64LE(0).toString() : null;
}

/**
 * Why these local files are not the connected server's, or null when they are. The start
 * times are taken at slightly different moments of the postmaster's start (time() for the
 * pid file, a timestamp for pg_postmaster_start_time()), hence the 2 s allowance.
 */
export function localMismatch(server: ServerIdentity, local: { pid: ReturnType<typeof parsePostmasterPid>; systemIdentifier: string | null }): string | null {
  if (local.systemIdentifier !== server.systemIdentifier) return `its global/pg_control holds system identifier ${local.systemIdentifier ?? '(unreadable)'}, the server ${server.systemIdentifier}`;
  if (!local.pid) return 'its postmaster.pid is missing or unreadable (is the server running from it?)';
  if (local.pid.dataDirectory !== server.dataDirectory) return `its postmaster.pid names ${local.pid.dataDirectory}`;
  if (local.pid.port !== server.port) return `its postmaster.pid names port ${local.pid.port}, the server listens on ${server.port}`;
  if (Math.abs(local.pid.startEpochSeconds - server.startEpochSeconds) > 2) return 'its postmaster was started at another time than the server we are connected to';
  return null;
}

/** Reads the local files and compares; a directory the runner cannot read is a mismatch too, named as such. */
export async function checkLocalDataDir(server: ServerIdentity): Promise<string | null> {
  let pidText: string;
  let control: Buffer;
  try {
    pidText = await readFile(join(server.dataDirectory, 'postmaster.pid'), 'utf8');
    const handle = await open(join(server.dataDirectory, 'global', 'pg_control'), 'r');
    try {
      control = Buffer.alloc(8);
      await handle.read(control, 0, 8, 0);
    } finally {
      await handle.close();
    }
  } catch (error) {
    return `the runner cannot read ${server.dataDirectory} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  return localMismatch(server, { pid: parsePostmasterPid(pidText), systemIdentifier: pgControlSystemIdentifier(control) });
}

const kindOf = (stats: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryKind =>
  stats.isFile() ? 'file' : stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'symlink' : 'other';

const vanished = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Every entry below `root`, parents before children, without following symbolic links and
 * without listing the directories a backup keeps bare. Files and directories that vanish
 * while the walk runs (a table dropped, a temporary file removed) are simply not listed:
 * the WAL replayed from the backup's start point accounts for them.
 */
export async function walkDataDir(root: string, signal: AbortSignal): Promise<DataDirEntry[]> {
  const entries: DataDirEntry[] = [];
  const pending: string[] = [''];
  while (pending.length > 0) {
    signal.throwIfAborted();
    const directory = pending.shift()!;
    let names: string[];
    try {
      names = await readdir(join(root, directory));
    } catch (error) {
      if (vanished(error) && directory !== '') continue;
      throw error;
    }
    names.sort();
    // lstat a directory's entries a batch at a time: a database has thousands of files in one directory.
    for (let at = 0; at < names.length; at += 64) {
      const batch = names.slice(at, at + 64).map((name) => (directory ? `${directory}/${name}` : name));
      const stats = await Promise.all(batch.map((path) => lstat(join(root, path)).catch((error: unknown) => (vanished(error) ? null : Promise.reject(error)))));
      batch.forEach((path, index) => {
        const found = stats[index];
        if (!found) return;
        const kind = kindOf(found);
        entries.push({ path, kind, bytes: kind === 'file' ? found.size : 0, mode: found.mode & 0o7777 });
        if (kind === 'dir' && listsContents(path)) pending.push(path);
      });
    }
  }
  return entries;
}
