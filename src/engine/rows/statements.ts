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
 * and with `withRows` the row as JSON (for inserting). A child set's rows also carry their
 * parent row as the side instance has it (through the foreign key): its key, its hash and its
 * referenced columns (`parent_ref`, JSON by the parent's column names), so that production's
 * parent can be checked before a child goes back. Parameters: the filter's.
 */
export function declareCursorSql(cursor: string, set: RowSet, filter: CompiledFilter, withRows: boolean): string {
  const key = set.table.primaryKey;
  const via = set.via;
  const parent = via
    ? `, ${keyJsonSql('p', via.parent.table.primaryKey)}::text AS parent_key, ${rowHashSql('p')} AS parent_hash, ${keyJsonSql('p', via.parentColumns)}::text AS parent_ref`
    : '';
  // The foreign key references a unique key of the parent: at most one parent row per child.
  const join = via ? ` LEFT JOIN ${qualified(via.parent.table)} ${quoteIdent('p')} ON ${via.parentColumns.map((column, i) => `${quoteIdent('p')}.${quoteIdent(column)} = ${quoteIdent('k')}.${quoteIdent(via.childColumns[i]!)}`).join(' AND ')}` : '';
  return `DECLARE ${quoteIdent(cursor)} NO SCROLL CURSOR FOR SELECT ${keyJsonSql('k', key)}::text AS key, ${rowHashSql('k')} AS hash${withRows ? `, to_jsonb(${quoteIdent('k')})::text AS row` : ''}${parent} FROM (${rowSetSql(set, filter)}) ${quoteIdent('k')}${join} ORDER BY ${columnList('k', key)}`;
}

/**
 * Production's parent rows for a page of children: `$1` = a JSON array of `parent_ref` objects
 * (the referenced columns by the parent's column names). One row per parent found: `ord` (1-based
 * index into `$1`), its key and hash, and with `lock` whether this transaction inserted it
 * (`ours`); `lock` also takes FOR KEY SHARE on it, so it cannot be deleted or given another key
 * before the copy commits (the children are then certain to belong to the row that was checked).
 */
export function parentLookupSql(parent: TableInfo, parentColumns: readonly string[], lock: boolean): string {
  const same = parentColumns.map((column) => `${quoteIdent('t')}.${quoteIdent(column)} = ${quoteIdent('k')}.${quoteIdent(column)}`).join(' AND ');
  const ours = lock ? `, (${quoteIdent('t')}.xmin = pg_current_xact_id()::xid) AS ours` : ', false AS ours';
  return `SELECT ${quoteIdent('e')}.ord::int AS ord, ${keyJsonSql('t', parent.primaryKey)}::text AS key, ${rowHashSql('t')} AS hash${ours} FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS ${quoteIdent('e')}(v, ord) CROSS JOIN LATERAL jsonb_populate_record(NULL::${qualified(parent)}, ${quoteIdent('e')}.v) AS ${quoteIdent('k')} JOIN ${qualified(parent)} AS ${quoteIdent('t')} ON ${same}${lock ? ` FOR KEY SHARE OF ${quoteIdent('t')}` : ''}`;
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
