/**
 * Which entries of a data directory a file-level base backup copies (pure), following
 * PostgreSQL 15's own base backup (src/backend/backup/basebackup.c):
 *  - contents of pg_wal are left out (the WAL comes from the archive; the backup waits for
 *    its last segment), and so are the contents of pg_stat_tmp, pg_replslot, pg_dynshmem,
 *    pg_notify, pg_serial, pg_snapshots and pg_subtrans: the directories themselves are kept;
 *  - postmaster.pid/.opts, an old backup_label, tablespace_map or backup_manifest,
 *    postgresql.auto.conf.tmp, current_logfiles.tmp, pg_internal.init files and pgsql_tmp*
 *    (temporary files and their directories) are left out;
 *  - temporary relations (t<backend>_<node>) are left out, and of an unlogged relation only
 *    its init fork is copied (recovery rebuilds the relation from it);
 *  - global/pg_control is copied last, once every other file is (as pg_basebackup does);
 *  - sockets, FIFOs and devices are skipped; other symbolic links are kept as links.
 * Tablespaces (entries of pg_tblspc) are reported so the caller can refuse them: a backup
 * holds the main data directory only, as pg_basebackup to a stream does.
 */

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

export interface DataDirEntry {
  /** Relative to the data directory, '/'-separated, no leading './'. */
  path: string;
  kind: EntryKind;
  bytes: number;
  /** Permission bits (directories are recreated with them). */
  mode: number;
}

export interface BackupSelection {
  /** Every directory kept, parents first (pg_wal and pg_wal/archive_status always). */
  directories: DataDirEntry[];
  /** Regular files and symbolic links to copy, global/pg_control not among them. */
  files: DataDirEntry[];
  /** Present in the data directory (copied last, apart). */
  pgControl: DataDirEntry | null;
  /** Entries of pg_tblspc: tablespaces, which a backup does not hold. */
  tablespaces: string[];
}

const EMPTIED_DIRECTORIES = new Set(['pg_wal', 'pg_stat_tmp', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_subtrans']);
const SKIPPED_FILES = new Set(['postmaster.pid', 'postmaster.opts', 'backup_label', 'tablespace_map', 'backup_manifest', 'postgresql.auto.conf.tmp', 'current_logfiles.tmp']);
export const PG_CONTROL = 'global/pg_control';
/** <relfilenode>[_fork][.segment]; temporary relations start with t<backend id>_. */
const RELATION_FILE = /^(t\d+_)?(\d+)(?:_(fsm|vm|init))?(?:\.\d+)?$/;

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const parentOf = (path: string) => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');

/** Whether a walk should list what is inside this directory (the emptied ones are kept bare). */
export function listsContents(directory: string): boolean {
  if (EMPTIED_DIRECTORIES.has(directory)) return false;
  return !baseName(directory).startsWith('pgsql_tmp');
}

/** Directories that hold relation files: base/<db>, global (tablespaces are not backed up). */
const holdsRelations = (directory: string) => directory === 'global' || /^base\/\d+$/.test(directory);

export function selectBackupEntries(entries: readonly DataDirEntry[]): BackupSelection {
  const unlogged = new Set<string>();
  for (const entry of entries) {
    const parent = parentOf(entry.path);
    if (entry.kind !== 'file' || !holdsRelations(parent)) continue;
    const match = RELATION_FILE.exec(baseName(entry.path));
    if (match && !match[1] && match[3] === 'init') unlogged.add(`${parent}/${match[2]}`);
  }
  const selection: BackupSelection = { directories: [], files: [], pgControl: null, tablespaces: [] };
  const seenDirectories = new Set<string>();
  for (const entry of entries) {
    const name = baseName(entry.path);
    const parent = parentOf(entry.path);
    // Anything below an emptied or temporary directory (a walk should not list it anyway).
    if (parent && !directoryKeepsContents(parent)) continue;
    if (name.startsWith('pgsql_tmp')) continue;
    if (parent === 'pg_tblspc') {
      selection.tablespaces.push(entry.path);
      continue;
    }
    if (entry.path === 'pg_wal' && entry.kind === 'symlink') continue; // recreated as a directory below
    if (entry.kind === 'dir') {
      selection.directories.push(entry);
      seenDirectories.add(entry.path);
      continue;
    }
    if (entry.kind === 'other') continue;
    if (parent === '' && SKIPPED_FILES.has(name)) continue;
    if (name.startsWith('pg_internal.init')) continue;
    if (entry.path === PG_CONTROL && entry.kind === 'file') {
      selection.pgControl = entry;
      continue;
    }
    if (entry.kind === 'file' && holdsRelations(parent)) {
      const match = RELATION_FILE.exec(name);
      if (match?.[1]) continue; // temporary relation
      if (match && match[3] !== 'init' && unlogged.has(`${parent}/${match[2]}`)) continue;
    }
    selection.files.push(entry);
  }
  for (const path of ['pg_wal', 'pg_wal/archive_status']) {
    if (!seenDirectories.has(path)) selection.directories.push({ path, kind: 'dir', bytes: 0, mode: 0o700 });
  }
  selection.directories.sort((a, b) => a.path.split('/').length - b.path.split('/').length || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return selection;
}

/** pg_wal keeps archive_status (bare); the other emptied directories keep nothing. */
function directoryKeepsContents(directory: string): boolean {
  const parts = directory.split('/');
  for (let depth = 1; depth <= parts.length; depth++) {
    const prefix = parts.slice(0, depth).join('/');
    if (!listsContents(prefix)) return false;
  }
  return true;
}

/** Bytes a ustar archive of these entries takes before compression: a 512-byte header per entry, data padded to 512. */
export function tarBytes(entries: readonly DataDirEntry[]): number {
  let total = 1024; // the end-of-archive blocks
  for (const entry of entries) total += 512 + (entry.kind === 'file' ? Math.ceil(entry.bytes / 512) * 512 : 0);
  return total;
}

/**
 * Files packed into parts of about `partBytes` in path order (files of one table stay
 * together); a file as large as a part or larger gets a part of its own. Parts are returned
 * largest first so the biggest ones start first when they run `parallel` at a time.
 */
export function packParts(files: readonly DataDirEntry[], partBytes: number): DataDirEntry[][] {
  const parts: DataDirEntry[][] = [];
  let current: DataDirEntry[] = [];
  let currentBytes = 0;
  for (const file of files) {
    if (file.bytes >= partBytes) {
      parts.push([file]);
      continue;
    }
    if (current.length > 0 && currentBytes + file.bytes > partBytes) {
      parts.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(file);
    currentBytes += file.bytes;
  }
  if (current.length > 0) parts.push(current);
  const size = (part: DataDirEntry[]) => part.reduce((sum, file) => sum + file.bytes, 0);
  return parts.map((part) => ({ part, bytes: size(part) })).sort((a, b) => b.bytes - a.bytes).map(({ part }) => part);
}
