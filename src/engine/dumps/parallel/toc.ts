/**
 * The table of contents of a directory-format dump (`toc.dat`), read without a server (pure).
 * pg_restore keeps this to itself; the parallel loader needs what `pg_restore --list` does not
 * print: each entry's dependencies, its SQL, the COPY statement of its data and the data file's
 * name. The layout is pg_dump's archive format (pg_backup_archiver.c, WriteHead/WriteToc and
 * pg_backup_directory.c's _WriteExtraToc), versions 1.13 (PostgreSQL 11) to 1.14 (12 to 15):
 * an int is a sign byte then `intSize` little-endian bytes; a string is its length as an int
 * (-1: none) then its bytes. Anything else (another version, a custom-format file) is
 * `unsupported`: the caller then leaves the whole restore to pg_restore.
 */

export const SECTION = { none: 1, preData: 2, data: 3, postData: 4 } as const;

export interface TocEntry {
  dumpId: number;
  hadDumper: boolean;
  tag: string;
  desc: string;
  section: number;
  defn: string;
  copyStmt: string | null;
  namespace: string | null;
  tablespace: string | null;
  owner: string | null;
  deps: number[];
  /** The data file's name in the dump directory (`3384.dat`, before any compression suffix); '' when none. */
  filename: string;
}

export interface Toc {
  version: string;
  /** The archive's zlib level: 0 none, -1 (zlib's default) or 1–9 (gzip-compressed data files). */
  compression: number;
  database: string;
  entries: TocEntry[];
}

export type TocRead = { ok: true; toc: Toc } | { ok: false; unsupported: string };

const MAGIC = 'PGDMP';
const DIRECTORY_TOC = 3;

class Reader {
  private at = 0;
  intSize = 4;
  constructor(private readonly buffer: Buffer) {}

  byte(): number {
    if (this.at >= this.buffer.length) throw new RangeError('toc.dat ends early');
    return this.buffer[this.at++]!;
  }

  int(): number {
    const negative = this.byte() !== 0;
    let value = 0;
    for (let shift = 0; shift < this.intSize; shift += 1) value += this.byte() * 2 ** (8 * shift);
    return negative ? -value : value;
  }

  str(): string | null {
    const length = this.int();
    if (length < 0) return null;
    if (this.at + length > this.buffer.length) throw new RangeError('toc.dat ends early');
    const text = this.buffer.toString('utf8', this.at, this.at + length);
    this.at += length;
    return text;
  }

  bytes(count: number): Buffer {
    if (this.at + count > this.buffer.length) throw new RangeError('toc.dat ends early');
    const slice = this.buffer.subarray(this.at, this.at + count);
    this.at += count;
    return slice;
  }
}

/** Reads toc.dat's bytes. Never throws: damage or an unknown layout is `unsupported` with the reason. */
export function readToc(buffer: Buffer): TocRead {
  try {
    const reader = new Reader(buffer);
    if (reader.bytes(5).toString('latin1') !== MAGIC) return { ok: false, unsupported: 'not a pg_dump archive (no PGDMP header)' };
    const [major, minor, revision] = [reader.byte(), reader.byte(), reader.byte()];
    const version = `${major}.${minor}.${revision}`;
    if (major !== 1 || minor < 13 || minor > 14) return { ok: false, unsupported: `archive version ${version} (this loader reads 1.13–1.14: pg_dump 11 to 15)` };
    reader.intSize = reader.byte();
    const offSize = reader.byte();
    const format = reader.byte();
    if (reader.intSize < 1 || reader.intSize > 8 || offSize < 1 || offSize > 8) return { ok: false, unsupported: `int size ${reader.intSize}, offset size ${offSize}` };
    // A directory dump's toc.dat says 3 (a custom-format file 1, which keeps offsets where this reads file names).
    if (format !== DIRECTORY_TOC) return { ok: false, unsupported: format === 1 ? 'a custom-format archive (one file): its data is read by pg_restore' : `archive format code ${format}` };
    const compression = reader.int();
    for (let field = 0; field < 7; field += 1) reader.int(); // creation time: sec, min, hour, mday, mon, year, isdst
    const database = reader.str() ?? '';
    reader.str(); // server version
    reader.str(); // pg_dump version
    const count = reader.int();
    if (count < 0) return { ok: false, unsupported: `a negative entry count (${count})` };
    const entries: TocEntry[] = [];
    for (let index = 0; index < count; index += 1) {
      const dumpId = reader.int();
      if (dumpId <= 0) return { ok: false, unsupported: `entry ${index} has dump id ${dumpId}` };
      const hadDumper = reader.int() !== 0;
      reader.str(); // catalog table oid
      reader.str(); // object oid
      const tag = reader.str() ?? '';
      const desc = reader.str() ?? '';
      const section = reader.int();
      const defn = reader.str() ?? '';
      reader.str(); // drop statement
      const copyStmt = reader.str();
      const namespace = reader.str();
      const tablespace = reader.str();
      if (minor >= 14) reader.str(); // table access method
      const owner = reader.str();
      if (reader.str() === 'true') return { ok: false, unsupported: `entry ${dumpId} was dumped WITH OIDS` };
      const deps: number[] = [];
      for (let dep = reader.str(); dep !== null; dep = reader.str()) deps.push(Number.parseInt(dep, 10));
      // Directory format: each entry's data file name (pg_backup_directory.c _ReadExtraToc).
      const filename = reader.str() ?? '';
      entries.push({ dumpId, hadDumper, tag, desc, section, defn, copyStmt, namespace, tablespace, owner, deps, filename });
    }
    return { ok: true, toc: { version, compression, database, entries } };
  } catch (error) {
    return { ok: false, unsupported: `toc.dat could not be read: ${(error as Error).message}` };
  }
}

/**
 * The section each entry is restored in (pure), as pg_restore's --section decides it: an entry
 * of no section of its own (comments, ACLs, the ENCODING settings) goes with the last sectioned
 * entry before it.
 */
export function effectiveSections(entries: readonly TocEntry[]): Map<number, number> {
  const sections = new Map<number, number>();
  let current: number = SECTION.preData;
  for (const entry of entries) {
    if (entry.section !== SECTION.none) current = entry.section;
    sections.set(entry.dumpId, current);
  }
  return sections;
}
