/**
 * The statements of a rows restore (pure): which rows of a set are meant (the filter on the
 * root, a foreign key into the parent set for children, nested), reading them page by page
 * from the side instance, looking their keys up in production, inserting the missing ones,
 * moving a sequence forward. Identifiers come from the catalog and are quoted; the only
 * user-given text is the compiled filter, whose values are $n parameters.
 */
import { quoteIdent } from '../sql.js';
import type { CompiledFilter } from './filter-compile.js';
import { keyJsonSql, rowHashSql, tableName } from './rows-sql.js';
import type { RowSet, TableInfo } from './table.js';

const qualified = (table: TableInfo) => tableName(table.schema, table.name);
const columnList = (alias: string, columns: readonly string[]) => columns.map((column) => `${quoteIdent(alias)}.${quoteIdent(column)}`).join(', ');

/**
 * `SELECT r<d>.* FROM table r<d> WHERE …`: the root filtered (the filter compiled with alias
 * `r0`), a child set by its foreign key into the parent set's rows. Parameters: the filter's.
 */
export function rowSetSql(set: RowSet, filter: CompiledFilter): string {
  const alias = `r${set.depth}`;
  if (!set.via) return `SELECT ${quoteIdent(alias)}.* FROM ${qualified(set.table)} ${quoteIdent(alias)} WHERE ${filter.sql}`;
  const parentAlias = `p${set.depth}`;
  return `SELECT ${quoteIdent(alias)}.* FROM ${qualified(set.table)} ${quoteIdent(alias)} WHERE (${columnList(alias, set.via.childColumns)}) IN (SELECT ${columnList(parentAlias, set.via.parentColumns)} FROM (${rowSetSql(set.via.parent, filter)}) ${quoteIdent(parentAlias)})`;
}

/** The alias the root's filter must be compiled with. */
export const ROOT_ALIAS = 'r0';

/**
 * A cursor over the set's rows in the side instance, in key order: key (JSON text), row hash,
 * and with `withRows` the row as JSON (for inserting). Parameters: the filter's.
 */
export function declareCursorSql(cursor: string, set: RowSet, filter: CompiledFilter, withRows: boolean): string {
  const key = set.table.primaryKey;
  return `DECLARE ${quoteIdent(cursor)} NO SCROLL CURSOR FOR SELECT ${keyJsonSql('k', key)}::text AS key, ${rowHashSql('k')} AS hash${withRows ? `, to_jsonb(${quoteIdent('k')})::text AS row` : ''} FROM (${rowSetSql(set, filter)}) ${quoteIdent('k')} ORDER BY ${columnList('k', key)}`;
}

export function fetchSql(cursor: string, rows: number): string {
  return `FETCH ${Math.max(1, Math.floor(rows))} FROM ${quoteIdent(cursor)}`;
}

/** The key columns as a record definition list for jsonb_to_recordset: `"id" bigint, …` (types from the catalog). */
function keyRecordType(table: TableInfo): string {
  return table.primaryKey.map((name) => `${quoteIdent(name)} ${table.columns.find((column) => column.name === name)!.type}`).join(', ');
}

/** Production's rows with the given keys: key (JSON text) and row hash. `$1` = a JSON array of key objects. */
export function lookupKeysSql(table: TableInfo): string {
  const key = table.primaryKey;
  return `SELECT ${keyJsonSql('t', key)}::text AS key, ${rowHashSql('t')} AS hash FROM ${qualified(table)} ${quoteIdent('t')} WHERE (${columnList('t', key)}) IN (SELECT ${columnList('k', key)} FROM jsonb_to_recordset($1::jsonb) AS ${quoteIdent('k')}(${keyRecordType(table)}))`;
}

/**
 * Inserts rows given as a JSON array of row objects with their own values (identity columns
 * included: OVERRIDING SYSTEM VALUE; stored generated columns are computed again). A row whose
 * key (or another unique value) appeared meanwhile is skipped, never an error that would undo
 * the other rows. Returns the inserted keys and each inserted row's hash as production stored it.
 */
export function insertRowsSql(table: TableInfo): string {
  const columns = table.columns.filter((column) => column.generated === '').map((column) => column.name);
  const names = columns.map(quoteIdent).join(', ');
  return `INSERT INTO ${qualified(table)} AS ${quoteIdent('t')} (${names}) OVERRIDING SYSTEM VALUE SELECT ${columnList('j', columns)} FROM jsonb_populate_recordset(NULL::${qualified(table)}, $1::jsonb) AS ${quoteIdent('j')} ON CONFLICT DO NOTHING RETURNING ${keyJsonSql('t', table.primaryKey)}::text AS key, ${rowHashSql('t')} AS hash`;
}

/**
 * Moves the column's sequence up to the column's maximum when the maximum is above it (never
 * back). `$1` = the sequence (regclass text). One row `moved_to` when it moved, none otherwise.
 */
export function sequenceForwardSql(table: TableInfo, column: string): string {
  return `SELECT setval($1::regclass, x.m) AS moved_to FROM (SELECT max(${quoteIdent('t')}.${quoteIdent(column)})::bigint AS m FROM ${qualified(table)} ${quoteIdent('t')}) x WHERE x.m > coalesce(pg_sequence_last_value($1::regclass), 0)`;
}

/**
 * Which of the given rows would break a unique key (other than the primary key) because
 * another production row holds the same values: the row's key and the holder's key.
 * `$1` = a JSON array of row objects (the side instance's rows).
 */
export function uniqueHoldersSql(table: TableInfo, columns: readonly string[], nullsNotDistinct: boolean): string {
  const key = table.primaryKey;
  const same = columns.map((column) => `${quoteIdent('t')}.${quoteIdent(column)} ${nullsNotDistinct ? 'IS NOT DISTINCT FROM' : '='} ${quoteIdent('j')}.${quoteIdent(column)}`).join(' AND ');
  return `SELECT ${keyJsonSql('j', key)}::text AS key, ${keyJsonSql('t', key)}::text AS held_by FROM jsonb_populate_recordset(NULL::${qualified(table)}, $1::jsonb) AS ${quoteIdent('j')} JOIN ${qualified(table)} AS ${quoteIdent('t')} ON ${same} WHERE (${columnList('t', key)}) IS DISTINCT FROM (${columnList('j', key)})`;
}
