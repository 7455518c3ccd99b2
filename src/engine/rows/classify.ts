/**
 * Each row of a row set in the side instance, classified against production a page at a time:
 * `present` (same key, same values: skipped), `different` (same key, other values: left
 * alone), `missing` (to insert) or `conflict`: missing by primary key but it cannot go back —
 * another production row holds one of its unique values (a unique constraint other than the
 * primary key). Conflicting rows are skipped and reported with the key and the reason, so the
 * insert of the others never fails on them (one unique violation would undo the whole transaction).
 * A missing child row (`--with-children`, any depth) is `orphan` unless its parent goes back
 * with it or is in production with the side instance's values: a parent that conflicts, is
 * itself an orphan, or is in production with other values (e.g. a new row that took its key
 * since the preview) keeps its children out, so old children are never attached to a new
 * parent. During the copy this is decided inside the write transaction, page by page, against
 * production's parent row (locked FOR KEY SHARE; a parent this copy inserted counts as equal).
 */
import type pg from 'pg';
import { RecoverError } from '../../errors.js';
import { compileFilterText, type CompiledFilter } from './filter-compile.js';
import { uniqueKeysSql } from './rows-sql.js';
import { declareCursorSql, fetchSql, lookupKeysSql, parentLookupSql, ROOT_ALIAS, uniqueHoldersSql } from './statements.js';
import { checkSameShape, displayName, readRowSets, readTable, type RowSet, type TableInfo } from './table.js';

export interface RowsSpec {
  /** The table as people name it: `workflows` or `schema.table`. */
  table: string;
  /** The filter text (filter.ts grammar). */
  filter: string;
  withChildren: boolean;
  maxDepth?: number;
  /** Rows per page read from the side instance (default 500). */
  pageRows?: number;
}

export interface UniqueKey {
  constraint: string;
  columns: string[];
  nullsNotDistinct: boolean;
}

export interface Prepared {
  sets: RowSet[];
  filter: CompiledFilter;
  /** Production's unique keys (other than the primary key) per set, by the set's index. */
  uniques: UniqueKey[][];
  /** Keys of each set's rows that do not go back (by the set's index), with why: their children do not either. */
  blocked: Map<number, Map<string, string>>;
}

/** `orphan`: a child row missing in production whose parent does not go back or differs there (skipped, reported). */
export type RowClass = 'missing' | 'present' | 'different' | 'conflict' | 'orphan';
export interface PageRow {
  key: string;
  hash: string;
  row?: string;
  /** Child sets: the parent row as the side instance has it (key, hash, referenced columns as JSON). */
  parent_key?: string | null;
  parent_hash?: string | null;
  parent_ref?: string | null;
}
export type ClassifiedRow = PageRow & { cls: RowClass; /** Why a conflicting or orphan row cannot go back. */ reason?: string };

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function readUniqueKeys(client: pg.Client, table: TableInfo): Promise<UniqueKey[]> {
  const rows = (await client.query<{ constraint: string; columns: string[]; nulls_not_distinct: boolean }>(uniqueKeysSql, [table.oid])).rows;
  return rows.map((row) => ({ constraint: row.constraint, columns: row.columns, nullsNotDistinct: row.nulls_not_distinct }));
}

/** The row sets from the side instance's catalog, each checked against production's table (whose unique keys are read); the filter compiled against the root's columns. */
export async function prepare(source: pg.Client, production: pg.Client, spec: RowsSpec): Promise<Prepared> {
  const root = await readTable(source, spec.table, 'the side instance');
  const filter = compileFilterText(spec.filter, root.columns, displayName(root), { alias: ROOT_ALIAS });
  const sets = await readRowSets(source, root, spec.withChildren, spec.maxDepth);
  const uniques: UniqueKey[][] = [];
  for (const set of sets) {
    const target = await readTable(production, `${quote(set.table.schema)}.${quote(set.table.name)}`, 'production');
    checkSameShape(set.table, target);
    uniques.push(await readUniqueKeys(production, target));
  }
  return { sets, filter, uniques, blocked: new Map() };
}

/** Production rows holding a unique value of the given rows: row key → why it conflicts. */
export async function uniqueConflicts(production: pg.Client, set: RowSet, uniques: readonly UniqueKey[], rows: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (rows.length === 0) return found;
  for (const unique of uniques) {
    const holders = (await production.query<{ key: string; held_by: string }>(uniqueHoldersSql(set.table, unique.columns, unique.nullsNotDistinct), [`[${rows.join(',')}]`])).rows;
    for (const holder of holders) {
      if (!found.has(holder.key)) found.set(holder.key, `unique constraint ${unique.constraint} (${unique.columns.join(', ')}): its value is held by ${holder.held_by} in production`);
    }
  }
  return found;
}

