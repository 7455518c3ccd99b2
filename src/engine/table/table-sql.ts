/**
 * SQL text for /recover table (pure): a whole table compared, copied beside the live one, or
 * its contents replaced. Identifiers come from the catalog and are quoted; values are $n.
 * Rows are matched by primary key; a row's contents by md5 of its text form (the rows engine's
 * hash, so both engines agree on "different").
 */
import { quoteIdent } from '../sql.js';
import type { TableInfo } from '../rows/table.js';
import { tableName } from '../rows/rows-sql.js';

/** The temporary table (production session, dropped at commit) holding the side copy's rows during a replace. */
export const RESTORED = 'recover_restored';
const restored = `pg_temp.${quoteIdent(RESTORED)}`;

export const qualified = (table: { schema: string; name: string }) => tableName(table.schema, table.name);
const on = (left: string, right: string, columns: readonly string[]) => columns.map((c) => `${left}.${quoteIdent(c)} = ${right}.${quoteIdent(c)}`).join(' AND ');

/** A filter text (rows grammar) that every row matches: the first key column is never null. */
export function everyRowFilter(table: Pick<TableInfo, 'primaryKey'>): string {
  return `"${table.primaryKey[0]!.replace(/"/g, '""')}" is not null`;
}

/** Row count and an order-independent hash of the contents. */
export function contentSql(table: { schema: string; name: string }): string {
  return `SELECT count(*)::bigint AS rows, coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), md5('')) AS hash FROM ${qualified(table)} t`;
}

export const relationExistsSql = `SELECT to_regclass($1) IS NOT NULL AS exists`;

/**
 * A new table beside the live one with its columns, defaults, CHECK and NOT NULL constraints,
 * generated columns, identity (a new sequence of its own) and indexes. Foreign keys are not
 * copied (LIKE never does). Serial defaults still name the live table's sequence: see
 * sharedDefaultsSql / ownSequenceSql.
 */
export function createLikeSql(source: TableInfo, name: string): string {
  return `CREATE TABLE ${tableName(source.schema, name)} (LIKE ${qualified(source)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING INDEXES INCLUDING STORAGE INCLUDING COMMENTS)`;
}

/** Columns of `$1` (regclass text) whose default calls nextval(): after LIKE they share another table's sequence. */
export const sharedDefaultsSql = `
  SELECT a.attname AS name FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
   WHERE d.adrelid = to_regclass($1) AND a.attidentity = '' AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%'
   ORDER BY a.attnum`;

/** A sequence of the new table's own for one column (owned by it, the column's default). */
export function ownSequenceSql(schema: string, table: string, column: string): string[] {
  const sequence = tableName(schema, `${table}_${column}`.slice(0, 59) + '_seq');
  const target = tableName(schema, table);
  return [
    `CREATE SEQUENCE ${sequence} OWNED BY ${target}.${quoteIdent(column)}`,
    `ALTER TABLE ${target} ALTER COLUMN ${quoteIdent(column)} SET DEFAULT nextval('${sequence.replace(/'/g, "''")}'::regclass)`,
  ];
}

/** The side copy's rows in production for the replace: same columns and types, no constraints, gone at commit. */
export function createRestoredSql(table: TableInfo): string {
  return `CREATE TEMP TABLE ${quoteIdent(RESTORED)} (LIKE ${qualified(table)}) ON COMMIT DROP`;
}

/** Appends a page of the side copy's rows (`$1` = JSON array of row objects, every column). */
export const loadRestoredSql = `INSERT INTO ${restored} SELECT * FROM jsonb_populate_recordset(NULL::${restored}, $1::jsonb)`;

export function lockSql(table: { schema: string; name: string }, mode: 'EXCLUSIVE' | 'SHARE'): string {
  return `LOCK TABLE ${qualified(table)} IN ${mode} MODE`;
}

