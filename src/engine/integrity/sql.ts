/**
 * SQL text of the integrity checks (pure). Table and column names are quoted with
 * quoteIdent/qualifiedName; values (index oids, limits) are bound as parameters. The only SQL
 * not built here is a rule's own query, which comes from the operator's config file and runs
 * inside a READ ONLY transaction with a statement_timeout.
 */
import { qualifiedName, quoteIdent } from '../sql.js';

/** `schema.table`, shortened to `table` for public, as the rest of the report names tables. */
const displayName = `CASE WHEN n.nspname = 'public' THEN c.relname::text ELSE n.nspname || '.' || c.relname END`;

/** Which of the given tables (names as in the config) exist: $1 = text[] of names. */
export const existingTablesSql = `
  SELECT wanted.name
    FROM unnest($1::text[]) AS wanted(name)
   WHERE EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE c.relkind IN ('r', 'p')
                    AND (n.nspname || '.' || c.relname = wanted.name OR (n.nspname = 'public' AND c.relname = wanted.name)))`;

/** Foreign keys left NOT VALID: rows written before them were never checked. */
export const unvalidatedForeignKeysSql = `
  SELECT con.conname AS name, ${displayName} AS table
    FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE con.contype = 'f' AND NOT con.convalidated
   ORDER BY 2, 1`;

/**
 * Every foreign key with its columns in order (inherited copies on partitions left out: the
 * partitioned table's constraint covers them). Checked for orphans whether validated or not.
 */
export const foreignKeysSql = `
  SELECT con.conname AS name,
         ${displayName} AS child,
         (SELECT CASE WHEN pn.nspname = 'public' THEN pc.relname::text ELSE pn.nspname || '.' || pc.relname END
            FROM pg_class pc JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE pc.oid = con.confrelid) AS parent,
         ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, i)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.i) AS columns,
         ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, i)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.i) AS parent_columns
    FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE con.contype = 'f' AND con.conparentid = 0
   ORDER BY 2, 1`;

export interface RelationSpec {
  child: string;
  columns: string[];
  parent: string;
  parentColumns: string[];
}

/**
 * Child rows whose key (all columns non-null, as MATCH SIMPLE) has no parent row: their count
 * and up to $1 example keys as text (`col=value, …`).
 */
export function orphanRowsSql(relation: RelationSpec): string {
  if (relation.columns.length === 0 || relation.columns.length !== relation.parentColumns.length) throw new Error('a relation needs matching column lists');
  const child = relation.columns.map((column) => `c.${quoteIdent(column)}`);
  const notNull = child.map((column) => `${column} IS NOT NULL`).join(' AND ');
  const joins = relation.parentColumns.map((column, i) => `p.${quoteIdent(column)} = ${child[i]}`).join(' AND ');
  const key = relation.columns.map((column, i) => `${quoteLiteral(`${column}=`)} || coalesce(${child[i]}::text, 'NULL')`).join(` || ', ' || `);
  return `
  WITH orphans AS (
    SELECT ${key} AS key FROM ${qualifiedName(relation.child)} c
     WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${qualifiedName(relation.parent)} p WHERE ${joins}))
  SELECT (SELECT count(*) FROM orphans)::bigint AS orphans,
         ARRAY(SELECT DISTINCT key FROM orphans ORDER BY key LIMIT $1) AS examples`;
}

/** A SQL string literal: the value doubled-quoted inside single quotes (for fixed labels only). */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Every check's statements are bounded: a session statement_timeout (a rule sets its own, locally). */
export function timeoutSql(timeoutMs: number): string {
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`not a timeout: ${timeoutMs}`);
  return `SET statement_timeout = ${timeoutMs}`;
}

/** Session settings of a rule check: inside BEGIN READ ONLY, a local statement_timeout. */
export function ruleTimeoutSql(timeoutMs: number): string {
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`not a timeout: ${timeoutMs}`);
  return `SET LOCAL statement_timeout = ${timeoutMs}`;
}

