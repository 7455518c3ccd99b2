/**
 * SQL text for /recover rows (pure): reading a table's columns, primary key and child foreign
 * keys from the catalog (the table name is always a parameter, resolved by to_regclass), and
 * the statements over a table's rows. Identifiers are quoted; user values are only $n.
 */
import { quoteIdent } from '../sql.js';

/** The table as PostgreSQL resolves the name (search_path, quoting rules): one row, or none. `$1` = the name. */
export const resolveTableSql = `
  SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = to_regclass($1)`;

/** Live columns in order, with type, type category, identity and generated flags. `$1` = the table's oid. */
export const tableColumnsSql = `
  SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typcategory::text AS category,
         a.attidentity::text AS identity, a.attgenerated::text AS generated,
         pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) AS sequence
    FROM pg_attribute a
    JOIN pg_type t ON t.oid = a.atttypid
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
   ORDER BY a.attnum`;

/** The primary key's columns in key order (no rows: no primary key). `$1` = the table's oid. */
export const primaryKeySql = `
  SELECT a.attname AS name
    FROM pg_constraint k
    CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS key(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = key.attnum
   WHERE k.conrelid = $1::int8::oid AND k.contype = 'p'
   ORDER BY key.ord`;

/** Foreign keys pointing at the table: the child table and the column pairs (child → parent). `$1` = the parent's oid. */
export const childForeignKeysSql = `
  SELECT k.conname AS name, k.conrelid::int8::text AS child_oid, cn.nspname AS child_schema, cc.relname AS child_name,
         array_agg(ca.attname::text ORDER BY key.ord) AS child_columns, array_agg(pa.attname::text ORDER BY key.ord) AS parent_columns
    FROM pg_constraint k
    JOIN pg_class cc ON cc.oid = k.conrelid
    JOIN pg_namespace cn ON cn.oid = cc.relnamespace
    CROSS JOIN LATERAL unnest(k.conkey, k.confkey) WITH ORDINALITY AS key(child_att, parent_att, ord)
    JOIN pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = key.child_att
    JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = key.parent_att
   WHERE k.confrelid = $1::int8::oid AND k.contype = 'f'
   GROUP BY k.conname, k.conrelid, cn.nspname, cc.relname
   ORDER BY cn.nspname, cc.relname, k.conname`;

export function tableName(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** A row's key as JSON (object of the key columns) — the same text for the same key in both clusters. */
export function keyJsonSql(alias: string, keyColumns: readonly string[]): string {
  return `jsonb_build_object(${keyColumns.map((column) => `'${column.replace(/'/g, "''")}', ${quoteIdent(alias)}.${quoteIdent(column)}`).join(', ')})`;
}

/** A row's contents hashed (md5 of the row's text form): equal rows, equal hashes. */
export function rowHashSql(alias: string): string {
  return `md5(${quoteIdent(alias)}::text)`;
}

/**
 * The same session settings on both sides, so a row's text form (and so its hash) does not
 * depend on the server's defaults.
 */
export const SESSION_SETTINGS_SQL = [`SET TimeZone = 'UTC'`, `SET DateStyle = 'ISO, YMD'`, `SET IntervalStyle = 'postgres'`, `SET extra_float_digits = 1`, `SET bytea_output = 'hex'`] as const;

/**
 * Unique keys other than the primary key, as plain columns (expression and partial unique
 * indexes are left out: a conflict on those is found when the insert skips the row). With
 * `nulls_not_distinct` (PostgreSQL 15's NULLS NOT DISTINCT, read so older servers answer false).
 * `$1` = the table's oid.
 */
export const uniqueKeysSql = `
  SELECT coalesce(con.conname, ic.relname)::text AS constraint,
         array_agg(a.attname::text ORDER BY k.ord) AS columns,
         coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) AS nulls_not_distinct
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype = 'u'
    CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
   WHERE i.indrelid = $1::int8::oid AND i.indisunique AND NOT i.indisprimary AND i.indisvalid
     AND i.indpred IS NULL AND i.indexprs IS NULL AND k.ord <= i.indnkeyatts
   GROUP BY i.indexrelid, con.conname, ic.relname, 3
   ORDER BY 1`;

/** Rows of the table now: `SELECT count(*)`. */
export function tableRowCountSql(schema: string, name: string): string {
  return `SELECT count(*)::bigint AS n FROM ${tableName(schema, name)}`;
}
