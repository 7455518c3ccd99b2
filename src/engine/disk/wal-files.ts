/**
 * pg_wal as it is on disk (segments, their archive_status) and as the WAL archive holds it.
 * Read directly from the files, so it works with the server up or down.
 */
import { lstat, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { walFileKind } from '../../catalog/segments.js';
import type { Storage } from '../../storage/blob-store.js';
import type { ArchiveState } from './removal.js';

export interface WalFile {
  name: string;
  bytes: number;
  /** Last modification: for a `.ready` segment, about when it was finished (and never archived since). */
  modified: string;
}

export interface WalState {
  /** The real directory (pg_wal is often a symlink to another filesystem). */
  dir: string;
  segments: WalFile[];
  status: Map<string, ArchiveState>;
  /** When each `.ready` file was written: when PostgreSQL first asked for the segment to be archived. */
  readySince: Map<string, string>;
  /** History, `.partial`, `.backup` and temporary files: never removed, counted. */
  otherBytes: number;
}

export async function readWalState(dataDir: string): Promise<WalState> {
  const dir = await realpath(join(dataDir, 'pg_wal'));
  const segments: WalFile[] = [];
  let otherBytes = 0;
  for (const name of await readdir(dir)) {
    const stats = await lstat(join(dir, name)).catch(() => null);
    if (!stats?.isFile()) continue;
    if (walFileKind(name) === 'segment') segments.push({ name, bytes: stats.size, modified: stats.mtime.toISOString() });
    else otherBytes += stats.size;
  }
  const status = new Map<string, ArchiveState>();
  const readySince = new Map<string, string>();
  for (const file of await readdir(join(dir, 'archive_status')).catch(() => [] as string[])) {
    const match = /^(.+)\.(ready|done)$/.exec(file);
    if (!match) continue;
    status.set(match[1]!, match[2] as ArchiveState);
    if (match[2] === 'ready') {
      const stats = await lstat(join(dir, 'archive_status', file)).catch(() => null);
      if (stats) readySince.set(match[1]!, stats.mtime.toISOString());
    }
  }
  segments.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { dir, segments, status, readySince, otherBytes };
}

/**
 * The local segments the archive holds with the same size (the size recorded when archived, for
 * our own compressed uploads): one listing per 16-character name prefix (timeline and log), not
 * the whole archive. Throws what storage throws (unreachable, not configured).
 */
export async function archivedSegments(storage: Storage, segments: readonly WalFile[]): Promise<Set<string>> {
  const sizes = new Map(segments.map((s) => [s.name, s.bytes]));
  const found = new Set<string>();
  for (const prefix of new Set(segments.map((s) => s.name.slice(0, 16)))) {
    for await (const blob of storage.wal.list(`${storage.walPrefix}${prefix}`)) {
      const name = blob.key.slice(storage.walPrefix.length);
      const local = sizes.get(name);
      if (local === undefined) continue;
      // Another tool's copy records no size (and may be compressed): present and not empty is all that can be told.
      if (blob.metadata.rawsize ? Number(blob.metadata.rawsize) === local : blob.size > 0) found.add(name);
    }
  }
  return found;
}
