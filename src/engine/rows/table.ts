/**
 * What /recover rows needs to know about a table, read from the catalog of one cluster: its
 * columns (type, identity, generated, sequence), its primary key and the foreign keys pointing
 * at it; and the tree of row sets to copy (the table, then children through foreign keys).
 */
import type pg from 'pg';
import { RecoverError } from '../../errors.js';
import type { ColumnInfo } from './filter-compile.js';
import { childForeignKeysSql, primaryKeySql, resolveTableSql, tableColumnsSql } from './rows-sql.js';
import { requireTargetRelationOid } from '../targets/guard.js';

export interface TableColumn extends ColumnInfo {
  /** 'a' GENERATED ALWAYS, 'd' BY DEFAULT, '' none. */
  identity: string;
  /** 's' a stored generated column (PostgreSQL computes it; never inserted), '' none. */
  generated: string;
  /** The sequence that feeds the column (serial or identity), quoted and qualified; null if none. */
  sequence: string | null;
}

export interface TableInfo {
  oid: string;
  schema: string;
  name: string;
  columns: TableColumn[];
  primaryKey: string[];
}

/** A set of rows to bring back: the filtered table (root) or the children of a parent set through one foreign key. */
export interface RowSet {
  table: TableInfo;
  depth: number;
  /** null for the root; else the foreign key from this table to the parent set's table. */
  via: { constraint: string; parent: RowSet; childColumns: string[]; parentColumns: string[] } | null;
}

export const MAX_CHILD_DEPTH = 3;
const MAX_SETS = 20;

export function displayName(table: { schema: string; name: string }): string {
  return table.schema === 'public' ? table.name : `${table.schema}.${table.name}`;
}

/**
 * The table by the name PostgreSQL would resolve (schema-qualified or on the search path).
 * Every table the rows and table engines write (and read on a side copy to write) is resolved
 * here, so the target guard runs here: a catalog, an extension's table, a view… is refused
 * (TARGET_NOT_ALLOWED). Only a lookup that never leads to a write (a table another one's
 * foreign key points at) passes 'read-only'.
 */
export async function readTable(client: pg.Client, name: string, where: string, purpose: 'target' | 'read-only' = 'target'): Promise<TableInfo> {
  const found = await client.query<{ oid: string; schema: string; name: string; kind: string }>(resolveTableSql, [name]).catch((error: unknown) => {
    throw new RecoverError('BAD_INPUT', `"${name}" is not a table name: ${(error as Error).message}.`, { hint: 'Name a table as schema.table or table (on the search path).', cause: error });
  });
  const table = found.rows[0];
  if (!table) throw new RecoverError('BAD_INPUT', `There is no table ${name} in ${where}.`, { hint: 'Check the table name and --db (the database holding it).' });
  if (purpose === 'target') await requireTargetRelationOid(client, table.oid, 'write', name);
  if (table.kind !== 'r' && table.kind !== 'p') throw new RecoverError('BAD_INPUT', `${name} in ${where} is not a table (relkind ${table.kind}).`, { hint: 'Rows are restored into tables only.' });
  return readTableByOid(client, table);
}

async function readTableByOid(client: pg.Client, table: { oid: string; schema: string; name: string }): Promise<TableInfo> {
  const columns = (await client.query<TableColumn>(tableColumnsSql, [table.oid])).rows;
  const primaryKey = (await client.query<{ name: string }>(primaryKeySql, [table.oid])).rows.map((row) => row.name);
  return { oid: table.oid, schema: table.schema, name: table.name, columns, primaryKey };
}

/** NO_PRIMARY_KEY (exit 3): rows are matched by primary key; `/recover table … --mode as-new` copies a whole table without one. */
export function requirePrimaryKey(table: TableInfo, why: string): void {
  if (table.primaryKey.length > 0) return;
  const name = displayName(table);
  throw new RecoverError('NO_PRIMARY_KEY', `${name} has no primary key, so missing rows cannot be told from present ones${why}.`, {
    hint: `Rows are matched by primary key. Restore the whole table beside the live one instead: recover table ${name} (--at <time> | --before-xid N) --mode as-new ${table.name.slice(0, 54)}_restored; or add a primary key.`,
  });
}

/**
 * The root set and, with children, every table reachable through foreign keys pointing at it,
 * breadth first (parents before children), each table once (a second path or a self-reference
 * is not followed), at most MAX_CHILD_DEPTH levels deep.
 */
export async function readRowSets(client: pg.Client, root: TableInfo, withChildren: boolean, maxDepth = MAX_CHILD_DEPTH): Promise<RowSet[]> {
  requirePrimaryKey(root, '');
  const sets: RowSet[] = [{ table: root, depth: 0, via: null }];
  if (!withChildren) return sets;
  const seen = new Set([root.oid]);
  for (let i = 0; i < sets.length; i++) {
    const parent = sets[i]!;
    if (parent.depth >= maxDepth) continue;
    const keys = (await client.query<{ name: string; child_oid: string; child_schema: string; child_name: string; child_columns: string[]; parent_columns: string[] }>(childForeignKeysSql, [parent.table.oid])).rows;
    for (const key of keys) {
      if (seen.has(key.child_oid)) continue;
      seen.add(key.child_oid);
      const table = await readTableByOid(client, { oid: key.child_oid, schema: key.child_schema, name: key.child_name });
      requirePrimaryKey(table, ` (a child of ${displayName(parent.table)} through ${key.name}; leave out --with-children to restore only ${displayName(root)})`);
      sets.push({ table, depth: parent.depth + 1, via: { constraint: key.name, parent, childColumns: key.child_columns, parentColumns: key.parent_columns } });
      if (sets.length > MAX_SETS) throw new RecoverError('BAD_INPUT', `More than ${MAX_SETS} tables are reachable from ${displayName(root)} through foreign keys.`, { hint: 'Restore fewer levels: leave out --with-children and restore child tables one by one.' });
    }
  }
  return sets;
}

/** The same table in production: same columns (names and types) in the same order, same primary key; else refused. */
export function checkSameShape(source: TableInfo, production: TableInfo): void {
  const shape = (table: TableInfo) => `${table.columns.map((column) => `${column.name} ${column.type}`).join(', ')}; key (${table.primaryKey.join(', ')})`;
  if (shape(source) !== shape(production)) {
    throw new RecoverError('BAD_INPUT', `${displayName(source)} differs between the side instance and production: side ${shape(source)}; production ${shape(production)}.`, {
      hint: 'Rows are copied column for column; align the table definitions first (or copy by hand from the side instance).',
    });
  }
}
