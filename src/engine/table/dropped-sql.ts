/**
 * Pure builders for bringing back a table production no longer has (dropped): the table's
 * definition dumped from the side instance (pg_dump --schema-only --table, custom format), its
 * foreign keys left out of that dump (pg_restore -l / -L) and re-created one by one, NOT VALID
 * first, then validated (kept only when valid), and the side copy's rows read and inserted
 * without a primary key (as-new copies every row, none is compared).
 * Identifiers come from the catalog and are quoted; tool argv is an array, never a shell string.
 */
import { join } from 'node:path';
import { RecoverError } from '../../errors.js';
import { connectionArgs, type ConnectionParams } from '../pg-args.js';
import { quoteIdent } from '../sql.js';
import type { TableInfo } from '../rows/table.js';
import { tableName } from '../rows/rows-sql.js';

const qualified = (table: { schema: string; name: string }) => tableName(table.schema, table.name);

/** pg_dump of one table's definition (owned sequences, defaults, constraints, indexes, triggers, grants, comments), custom format. */
export function tableDefinitionDumpArgs(bin: string, conn: ConnectionParams & { dbname: string }, table: { schema: string; name: string }, file: string): [string, string[]] {
  return [join(bin, 'pg_dump'), [...connectionArgs(conn), '--format', 'custom', '--schema-only', '--table', qualified(table), '--file', file, '--no-password']];
}

/** The dump's table of contents (one entry a line). */
export function dumpListArgs(bin: string, file: string): [string, string[]] {
  return [join(bin, 'pg_restore'), ['--list', file]];
}

/** One section of the dump as SQL text on stdout, only the entries in `listFile`. */
export function dumpSectionArgs(bin: string, file: string, listFile: string, section: 'pre-data' | 'post-data'): [string, string[]] {
  return [join(bin, 'pg_restore'), ['--use-list', listFile, '--section', section, '--file', '-', file]];
}

/**
 * The dump's entries without its foreign keys (they are re-created one by one, only if valid);
 * refused unless the dump holds exactly the one table asked for.
 */
export function entriesWithoutForeignKeys(list: string, table: { schema: string; name: string }): string {
  const entries = list.split('\n').filter((line) => line.trim() !== '' && !line.startsWith(';'));
  const tables = entries.filter((line) => / TABLE /.test(line) && !/ (TABLE DATA|ACL|COMMENT) /.test(line));
  if (tables.length !== 1 || !tables[0]!.endsWith(` TABLE ${table.schema} ${table.name} ${tables[0]!.split(' ').at(-1)}`)) {
    throw new RecoverError('COMMAND_FAILED', `The side instance's definition of ${qualified(table)} could not be dumped as one table (pg_dump listed: ${tables.join('; ') || 'no table'}); nothing was written.`, {
      hint: 'Copy the table by hand from the side instance (pg_dump --table), or restore the whole database with /recover database.',
    });
  }
  return entries.filter((line) => !/ FK CONSTRAINT /.test(line)).join('\n') + '\n';
}

/**
 * pg_restore's SQL text as statements to run in our own transaction: psql's \restrict and
 * \unrestrict lines (pg_dump ≥ 15.14) dropped, any other psql meta-command refused.
 */
export function dumpSql(text: string): string {
  const lines = text.split('\n');
  const meta = lines.filter((line) => line.startsWith('\\') && !/^\\(un)?restrict\b/.test(line));
  if (meta.length > 0) throw new RecoverError('COMMAND_FAILED', `The table's definition holds psql commands that cannot run in one transaction (${meta[0]}); nothing was written.`, { hint: 'Copy the table by hand from the side instance (pg_dump --table | psql).' });
  return lines.filter((line) => !line.startsWith('\\')).join('\n');
}

export interface OutgoingKey {
  constraint: string;
  /** The table it points at. */
  references: { schema: string; name: string };
  columns: string[];
  referencedColumns: string[];
  /** pg_constraint's codes. */
  onUpdate: string;
  onDelete: string;
  match: string;
  deferrable: boolean;
  deferred: boolean;
  /** Whether it was validated in the side copy. */
  validated: boolean;
  /** A self-reference (the restored rows point at each other). */
  self: boolean;
}

