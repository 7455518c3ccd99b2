/** Argument lists for PostgreSQL's tools (pure, tested as tables). */
import { join } from 'node:path';
import { shellQuote } from '../util/quote.js';

export interface ConnectionParams {
  host: string;
  port: number;
  user: string;
  dbname?: string;
}

export function connectionArgs(conn: ConnectionParams): string[] {
  return ['--host', conn.host, '--port', String(conn.port), '--username', conn.user, ...(conn.dbname ? ['--dbname', conn.dbname] : [])];
}

/**
 * Tar format to stdout, WAL for consistency included. Uncompressed by default: the runner cuts
 * the stream into parts and compresses them in parallel (engine/backup-parts/); 'gzip' (client
 * gzip level 1, one core) is the formatVersion 1 single-stream layout.
 *
 * backup_manifest's per-file checksums are CRC32C, PostgreSQL's default: the server computes
 * them over every byte it sends, and SHA256 there made the whole backup ~20 % slower (pgbench
 * scale 300 into Azurite on 2 cores: 12.2 s against 15.1 s, medians of 4). They are for
 * pg_verifybackup against accidental damage; the stored parts carry their own sha256.
 */
export function pgBasebackupArgs(bin: string, conn: ConnectionParams, label: string, compression: 'none' | 'gzip' = 'none'): [string, string[]] {
  return [
    join(bin, 'pg_basebackup'),
    [
      ...connectionArgs({ ...conn, dbname: undefined }),
      '--pgdata', '-',
      '--format', 'tar',
      '--wal-method', 'fetch',
      '--compress', compression === 'gzip' ? 'client-gzip:1' : 'none',
      '--checkpoint', 'fast',
      '--manifest-checksums', 'CRC32C',
      '--label', label,
      '--no-password',
      '--verbose',
    ],
  ];
}

/**
 * `configFile`: a postgresql.conf outside the data directory (Debian's layout). pg_ctl hands
 * --options to /bin/sh, hence the shell quoting.
 */
export function pgCtlStartArgs(bin: string, dataDir: string, logFile: string, timeoutSeconds: number, configFile?: string): [string, string[]] {
  const options = configFile ? ['--options', `-c config_file=${shellQuote(configFile)}`] : [];
  return [join(bin, 'pg_ctl'), ['start', '--pgdata', dataDir, '--log', logFile, '--wait', '--timeout', String(timeoutSeconds), '--silent', ...options]];
}

export function pgCtlStopArgs(bin: string, dataDir: string, mode: 'smart' | 'fast' | 'immediate', timeoutSeconds: number): [string, string[]] {
  return [join(bin, 'pg_ctl'), ['stop', '--pgdata', dataDir, '--mode', mode, '--wait', '--timeout', String(timeoutSeconds), '--silent']];
}

/** `extra`: e.g. `--waldir DIR` or `--wal-segsize 1` (tests that fill a small pg_wal filesystem). */
export function initdbArgs(bin: string, dataDir: string, extra: readonly string[] = []): [string, string[]] {
  return [join(bin, 'initdb'), ['--pgdata', dataDir, '--auth', 'trust', '--username', 'postgres', '--encoding', 'UTF8', '--no-instructions', ...extra]];
}

/** Which tar extracts base backups: libarchive's bsdtar when the runner has it, else GNU tar (tar-tool.ts). */
export type TarTool = 'bsdtar' | 'gnu';

/**
 * Extracts a tar stream from stdin into a directory, keeping permissions.
 * - bsdtar (libarchive) unpacks gzip, zstd and LZ4 frames itself, in its own process: for a
 *   1 GiB table file in a zstd part 0.6 s and ~0.6 s of CPU, against 1.1-1.4 s and ~1.9 s for
 *   GNU tar, whose decompressor is a second process writing every byte through a pipe.
 * - GNU tar: 'lz4' runs `lz4 -d` (the lz4 CLI) over the LZ4 frames of a base backup part;
 *   'zstd': --zstd runs `zstd -d` the same way.
 */
export function tarExtractArgs(dir: string, compression: 'gzip' | 'lz4' | 'zstd' | 'none', tool: TarTool = 'gnu'): [string, string[]] {
  // bsdtar recognises the compression from the stream's first bytes; sha256 per part says whether they are the stored ones.
  if (tool === 'bsdtar') return ['bsdtar', ['-x', '-p', '-f', '-', '-C', dir, '--no-same-owner']];
  const decompress = { gzip: ['--gzip'], lz4: ['--use-compress-program=lz4'], zstd: ['--zstd'], none: [] }[compression];
  return ['tar', ['--extract', ...decompress, '--file', '-', '--directory', dir, '--no-same-owner']];
}

/**
 * bsdtar writing one part of a file-level base backup to stdout: the paths come NUL-separated
 * on stdin, relative to `dir`, each archived alone (-n: a directory entry does not pull in
 * its contents); compressed in bsdtar's own process with zstd or LZ4 at level 1, as the
 * streamed parts are. No extended attributes, ACLs or file flags: a data directory needs
 * none, and restores extract with permissions only.
 */
export function tarCreateArgs(dir: string, codec: 'zstd' | 'lz4'): [string, string[]] {
  return ['bsdtar', ['-c', '-f', '-', '-n', '--null', '-T', '-', '-C', dir, '--no-xattrs', '--no-acls', '--no-fflags', `--${codec}`, '--options', `${codec}:compression-level=1`]];
}

/** Parses pg_basebackup --verbose lines for the backup's WAL range. */
export function parseBasebackupLog(stderr: string): { startLsn?: string; stopLsn?: string; timeline?: number } {
  const start = /write-ahead log start point: ([0-9A-F]+\/[0-9A-F]+) on timeline (\d+)/i.exec(stderr);
  const stop = /write-ahead log end point: ([0-9A-F]+\/[0-9A-F]+)/i.exec(stderr);
  return {
    ...(start ? { startLsn: start[1]!, timeline: Number(start[2]) } : {}),
    ...(stop ? { stopLsn: stop[1]! } : {}),
  };
}

/**
 * One database dumped in directory format with `jobs` parallel workers (pg_restore --jobs
 * needs a file or directory, never stdin). Large objects included; no password prompt.
 */
export function pgDumpDirectoryArgs(bin: string, conn: ConnectionParams & { dbname: string }, outDir: string, jobs: number): [string, string[]] {
  return [join(bin, 'pg_dump'), [...connectionArgs(conn), '--format', 'directory', '--jobs', String(jobs), '--file', outDir, '--no-password', '--verbose']];
}

/**
 * Restores a directory-format dump into an existing, empty database with `jobs` workers.
 * Owners and privileges are kept (the copy replaces the original in a swap, so the
 * application's roles must keep their rights); the first error stops it.
 */
export function pgRestoreDirectoryArgs(bin: string, conn: ConnectionParams & { dbname: string }, dumpDir: string, jobs: number): [string, string[]] {
  return [join(bin, 'pg_restore'), [...connectionArgs(conn), '--jobs', String(jobs), '--exit-on-error', '--no-password', '--verbose', dumpDir]];
}

/** fsyncs every file and directory of a (stopped) cluster, pg_wal and tablespaces included. */
export function initdbSyncOnlyArgs(bin: string, dataDir: string): [string, string[]] {
  return [join(bin, 'initdb'), ['--sync-only', '--pgdata', dataDir]];
}
