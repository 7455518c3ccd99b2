/**
 * What the parallel loader runs itself and what it leaves to pg_restore (pure, tested as a table).
 *
 * After pg_restore's pre-data pass, the loader takes:
 * - every table's rows (TABLE DATA with a COPY statement and a data file it can read), and
 * - the post-data statements that dominate a restore's time: indexes, primary/unique keys and
 *   foreign keys (INDEX, CONSTRAINT, FK CONSTRAINT), each when what it depends on is in;
 * everything else of the data and post-data sections (sequence values, large objects, triggers,
 * rules, policies, index attachments, materialized view data, comments and grants on them) goes
 * to one final `pg_restore -L` pass, and so does any statement that depends on such an entry
 * (transitively): the final pass runs after the loader, in pg_restore's own order.
 *
 * As pg_restore does (repoint_table_dependencies), a statement that depends on a table waits for
 * that table's rows; it locks the tables it depends on: shared for CREATE INDEX (two index builds
 * on one table run side by side), exclusive for constraints (ALTER TABLE).
 */
import { keyHalvesSql } from './load-sql.js';
import { effectiveSections, SECTION, type Toc, type TocEntry } from './toc.js';

export interface CopyJob {
  dumpId: number;
  /** The TABLE entry's dump id: what statements lock and wait for. */
  table: number;
  schema: string;
  name: string;
  copyStmt: string;
  /** The file in the dump directory (with its compression suffix). */
  file: string;
  gzip: boolean;
  bytes: number;
  /** Loaded first, by every lane at once (its rows dealt out between them), instead of by one lane. */
  split: boolean;
  /**
   * The COPY writes into the entry's own table (not, as with --load-via-partition-root, into its
   * partitioned root): only then may the table be emptied and its rows written frozen.
   */
  ownTable: boolean;
}

export interface StatementJob {
  dumpId: number;
  desc: string;
  tag: string;
  defn: string;
  tablespace: string | null;
  tables: number[];
  exclusive: boolean;
  /** Dump ids of the loader's own jobs (copies and statements) that must be finished first. */
  waitFor: number[];
  /** The largest data file among the tables it touches: statements of big tables start first. */
  weight: number;
  /** Among one table's statements, the costlier first: the key's columns and expressions (an index on (kind, created) sorts longer than one on (id)). */
  cost: number;
  /** The table it is on (for the executor's check that a primary or unique key's index may be built apart: an ordinary table). */
  table: { schema: string; name: string } | null;
  /**
   * A half of a split primary or unique key: the index (id = minus the constraint's dump id,
   * `defn` its CREATE UNIQUE INDEX) or the constraint made from it; `original` is pg_dump's
   * statement, run instead (by the constraint half) when the table is not an ordinary one.
   */
  keyPart?: { part: 'index' | 'constraint'; constraint: number; original: string };
}

export interface LoadPlan {
  copies: CopyJob[];
  statements: StatementJob[];
  /** Data and post-data entries left to the final pg_restore pass, in archive order. */
  rest: number[];
  /** The archive's session settings (client encoding, standard_conforming_strings, search_path), as pg_restore sets them. */
  setup: string[];
}

/** What the loader knows of the dump directory's files: the name and size of each entry's data file, if there is one. */
export type DataFiles = ReadonlyMap<string, number>;

const STATEMENTS = new Set(['INDEX', 'CONSTRAINT', 'FK CONSTRAINT']);
const SETUP = new Set(['ENCODING', 'STDSTRINGS', 'SEARCHPATH']);
const COPY_FROM_STDIN = /^COPY\s[\s\S]+\sFROM\s+stdin;?\s*$/i;

/** Why the loader cannot take this archive at all (then pg_restore does everything), or null. */
export function unsupportedArchive(toc: Toc): string | null {
  const encoding = toc.entries.find((entry) => entry.desc === 'ENCODING');
  // Statements go to the server as UTF-8 text; another client encoding is pg_restore's to handle.
  if (encoding && !/client_encoding\s*=\s*'UTF8'/i.test(encoding.defn)) return `its client encoding is not UTF8 (${encoding.defn.trim()})`;
  if (toc.compression !== 0 && toc.compression !== -1 && (toc.compression < 1 || toc.compression > 9)) return `compression ${toc.compression}`;
  return null;
}

