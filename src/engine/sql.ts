/** SQL text builders (pure). Identifiers are always quoted; nothing user-given is spliced raw. */

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table` or `table` (public) → a quoted qualified name. */
export function qualifiedName(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || parts.some((part) => part.length === 0)) throw new Error(`not a table name: ${name}`);
  return parts.map(quoteIdent).join('.');
}

export const listUserTablesSql = `
  SELECT n.nspname AS schema, c.relname AS table
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
   ORDER BY 1, 2`;

export const listDatabasesSql = `SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1`;

export function rowCountSql(table: string): string {
  return `SELECT count(*)::bigint AS rows FROM ${qualifiedName(table)}`;
}

export function newestTimestampSql(table: string, column: string): string {
  return `SELECT max(${quoteIdent(column)})::text AS newest FROM ${qualifiedName(table)}`;
}

/** An order-independent digest of a table's contents: the same rows give the same hash. */
export function tableHashSql(table: string): string {
  return `SELECT count(*)::bigint AS rows, coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), md5('')) AS hash FROM ${qualifiedName(table)} t`;
}
