/**
 * Each row of a row set in the side instance, classified against production a page at a time:
 * `present` (same key, same values: skipped), `different` (same key, other values: left
 * alone), `missing` (to insert) or `conflict`: missing by primary key but it cannot go back —
 * another production row holds one of its unique values (a unique constraint other than the
 * primary key), or its parent row in this restore is itself not going back. Conflicting rows
 * are skipped and reported with the key and the reason, so the insert of the others never
 * fails on them (one unique violation would undo the whole transaction).
 */
import type pg from 'pg';
import { RecoverError } from '../../errors.js';
import { compileFilterText, type CompiledFilter } from './filter-compile.js';
import { uniqueKeysSql } from './rows-sql.js';
import { declareCursorSql, fetchSql, lookupKeysSql, ROOT_ALIAS, uniqueHoldersSql } from './statements.js';
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
  /** Rows (as objects) of each set that do not go back, by the set's index: their children do not either. */
  blocked: Map<number, Record<string, unknown>[]>;
}

export type RowClass = 'missing' | 'present' | 'different' | 'conflict';
export interface PageRow {
  key: string;
  hash: string;
  row?: string;
}
export type ClassifiedRow = PageRow & { cls: RowClass; /** Why a conflicting row cannot go back. */ reason?: string };

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

/** The values of `columns` of a row object, as one comparable text (null if any is null: MATCH SIMPLE references nothing). */
function tupleOf(row: Record<string, unknown>, columns: readonly string[]): string | null {
  const values = columns.map((column) => row[column]);
  return values.some((value) => value === null || value === undefined) ? null : JSON.stringify(values);
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

/** Marks a set's row as not going back, so its children are conflicts too. */
export function block(prepared: Prepared, index: number, row: ClassifiedRow): void {
  if (!row.row || !prepared.sets.some((set) => set.via?.parent === prepared.sets[index])) return;
  const rows = prepared.blocked.get(index) ?? [];
  rows.push(JSON.parse(row.row) as Record<string, unknown>);
  prepared.blocked.set(index, rows);
}

/** The parent tuples (the foreign key's parent columns) of the parent set's rows that do not go back. */
function blockedParents(prepared: Prepared, set: RowSet): Map<string, string> {
  const tuples = new Map<string, string>();
  if (!set.via) return tuples;
  const parentIndex = prepared.sets.indexOf(set.via.parent);
  for (const row of prepared.blocked.get(parentIndex) ?? []) {
    const tuple = tupleOf(row, set.via.parentColumns);
    if (tuple !== null) tuples.set(tuple, JSON.stringify(Object.fromEntries(set.via.parent.table.primaryKey.map((column) => [column, row[column]]))));
  }
  return tuples;
}

/**
 * Walks one set's rows in the side instance, a page at a time, classifying each page against
 * production; `onPage` gets the page with each row's class. Rows are read as JSON when asked
 * (`withRows`) or when a conflict check needs their values.
 */
export async function walkSet(source: pg.Client, production: pg.Client, prepared: Prepared, index: number, pageRows: number, withRows: boolean, onPage: (rows: ClassifiedRow[]) => Promise<void>): Promise<void> {
  const set = prepared.sets[index]!;
  const uniques = prepared.uniques[index] ?? [];
  const parents = blockedParents(prepared, set);
  const needRows = withRows || uniques.length > 0 || parents.size > 0 || prepared.sets.some((other) => other.via?.parent === set);
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
    if (parents.size > 0 && set.via) {
      for (const row of rows.filter((r) => r.cls === 'missing' && r.row)) {
        const tuple = tupleOf(JSON.parse(row.row!) as Record<string, unknown>, set.via.childColumns);
        const parent = tuple === null ? undefined : parents.get(tuple);
        if (parent !== undefined) Object.assign(row, { cls: 'conflict', reason: `its parent ${parent} in ${displayName(set.via.parent.table)} does not go back (a conflict there)` });
      }
    }
    const missing = rows.filter((row) => row.cls === 'missing' && row.row);
    const conflicts = await uniqueConflicts(production, set, uniques, missing.map((row) => row.row!));
    for (const row of missing) {
      const reason = conflicts.get(row.key);
      if (reason !== undefined) Object.assign(row, { cls: 'conflict', reason });
    }
    for (const row of rows) if (row.cls === 'conflict') block(prepared, index, row);
    await onPage(rows);
    if (page.length < pageRows) break;
  }
  await source.query(`CLOSE ${quote(cursor)}`);
}