function dataFile(entry: TocEntry, toc: Toc, files: DataFiles): { file: string; gzip: boolean; bytes: number } | null {
  if (!/^\d+\.dat$/.test(entry.filename)) return null;
  const gzip = toc.compression !== 0;
  const file = gzip ? `${entry.filename}.gz` : entry.filename;
  const bytes = files.get(file);
  return bytes === undefined ? null : { file, gzip, bytes };
}

/** An identifier as pg_dump writes it: quoted (doubled quotes inside) or plain lower case. */
const IDENT = '(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)';
// The keyword in either case; the identifiers exactly as pg_dump writes them (plain ones are lower case).
const COPY_TARGET = new RegExp(`^[Cc][Oo][Pp][Yy]\\s+(${IDENT})\\.(${IDENT})\\s`);
const unquote = (ident: string) => (ident.startsWith('"') ? ident.slice(1, -1).replace(/""/g, '"') : ident);

/** The schema and name a COPY statement writes into, its identifiers unquoted as pg_dump quoted them; null if unreadable (pure). */
export function copyTarget(copyStmt: string): [string, string] | null {
  const match = COPY_TARGET.exec(copyStmt);
  return match ? [unquote(match[1]!), unquote(match[2]!)] : null;
}

/** A table whose rows are more than one lane's share of all rows (and at least 64 MB) is split between the lanes. */
export const SPLIT_MIN_BYTES = 64 * 1024 * 1024;

