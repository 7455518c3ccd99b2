/**
 * Where logical dumps live and what their manifest says. Container RECOVER_CONTAINER_DUMPS:
 *   <db>/<stamp>/files/…        pg_dump's directory (toc.dat, <id>.dat.gz, blobs)
 *   <db>/<stamp>/globals.sql    pg_dumpall --globals-only of the same run (roles, tablespaces)
 *   <db>/<stamp>/manifest.json  written last: a dump without it is incomplete and never listed
 * Every file's sha256 is in the manifest (and in the blob's metadata); a restore refuses a file
 * that does not match before it creates anything.
 */
import { z } from 'zod';

/** `20250115142959`: the UTC second the dump started. */
export const dumpStamp = (now: Date) => now.toISOString().replace(/\D/g, '').slice(0, 14);
export const STAMP = /^\d{14}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

export const dumpDirectory = (database: string, stamp: string) => `${database}/${stamp}/`;
export const dumpManifestKey = (database: string, stamp: string) => `${dumpDirectory(database, stamp)}manifest.json`;

export const dumpFileSchema = z.object({
  /** Relative to the dump's directory: `files/toc.dat`, `files/3345.dat.gz`, `globals.sql`. */
  name: z.string().regex(/^(files\/[\w-][\w.-]*|globals\.sql)$/),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const dumpManifestSchema = z.object({
  formatVersion: z.literal(1),
  database: z.string().regex(NAME),
  stamp: z.string().regex(STAMP),
  serverVersion: z.string().max(200),
  serverVersionNum: z.number().int(),
  /** What CREATE DATABASE needs to make an empty one like it (engine/database/sql.ts createDatabaseLikeSql). */
  encoding: z.string().max(64),
  collate: z.string().max(200),
  ctype: z.string().max(200),
  provider: z.string().max(1),
  icuLocale: z.string().max(200).nullable(),
  owner: z.string().max(63),
  /** Roles the database's objects name (owners, grantees): they must exist where it is restored with owners kept. */
  roles: z.array(z.string().max(63)),
  /** ALTER DATABASE … SET of the database (pg_dump without --create does not carry them). */
  settings: z.array(z.string().max(10_000)),
  /** Size of the database when dumped (pg_database_size) and of the stored files. */
  databaseBytes: z.number().int().nonnegative(),
  dumpBytes: z.number().int().nonnegative(),
  /**
   * The snapshot pg_dump ran in: exported by a REPEATABLE READ transaction kept open for the
   * dump; `time` is now() in it and `lsn` pg_current_wal_lsn() read in the same statement right
   * after the snapshot was taken. So every transaction the dump holds committed before `lsn`
   * (an upper bound); one committing just before it may be missing. Said in `lsnMeaning`.
   */
  snapshot: z.object({ time: z.string().max(40), lsn: z.string().regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/), lsnMeaning: z.string().max(300) }),
  /** Exact row count of every table, counted in the dump's own snapshot (what the restore's counts must equal). */
  tables: z.array(z.object({ table: z.string().max(200), rows: z.number().int().nonnegative() })),
  jobs: z.number().int().min(1),
  files: z.array(dumpFileSchema).min(1),
  startedAt: z.string().max(40),
  finishedAt: z.string().max(40),
});
export type DumpManifest = z.infer<typeof dumpManifestSchema>;
export type DumpFile = z.infer<typeof dumpFileSchema>;

export const LSN_MEANING = 'upper bound: read in the snapshot\'s own transaction right after it was taken; every transaction in the dump committed before it';

/** A stored dump as listed: its manifest, or why it cannot be used. */
export interface DumpEntry {
  database: string;
  stamp: string;
  manifest: DumpManifest | null;
  problem: string | null;
}

/** `<db>/<stamp>/manifest.json` → its database and stamp; null for any other key. */
export function parseManifestKey(key: string): { database: string; stamp: string } | null {
  const parts = key.split('/');
  if (parts.length !== 3 || parts[2] !== 'manifest.json' || !NAME.test(parts[0]!) || !STAMP.test(parts[1]!)) return null;
  return { database: parts[0]!, stamp: parts[1]! };
}

/** The dump a restore uses: `stamp` if given, else the newest complete one of `database`; null if none. */
export function pickDump(entries: readonly DumpEntry[], database: string, stamp: string | null): DumpEntry | null {
  const ours = entries.filter((entry) => entry.database === database && entry.manifest !== null && (stamp === null || entry.stamp === stamp));
  return [...ours].sort((a, b) => b.stamp.localeCompare(a.stamp))[0] ?? null;
}
