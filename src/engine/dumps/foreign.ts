/**
 * A foreign dump: a `pg_dump -Fc` file someone put in the dumps container (`legacy/app.dump`),
 * without the manifest recover dump-backup writes. What can be checked before anything is
 * created is checked: the file starts with pg_dump's magic `PGDMP`, `pg_restore --list` reads its
 * whole table of contents, it is the custom format, and the roles that own its objects exist
 * (unless --no-owner). What cannot be verified is said, never assumed: no checksum to compare
 * with (its sha256 is computed and reported), no row counts taken at dump time, no snapshot time
 * or LSN, and the locale is production's default (the custom format records the encoding only).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { RecoverError } from '../../errors.js';
import { hashingCounter } from '../../util/streams.js';
import type { EngineContext } from '../context.js';
import { makeOwnedDir } from '../local-cluster.js';
import { pgRestoreListArgs, tableDataEntries } from './args.js';
import type { DumpManifest } from './manifest.js';

/** A blob path of a foreign dump: plain segments, ending in `.dump` (never `..`, never absolute). */
export const FOREIGN_DUMP_PATH = /^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*\.dump$/;

export const FOREIGN_UNVERIFIED = 'no manifest: no checksum to compare the file with (its sha256 is reported), no row counts taken at dump time, no snapshot time or LSN; the locale is production\'s default';

export interface ListingHeader {
  dbname: string | null;
  format: string | null;
  serverVersion: string | null;
}

/** The header of a `pg_restore --list` listing (pure). */
export function parseListingHeader(listing: string): ListingHeader {
  const field = (name: string) => new RegExp(`^;\\s+${name}:\\s*(.+)$`, 'm').exec(listing)?.[1]?.trim() ?? null;
  return { dbname: field('dbname'), format: field('Format'), serverVersion: field('Dumped from database version') };
}

/**
 * The roles that own the listing's entries, as pg_restore would set them (pure): the last field
 * of `id; tableoid oid TYPE schema name owner`, empty (the line ends in a space) for entries
 * without one, such as BLOBS.
 */
export function listingOwners(listing: string): string[] {
  const owners = new Set<string>();
  for (const line of listing.split('\n')) {
    if (!/^\d+;\s+\d+\s+\d+\s+\S/.test(line) || line.endsWith(' ')) continue;
    const owner = line.split(' ').at(-1);
    if (owner) owners.add(owner);
  }
  return [...owners].sort();
}

export interface ForeignDownloaded {
  file: string;
  bytes: number;
  sha256: string;
  header: ListingHeader;
  tocTables: string[];
  owners: string[];
}

/** Downloads the blob into `work` and checks what can be checked; BACKUP_CORRUPT naming what failed otherwise. */
export async function downloadForeignDump(ctx: EngineContext, path: string, work: string, owner: { uid: number; gid: number } | undefined, tools: { bin: string; run: (file: string, args: string[]) => Promise<{ stdout: string }> }): Promise<ForeignDownloaded> {
  await makeOwnedDir(work, owner);
  const file = join(work, 'foreign.dump');
  const counter = hashingCounter(() => undefined, Number.MAX_SAFE_INTEGER);
  await pipeline(await ctx.storage.dumps.getStream(path, ctx.signal), counter.stream, createWriteStream(file, { mode: 0o644 }), { signal: ctx.signal });
  const damaged = (what: string, cause?: unknown) =>
    new RecoverError('BACKUP_CORRUPT', `${path} is not a usable pg_dump custom-format file: ${what}. Nothing was created.`, { hint: 'Upload the output of pg_dump -Fc (custom format), or restore a stored dump: recover backups lists them.', cause });
  let magic = '';
  for await (const chunk of createReadStream(file, { start: 0, end: 4 })) magic += (chunk as Buffer).toString('latin1');
  if (magic !== 'PGDMP') throw damaged('it does not start with pg_dump\'s PGDMP header');
  let listing: string;
  try {
    listing = (await tools.run(...pgRestoreListArgs(tools.bin, file))).stdout;
  } catch (error) {
    throw damaged('pg_restore --list cannot read its table of contents', error);
  }
  const header = parseListingHeader(listing);
  if (header.format !== 'CUSTOM') throw damaged(`its format is ${header.format ?? 'unknown'}, not CUSTOM`);
  return { file, bytes: counter.bytes(), sha256: counter.sha256(), header, tocTables: tableDataEntries(listing), owners: listingOwners(listing) };
}

/** The check a foreign dump's copy gets instead of row counts (pure): every table with data in its table of contents is in the copy; what could not be verified, said. */
export function foreignCheck(tocTables: readonly string[], copyCounts: ReadonlyMap<string, number>) {
  const missing = tocTables.filter((table) => !copyCounts.has(table));
  return {
    name: 'dump contents',
    ok: missing.length === 0,
    message: missing.length === 0
      ? `the ${tocTables.length} tables with data in the foreign dump's table of contents are in the copy (${[...copyCounts.values()].reduce((sum, rows) => sum + rows, 0)} rows); not verified: ${FOREIGN_UNVERIFIED}`
      : `in the foreign dump's table of contents but not in the copy: ${missing.join(', ')}`,
  };
}

/** What creating a database from a foreign dump needs, in a manifest's shape (its roles and size are filled in once it is read). */
export function foreignManifest(path: string, database: string, stamp: string, like: { encoding: string; collate: string; ctype: string; provider: string; icuLocale: string | null; owner: string }, bytes: number): DumpManifest {
  return {
    formatVersion: 1, database, stamp, serverVersion: '?', serverVersionNum: 0, ...like, roles: [], settings: [], databaseBytes: 0, dumpBytes: bytes,
    snapshot: { time: 'unknown', lsn: '0/0', lsnMeaning: FOREIGN_UNVERIFIED },
    tables: [], jobs: 1, files: [{ name: `files/${path.split('/').at(-1)}`, bytes, sha256: '0'.repeat(64) }], startedAt: 'unknown', finishedAt: 'unknown',
  };
}