/** The top-level elements of the first parenthesized list after `USING <method>` or a key's `KEY (` / `UNIQUE (` (pure). */
export function keyElements(defn: string): number {
  const start = /(?:USING\s+\w+\s*|PRIMARY KEY\s*|UNIQUE\s*)\(/i.exec(defn);
  if (!start) return 1;
  let depth = 0;
  let count = 1;
  for (let at = start.index + start[0].length; at < defn.length; at += 1) {
    const char = defn[at];
    if (char === '(') depth += 1;
    else if (char === ')') {
      if (depth === 0) break;
      depth -= 1;
    } else if (char === ',' && depth === 0) count += 1;
  }
  return count;
}

/** A primary or unique key exactly as pg_dump writes a plain one: no INCLUDE, WITH, tablespace, deferrability or NULLS NOT DISTINCT. */
const PLAIN_KEY = new RegExp(`^ALTER TABLE ONLY (${IDENT}\\.${IDENT})\\s+ADD CONSTRAINT (${IDENT}) (PRIMARY KEY|UNIQUE) \\(([^()]*)\\);\\s*$`);

/**
 * A plain primary or unique key as two statements (pure): its unique index, built under a
 * shared lock like any index (beside the table's other index builds), then the constraint
 * made from that index (ALTER TABLE … USING INDEX: a catalog change, no scan, the same
 * constraint and index as pg_dump's statement makes). Null when the statement is not that plain.
 */
export function splitKey(defn: string): { index: string; constraint: string } | null {
  const match = PLAIN_KEY.exec(defn.trim());
  if (!match) return null;
  const [, table, name, kind, columns] = match;
  return keyHalvesSql(table!, name!, kind as 'PRIMARY KEY' | 'UNIQUE', columns!);
}

export function loadPlan(toc: Toc, files: DataFiles, options: { lanes: number; split: boolean; splitKeys: boolean }): LoadPlan {
  const sections = effectiveSections(toc.entries);
  const byId = new Map(toc.entries.map((entry) => [entry.dumpId, entry]));
  const later = toc.entries.filter((entry) => sections.get(entry.dumpId) !== SECTION.preData);
  const copies: CopyJob[] = [];
  const rest = new Set<number>();
  const dataOfTable = new Map<number, number>();
  for (const entry of later) {
    const table = entry.deps.find((dep) => byId.get(dep)?.desc === 'TABLE');
    const file = entry.desc === 'TABLE DATA' && entry.hadDumper && entry.copyStmt && COPY_FROM_STDIN.test(entry.copyStmt.trim()) && table !== undefined && entry.namespace ? dataFile(entry, toc, files) : null;
    if (entry.desc === 'TABLE DATA' && table !== undefined) dataOfTable.set(table, entry.dumpId);
    if (file && table !== undefined) {
      const target = copyTarget(entry.copyStmt!.trim());
      copies.push({ dumpId: entry.dumpId, table, schema: entry.namespace!, name: entry.tag, copyStmt: entry.copyStmt!.trim(), ...file, split: false, ownTable: target !== null && target[0] === entry.namespace && target[1] === entry.tag });
    }
    else if (!STATEMENTS.has(entry.desc) || !entry.defn.trim()) rest.add(entry.dumpId);
  }
  const copyIds = new Set(copies.map((copy) => copy.dumpId));
  const bytesOf = new Map(copies.map((copy) => [copy.table, copy.bytes]));
  let candidates = later.filter((entry) => !copyIds.has(entry.dumpId) && !rest.has(entry.dumpId));
  // Anything depending on an entry of the final pass goes there too, until nothing moves.
  for (let moved = true; moved; ) {
    moved = false;
    for (const entry of candidates) {
      const blocked = entry.deps.some((dep) => rest.has(dep) || (dataOfTable.has(dep) && rest.has(dataOfTable.get(dep)!)));
      if (blocked) {
        rest.add(entry.dumpId);
        moved = true;
      }
    }
    candidates = candidates.filter((entry) => !rest.has(entry.dumpId));
  }
  const ours = new Set(candidates.map((entry) => entry.dumpId));
  const statements = candidates.flatMap((entry): StatementJob[] => {
    const tables = [...new Set(entry.deps.filter((dep) => byId.get(dep)?.desc === 'TABLE'))];
    const waitFor = [...new Set(entry.deps.flatMap((dep) => (ours.has(dep) ? [dep] : dataOfTable.has(dep) && copyIds.has(dataOfTable.get(dep)!) ? [dataOfTable.get(dep)!] : [])))];
    const tableEntry = tables.length === 1 ? byId.get(tables[0]!)! : null;
    const job: StatementJob = {
      dumpId: entry.dumpId, desc: entry.desc, tag: entry.tag, defn: entry.defn, tablespace: entry.tablespace, tables, exclusive: entry.desc !== 'INDEX', waitFor,
      weight: Math.max(0, ...tables.map((table) => bytesOf.get(table) ?? 0)), cost: keyElements(entry.defn),
      table: tableEntry?.namespace ? { schema: tableEntry.namespace, name: tableEntry.tag } : null,
    };
    const key = entry.desc === 'CONSTRAINT' && options.splitKeys && job.table ? splitKey(entry.defn) : null;
    if (!key) return [job];
    const original = { constraint: entry.dumpId, original: entry.defn };
    const index: StatementJob = { ...job, dumpId: -entry.dumpId, desc: 'INDEX', defn: key.index, exclusive: false, keyPart: { part: 'index', ...original } };
    return [index, { ...job, defn: key.constraint, waitFor: [index.dumpId], cost: 0, keyPart: { part: 'constraint', ...original } }];
  });
  if (options.split && options.lanes > 1) {
    const total = copies.reduce((sum, copy) => sum + copy.bytes, 0);
    for (const copy of copies) copy.split = copy.bytes >= SPLIT_MIN_BYTES && copy.bytes > total / options.lanes;
  }
  return {
    copies,
    statements,
    rest: later.filter((entry) => rest.has(entry.dumpId)).map((entry) => entry.dumpId),
    setup: toc.entries.filter((entry) => SETUP.has(entry.desc) && entry.defn.trim()).map((entry) => entry.defn.trim()),
  };
}