/** A rule's query wrapped to count its rows and show up to $1 of them as JSON. */
export function ruleViolationsSql(ruleSql: string): string {
  return `
  WITH violations AS (${ruleSql}
  )
  SELECT (SELECT count(*) FROM violations)::bigint AS violations,
         ARRAY(SELECT row_to_json(v)::text FROM (SELECT * FROM violations LIMIT $1) v) AS examples`;
}

/** Sequences owned by an integer column (serial and identity), with the column they feed. */
export const ownedSequencesSql = `
  SELECT CASE WHEN sn.nspname = 'public' THEN s.relname::text ELSE sn.nspname || '.' || s.relname END AS sequence,
         ${displayName} AS table,
         a.attname::text AS column
    FROM pg_depend d
    JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_namespace sn ON sn.oid = s.relnamespace
    JOIN pg_class c ON c.oid = d.refobjid AND c.relkind IN ('r', 'p')
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
   WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
     AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype)
   ORDER BY 1`;

/** Where a sequence stands against its column's max: behind when nextval would return a used value. */
export function sequencePositionSql(sequence: string, table: string, column: string): string {
  return `
  SELECT s.last_value::text AS last_value, s.is_called, m.max::text AS max,
         (m.max IS NOT NULL AND (m.max > s.last_value OR (NOT s.is_called AND m.max >= s.last_value))) AS behind
    FROM ${qualifiedName(sequence)} s, (SELECT max(${quoteIdent(column)})::numeric AS max FROM ${qualifiedName(table)}) m`;
}

export const amcheckInstalledSql = `SELECT extversion FROM pg_extension WHERE extname = 'amcheck'`;
export const createAmcheckSql = `CREATE EXTENSION IF NOT EXISTS amcheck`;

/**
 * Valid btree indexes of the given tables ($1 = text[] of names as in the config), by oid. A
 * partitioned table's own indexes hold nothing: the indexes of each of its leaf partitions are
 * checked instead (pg_partition_tree, which lists nothing for a plain table).
 */
export const btreeIndexesSql = `
  WITH wanted AS (
    SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND EXISTS (SELECT 1 FROM unnest($1::text[]) AS wanted(name)
                    WHERE n.nspname || '.' || c.relname = wanted.name OR (n.nspname = 'public' AND c.relname = wanted.name))),
  leaves AS (SELECT w.oid FROM wanted w WHERE w.relkind = 'r'
             UNION SELECT t.relid FROM wanted w CROSS JOIN LATERAL pg_partition_tree(w.oid) t WHERE w.relkind = 'p' AND t.isleaf)
  SELECT i.indexrelid::oid AS oid, ic.relname::text AS index, ${displayName} AS table
    FROM leaves l
    JOIN pg_index i ON i.indrelid = l.oid
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE ic.relkind = 'i' AND i.indisvalid AND i.indisready AND c.relpersistence <> 't'
   ORDER BY 3, 2`;

/** amcheck's non-blocking check (AccessShareLock), heap included: $1 = the index oid. */
export const btIndexCheckSql = `SELECT bt_index_check($1::oid::regclass, true)`;

/** Checksum failures PostgreSQL counted, per database (null name: shared catalogs). */
export const checksumFailuresSql = `
  SELECT current_setting('data_checksums') AS data_checksums,
         coalesce(datname, '(shared catalogs)') AS database, checksum_failures::bigint AS failures,
         checksum_last_failure::text AS last_failure
    FROM pg_stat_database
   WHERE coalesce(checksum_failures, 0) > 0
   UNION ALL SELECT current_setting('data_checksums'), NULL, 0, NULL
   ORDER BY 2 NULLS LAST`;

/** The rest of the session reads only: set after any CREATE EXTENSION the checker may do. */
export const readOnlySessionSql = `SET SESSION default_transaction_read_only = on`;
