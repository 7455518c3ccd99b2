/**
 * Writes a directory dump's toc.dat as pg_dump 15 does (pg_backup_archiver.c WriteHead/WriteToc,
 * pg_backup_directory.c _WriteExtraToc), for unit tests of the reader: the byte layout was read
 * off real pg_dump 15 archives (test/integration/engine/dump-loader.test.ts reads real ones).
 */
export interface WrittenEntry {
  dumpId: number;
  desc: string;
  tag?: string;
  section: number;
  defn?: string;
  copyStmt?: string | null;
  namespace?: string | null;
  tablespace?: string | null;
  owner?: string | null;
  deps?: number[];
  filename?: string;
  hadDumper?: boolean;
  withOids?: boolean;
}

export function writeToc(entries: readonly WrittenEntry[], options: { minor?: number; format?: number; compression?: number; database?: string } = {}): Buffer {
  const parts: Buffer[] = [];
  const int = (value: number) => {
    const bytes = Buffer.alloc(5);
    bytes[0] = value < 0 ? 1 : 0;
    bytes.writeUInt32LE(Math.abs(value), 1);
    parts.push(bytes);
  };
  const str = (value: string | null | undefined) => {
    if (value === null || value === undefined) return int(-1);
    const bytes = Buffer.from(value, 'utf8');
    int(bytes.length);
    parts.push(bytes);
  };
  const minor = options.minor ?? 14;
  parts.push(Buffer.from('PGDMP', 'latin1'), Buffer.from([1, minor, 0, 4, 8, options.format ?? 3]));
  int(options.compression ?? -1);
  for (const field of [12, 30, 15, 7, 11, 126, 0]) int(field);
  str(options.database ?? 'app');
  str('15.20');
  str('15.20');
  int(entries.length);
  for (const entry of entries) {
    int(entry.dumpId);
    int(entry.hadDumper ? 1 : 0);
    str('0');
    str('0');
    str(entry.tag ?? entry.desc);
    str(entry.desc);
    int(entry.section);
    str(entry.defn ?? '');
    str(null);
    str(entry.copyStmt ?? null);
    str(entry.namespace ?? null);
    str(entry.tablespace ?? null);
    if (minor >= 14) str('');
    str(entry.owner ?? null);
    str(entry.withOids ? 'true' : 'false');
    for (const dep of entry.deps ?? []) str(String(dep));
    str(null);
    str(entry.filename ?? '');
  }
  return Buffer.concat(parts);
}