/** Marks a set's row as not going back (with why), so its children are orphans too. */
export function block(prepared: Prepared, index: number, row: Pick<ClassifiedRow, 'key'>, why: string): void {
  if (!prepared.sets.some((set) => set.via?.parent === prepared.sets[index])) return;
  const rows = prepared.blocked.get(index) ?? new Map<string, string>();
  rows.set(row.key, why);
  prepared.blocked.set(index, rows);
}

/**
 * A page's missing child rows checked against their parent: blocked in this restore (it does
 * not go back), or production's parent row by the foreign key's columns compared with the side
 * instance's. When `copying` (inside the write transaction, parents already copied): the parent
 * must be in production, equal or inserted by this transaction, and is locked until the commit;
 * else (preview) a parent absent from production is one that goes back with its children.
 */
async function checkParents(production: pg.Client, prepared: Prepared, set: RowSet, rows: ClassifiedRow[], copying: boolean): Promise<void> {
  const via = set.via;
  if (!via) return;
  const parentName = displayName(via.parent.table);
  const blocked = prepared.blocked.get(prepared.sets.indexOf(via.parent));
  const orphan = (row: ClassifiedRow, reason: string) => Object.assign(row, { cls: 'orphan', reason });
  const pending = new Map<string, ClassifiedRow[]>();
  for (const row of rows.filter((r) => r.cls === 'missing')) {
    const why = blocked?.get(row.parent_key ?? '');
    if (why !== undefined) orphan(row, `its parent ${row.parent_key} in ${parentName} does not go back (${why})`);
    else if (row.parent_ref) pending.set(row.parent_ref, [...(pending.get(row.parent_ref) ?? []), row]);
  }
  if (pending.size === 0) return;
  const refs = [...pending.keys()];
  const found = new Map((await production.query<{ ord: number; key: string; hash: string; ours: boolean }>(parentLookupSql(via.parent.table, via.parentColumns, copying), [`[${refs.join(',')}]`])).rows.map((row) => [refs[row.ord - 1]!, row]));
  for (const [ref, children] of pending) {
    const parent = found.get(ref);
    for (const row of children) {
      if (parent && (parent.ours || parent.hash === row.parent_hash)) continue;
      if (parent) orphan(row, `its parent ${row.parent_key} in ${parentName} is in production with other values (left alone; it may be a new row that took the key), so this row is not attached to it`);
      else if (copying) orphan(row, `its parent ${row.parent_key} in ${parentName} is not in production (not inserted by this copy)`);
    }
  }
}

/**
 * Walks one set's rows in the side instance, a page at a time, classifying each page against
 * production; `onPage` gets the page with each row's class. `copying`: inside the copy's write
 * transaction (rows read as JSON for the insert; children's parents checked and locked there).
 * Rows are also read as JSON when a conflict check needs their values.
 */
export async function walkSet(source: pg.Client, production: pg.Client, prepared: Prepared, index: number, pageRows: number, copying: boolean, onPage: (rows: ClassifiedRow[]) => Promise<void>): Promise<void> {
  const set = prepared.sets[index]!;
  const uniques = prepared.uniques[index] ?? [];
  const needRows = copying || uniques.length > 0;
  const cursor = `rows_${set.depth}_${set.table.oid}`;
  try {
    await source.query(declareCursorSql(cursor, set, prepared.filter, needRows), prepared.filter.params);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    // Class 22 (data exception): a filter value the column's type cannot read, e.g. 'yesterday-ish' for a timestamp.
    if (code.startsWith('22')) throw new RecoverError('BAD_INPUT', `A value in the filter does not fit its column: ${(error as Error).message}.`, { hint: `Filter: ${prepared.filter.text}`, cause: error });
    throw error;
  }
  for (;;) {
    const page = (await source.query<PageRow>(fetchSql(cursor, pageRows))).rows;
    if (page.length === 0) break;
    const found = new Map((await production.query<{ key: string; hash: string }>(lookupKeysSql(set.table), [`[${page.map((row) => row.key).join(',')}]`])).rows.map((row) => [row.key, row.hash]));
    const rows: ClassifiedRow[] = page.map((row) => ({ ...row, cls: !found.has(row.key) ? 'missing' : found.get(row.key) === row.hash ? 'present' : 'different' }));
    await checkParents(production, prepared, set, rows, copying);
    const missing = rows.filter((row) => row.cls === 'missing' && row.row);
    const conflicts = await uniqueConflicts(production, set, uniques, missing.map((row) => row.row!));
    for (const row of missing) {
      const reason = conflicts.get(row.key);
      if (reason !== undefined) Object.assign(row, { cls: 'conflict', reason });
    }
    for (const row of rows) if (row.cls === 'conflict' || row.cls === 'orphan') block(prepared, index, row, row.cls === 'conflict' ? 'a conflict there' : 'skipped there: its own parent does not go back or differs in production');
    await onPage(rows);
    if (page.length < pageRows) break;
  }
  await source.query(`CLOSE ${quote(cursor)}`);
}
