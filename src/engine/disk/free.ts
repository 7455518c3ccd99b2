/**
 * Removing what the disk fix may remove, each class re-checked at the moment it is removed:
 * WAL segments of the removal rule's safe set (computed by the caller from the disk as it is
 * now), a stopped server's temporary files, server logs older than N days. Nothing else in the
 * data directory or pg_wal is ever touched.
 */
import { lstat, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { RecoverError } from '../../errors.js';
import { fsyncPath } from '../durable-file.js';
import { postmasterOn } from '../in-place-recovery.js';
import { tempDirectories } from './inspect.js';

export interface Freed {
  count: number;
  bytes: number;
}

/**
 * Unlinks each segment (a regular file still marked `.done`) and its `.done` file, then fsyncs
 * pg_wal and archive_status, as PostgreSQL's own RemoveOldXlogFiles does.
 */
export async function removeSegments(walDir: string, safe: readonly { name: string }[]): Promise<Freed & { first: string | null; last: string | null }> {
  const statusDir = join(walDir, 'archive_status');
  const freed = { count: 0, bytes: 0, first: null as string | null, last: null as string | null };
  for (const { name } of safe) {
    const path = join(walDir, name);
    const [segment, done] = await Promise.all([lstat(path).catch(() => null), lstat(join(statusDir, `${name}.done`)).catch(() => null)]);
    if (!segment?.isFile() || !done) continue; // gone meanwhile (PostgreSQL's checkpoint), or no longer marked archived
    await unlink(path);
    await unlink(join(statusDir, `${name}.done`)).catch(() => undefined);
    freed.count++;
    freed.bytes += segment.size;
    freed.first ??= name;
    freed.last = name;
  }
  if (freed.count > 0) {
    await fsyncPath(walDir);
    await fsyncPath(statusDir);
  }
  return freed;
}

/** What PostgreSQL itself removes at start (pgsql_tmp* under every pgsql_tmp directory); refused while a postmaster runs. */
export async function removeTempFiles(dataDir: string): Promise<Freed> {
  if (await postmasterOn(dataDir)) {
    throw new RecoverError('COMMAND_FAILED', 'The server runs again: its temporary files may be in use and were not removed.', { hint: 'Nothing else was changed by this step; run /recover disk again to see the state.' });
  }
  const freed: Freed = { count: 0, bytes: 0 };
  for (const dir of await tempDirectories(dataDir)) {
    for (const entry of await readdir(dir).catch(() => [] as string[])) {
      if (!entry.startsWith('pgsql_tmp')) continue;
      const stats = await lstat(join(dir, entry)).catch(() => null);
      if (!stats) continue;
      freed.bytes += stats.isDirectory() ? await dirBytes(join(dir, entry)) : stats.size;
      freed.count++;
      await rm(join(dir, entry), { recursive: true, force: true });
    }
  }
  return freed;
}

async function dirBytes(path: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) bytes += entry.isDirectory() ? await dirBytes(join(path, entry.name)) : (await lstat(join(path, entry.name))).size;
  return bytes;
}

/** Pure: the log files older than `days` at `now`, never the newest one (the server may be writing it). */
export function oldLogs(files: readonly { name: string; bytes: number; modified: string }[], days: number, now: Date): { name: string; bytes: number }[] {
  const newest = [...files].sort((a, b) => (a.modified < b.modified ? -1 : 1)).at(-1)?.name;
  const cutoff = now.getTime() - days * 86_400_000;
  return files.filter((f) => f.name !== newest && Date.parse(f.modified) < cutoff).map(({ name, bytes }) => ({ name, bytes }));
}

/** Removes the regular files named (re-checked: still a regular file, still older than the cutoff). */
export async function removeLogs(dir: string, names: readonly string[], days: number, now: Date): Promise<Freed> {
  const freed: Freed = { count: 0, bytes: 0 };
  const cutoff = now.getTime() - days * 86_400_000;
  for (const name of names) {
    const stats = await lstat(join(dir, name)).catch(() => null);
    if (!stats?.isFile() || stats.mtime.getTime() >= cutoff) continue;
    await unlink(join(dir, name));
    freed.count++;
    freed.bytes += stats.size;
  }
  return freed;
}