/** Production against the loaded side copy: rows on each side, missing in production, present and equal, present but different. */
export function compareRestoredSql(table: TableInfo): string {
  const t = qualified(table);
  const key = table.primaryKey;
  return `SELECT (SELECT count(*) FROM ${t})::bigint AS production_rows, (SELECT count(*) FROM ${restored})::bigint AS side_rows,
    (SELECT count(*) FROM ${restored} r WHERE NOT EXISTS (SELECT 1 FROM ${t} t WHERE ${on('t', 'r', key)}))::bigint AS missing,
    (SELECT count(*) FROM ${restored} r JOIN ${t} t ON ${on('t', 'r', key)} WHERE md5(t::text) = md5(r::text))::bigint AS present,
    (SELECT count(*) FROM ${restored} r JOIN ${t} t ON ${on('t', 'r', key)} WHERE md5(t::text) <> md5(r::text))::bigint AS different`;
}

export interface ReferencingKey {
  constraint: string;
  child: { schema: string; name: string };
  childColumns: string[];
  parentColumns: string[];
}

/** Rows of the referencing table whose key the side copy lacks (they would be orphaned by the replace). */
export function orphansOfRestoredSql(fk: ReferencingKey): string {
  const notNull = fk.childColumns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
  const match = fk.childColumns.map((c, i) => `r.${quoteIdent(fk.parentColumns[i]!)} = c.${quoteIdent(c)}`).join(' AND ');
  return `SELECT count(*)::bigint AS rows FROM ${qualified(fk.child)} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${restored} r WHERE ${match})`;
}

/**
 * Preview (read-only, across clusters): the keys the referencing table's rows point at, with
 * how many rows point at each, as JSON objects named by the parent's columns; a cursor.
 */
export function referencedKeysCursorSql(cursor: string, fk: ReferencingKey): string {
  const notNull = fk.childColumns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
  const key = `jsonb_build_object(${fk.childColumns.map((c, i) => `'${fk.parentColumns[i]!.replace(/'/g, "''")}', c.${quoteIdent(c)}`).join(', ')})`;
  return `DECLARE ${quoteIdent(cursor)} NO SCROLL CURSOR FOR SELECT ${key}::text AS key, count(*)::bigint AS n FROM ${qualified(fk.child)} c WHERE ${notNull} GROUP BY 1`;
}

/** In the side copy: how many of a page of referencing rows point at keys it lacks. `$1` = JSON array of {key, n}. */
export function unmatchedReferencesSql(table: TableInfo, parentColumns: readonly string[]): string {
  const typed = parentColumns.map((c) => `${quoteIdent(c)} ${table.columns.find((column) => column.name === c)!.type}`).join(', ');
  const match = parentColumns.map((c) => `t.${quoteIdent(c)} = k.${quoteIdent(c)}`).join(' AND ');
  return `SELECT coalesce(sum(p.n), 0)::bigint AS rows FROM jsonb_to_recordset($1::jsonb) AS p(key jsonb, n bigint)
    CROSS JOIN LATERAL jsonb_to_record(p.key) AS k(${typed})
    WHERE NOT EXISTS (SELECT 1 FROM ${qualified(table)} t WHERE ${match})`;
}

/** The replace itself, in order: rows the side copy lacks deleted, different rows updated in place, missing rows inserted. */
export function replaceSql(table: TableInfo): { delete: string; update: string | null; insert: string } {
  const t = qualified(table);
  const key = table.primaryKey;
  const writable = table.columns.filter((c) => c.generated === '').map((c) => c.name);
  const updatable = writable.filter((c) => !key.includes(c));
  return {
    delete: `DELETE FROM ${t} AS t WHERE NOT EXISTS (SELECT 1 FROM ${restored} r WHERE ${on('t', 'r', key)})`,
    update:
      updatable.length === 0
        ? null
        : `UPDATE ${t} AS t SET ${updatable.map((c) => `${quoteIdent(c)} = r.${quoteIdent(c)}`).join(', ')} FROM ${restored} r WHERE ${on('t', 'r', key)} AND md5(t::text) <> md5(r::text)`,
    insert: `INSERT INTO ${t} (${writable.map(quoteIdent).join(', ')}) OVERRIDING SYSTEM VALUE SELECT ${writable.map((c) => `r.${quoteIdent(c)}`).join(', ')} FROM ${restored} r WHERE NOT EXISTS (SELECT 1 FROM ${t} t WHERE ${on('t', 'r', key)})`,
  };
}