/** The table's own foreign keys ($1 = the table's oid), column for column. */
export const outgoingKeysSql = `
  SELECT k.conname AS constraint, rn.nspname AS ref_schema, r.relname AS ref_name, k.confupdtype::text AS on_update, k.confdeltype::text AS on_delete,
         k.confmatchtype::text AS match, k.condeferrable AS deferrable, k.condeferred AS deferred, k.convalidated AS validated, k.conrelid = k.confrelid AS self,
         array_agg(ca.attname::text ORDER BY key.ord) AS columns, array_agg(pa.attname::text ORDER BY key.ord) AS referenced_columns
    FROM pg_constraint k
    JOIN pg_class r ON r.oid = k.confrelid
    JOIN pg_namespace rn ON rn.oid = r.relnamespace
    CROSS JOIN LATERAL unnest(k.conkey, k.confkey) WITH ORDINALITY AS key(att, ref_att, ord)
    JOIN pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = key.att
    JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = key.ref_att
   WHERE k.conrelid = $1::oid AND k.contype = 'f'
   GROUP BY k.oid, k.conname, rn.nspname, r.relname
   ORDER BY k.conname`;

export function toOutgoingKey(row: Record<string, unknown>): OutgoingKey {
  return {
    constraint: String(row.constraint),
    references: { schema: String(row.ref_schema), name: String(row.ref_name) },
    columns: row.columns as string[],
    referencedColumns: row.referenced_columns as string[],
    onUpdate: String(row.on_update),
    onDelete: String(row.on_delete),
    match: String(row.match),
    deferrable: row.deferrable === true,
    deferred: row.deferred === true,
    validated: row.validated === true,
    self: row.self === true,
  };
}

const ACTIONS: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };
const MATCH: Record<string, string> = { f: 'FULL', p: 'PARTIAL', s: 'SIMPLE' };

/** The foreign key added NOT VALID (existing rows unchecked; validated next, in a savepoint). */
export function addForeignKeySql(table: { schema: string; name: string }, key: OutgoingKey): string {
  const list = (columns: readonly string[]) => columns.map(quoteIdent).join(', ');
  const deferrable = key.deferrable ? ` DEFERRABLE INITIALLY ${key.deferred ? 'DEFERRED' : 'IMMEDIATE'}` : '';
  return `ALTER TABLE ${qualified(table)} ADD CONSTRAINT ${quoteIdent(key.constraint)} FOREIGN KEY (${list(key.columns)}) REFERENCES ${qualified(key.references)} (${list(key.referencedColumns)}) MATCH ${MATCH[key.match] ?? 'SIMPLE'} ON UPDATE ${ACTIONS[key.onUpdate] ?? 'NO ACTION'} ON DELETE ${ACTIONS[key.onDelete] ?? 'NO ACTION'}${deferrable} NOT VALID`;
}

export function validateConstraintSql(table: { schema: string; name: string }, constraint: string): string {
  return `ALTER TABLE ${qualified(table)} VALIDATE CONSTRAINT ${quoteIdent(constraint)}`;
}

export function renameTableSql(table: { schema: string; name: string }, newName: string): string {
  return `ALTER TABLE ${qualified(table)} RENAME TO ${quoteIdent(newName)}`;
}

/** Every row of the table as JSON text, a cursor (no key needed: as-new copies them all). */
export function allRowsCursorSql(cursor: string, table: { schema: string; name: string }): string {
  return `DECLARE ${quoteIdent(cursor)} NO SCROLL CURSOR FOR SELECT to_jsonb(t)::text AS row FROM ${qualified(table)} t`;
}

/** Inserts a page (`$1` = JSON array of row objects) into a new table, own values for identity columns, generated ones computed. */
export function insertAllSql(table: TableInfo): string {
  const columns = table.columns.filter((column) => column.generated === '').map((column) => quoteIdent(column.name));
  return `INSERT INTO ${qualified(table)} (${columns.join(', ')}) OVERRIDING SYSTEM VALUE SELECT ${columns.map((c) => `j.${c}`).join(', ')} FROM jsonb_populate_recordset(NULL::${qualified(table)}, $1::jsonb) AS j`;
}

/** The table's indexes and owned sequences ($1 = regclass text): their names are per schema, so they follow a rename. */
export const ownedRelationsSql = `
  SELECT c.relname AS name, c.relkind::text AS kind FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass($1)
  UNION ALL
  SELECT s.relname, s.relkind::text FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
   WHERE d.classid = 'pg_class'::regclass AND d.refobjid = to_regclass($1) AND s.relkind = 'S' AND d.deptype IN ('a', 'i')
  ORDER BY 1`;

/** An index or owned sequence renamed with its table: `<old>_x` → `<new>_x`, any other name prefixed `<new>_` (within 63). */
export function renameOwnedSql(schema: string, oldTable: string, newTable: string, relation: { name: string; kind: string }): string {
  const renamed = (relation.name.startsWith(`${oldTable}_`) ? `${newTable}${relation.name.slice(oldTable.length)}` : `${newTable}_${relation.name}`).slice(0, 63);
  return `ALTER ${relation.kind === 'S' ? 'SEQUENCE' : 'INDEX'} ${tableName(schema, relation.name)} RENAME TO ${quoteIdent(renamed)}`;
}
