/**
 * What restoring a whole table would change, read-only on both sides: the side copy against
 * production's table now (rows each side, missing in production, present and equal, present
 * but different, only in production) and, for every foreign key of another table pointing at
 * it, how many production rows point at keys the side copy lacks (a replace would orphan them).
 * The row counts come from the rows engine's preview with a filter every row matches.
 * Rows are compared only where they can be: a table production no longer has ('dropped') or
 * one without a primary key ('no-key') is described, not compared, and only as-new restores
 * it. For a dropped table the side copy's own foreign keys are checked against production
 * (rows whose key production lacks), since as-new re-creates only those that hold.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { RecoverError } from '../../errors.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { previewRows } from '../rows/copy-back.js';
import { childForeignKeysSql, SESSION_SETTINGS_SQL, tableName } from '../rows/rows-sql.js';
import { fetchSql } from '../rows/statements.js';
import { checkSameShape, displayName, readTable, type TableInfo } from '../rows/table.js';
import { outgoingKeysSql, toOutgoingKey, type OutgoingKey } from './dropped-sql.js';
import { contentSql, everyRowFilter, referencedKeysCursorSql, relationExistsSql, unmatchedReferencesSql, type ReferencingKey } from './table-sql.js';

export type TableMode = { kind: 'as-new'; name: string } | { kind: 'missing-rows' } | { kind: 'replace' };

export interface ReferenceCount {
  constraint: string;
  /** The referencing table. */
  table: string;
  /** Its production rows pointing at keys the side copy lacks. */
  orphaned: number;
}

/** A foreign key of the restored table itself, checked against production. */
export interface OutgoingCount {
  constraint: string;
  /** The table it points at. */
  references: string;
  /** Rows of the side copy pointing at keys production lacks; null when production has no such table. */
  unmatched: number | null;
}

/** by-key: compared row by row; dropped: production has no such table; no-key: no primary key, rows not compared. */
export type ComparisonBasis = 'by-key' | 'dropped' | 'no-key';

export interface TableComparison {
  table: string;
  basis: ComparisonBasis;
  /** dropped: the side copy's own foreign keys against production (as-new re-creates those that hold). */
  outgoing: OutgoingCount[];
  /** The live table as the catalog names it. */
  relation: { schema: string; name: string };
  primaryKey: string[];
  sideRows: number;
  productionRows: number;
  missing: number;
  present: number;
  different: number;
  onlyInProduction: number;
  references: ReferenceCount[];
  sampleMissing: string[];
  /** md5 over the side copy's rows (order-independent). */
  sideHash: string;
  /** The rows engine's preview digest (missing-rows re-checks it). */
  rowsDigest: string;
}

const PAGE = 1000;

export async function sessionSettings(client: pg.Client): Promise<void> {
  for (const sql of SESSION_SETTINGS_SQL) await client.query(sql);
}

/** The foreign keys of other tables pointing at the table (self-references are the table's own business). */
export async function referencingKeys(client: pg.Client, table: TableInfo): Promise<ReferencingKey[]> {
  const rows = (await client.query<{ name: string; child_oid: string; child_schema: string; child_name: string; child_columns: string[]; parent_columns: string[] }>(childForeignKeysSql, [table.oid])).rows;
  return rows.filter((row) => row.child_oid !== table.oid).map((row) => ({ constraint: row.name, child: { schema: row.child_schema, name: row.child_name }, childColumns: row.child_columns, parentColumns: row.parent_columns }));
}

/** The table in production and in the side copy: both exist, same shape. */
export async function readBoth(side: pg.Client, production: pg.Client, name: string): Promise<{ side: TableInfo; production: TableInfo }> {
  const live = await readTable(production, name, 'production');
  const copy = await readTable(side, name, 'the side instance');
  checkSameShape(copy, live);
  return { side: copy, production: live };
}

/** Rows of `fk.child` (read through `keysFrom`, in a transaction) whose key `table` (read through `lookIn`) lacks. */
async function countOrphans(lookIn: pg.Client, keysFrom: pg.Client, table: TableInfo, fk: ReferencingKey): Promise<number> {
  const cursor = 'recover_refs';
  await keysFrom.query(referencedKeysCursorSql(cursor, fk));
  let orphaned = 0;
  for (;;) {
    const page = (await keysFrom.query<{ key: string; n: string }>(fetchSql(cursor, PAGE))).rows;
    if (page.length === 0) break;
    const body = `[${page.map((row) => `{"key":${row.key},"n":${row.n}}`).join(',')}]`;
    orphaned += Number((await lookIn.query<{ rows: string }>(unmatchedReferencesSql(table, fk.parentColumns), [body])).rows[0]!.rows);
    if (page.length < PAGE) break;
  }
  await keysFrom.query(`CLOSE "${cursor}"`);
  return orphaned;
}

const exists = async (client: pg.Client, name: string) => (await client.query<{ exists: boolean }>(relationExistsSql, [name])).rows[0]!.exists;

/** The side copy's own foreign keys (read in the side's snapshot). */
export async function outgoingKeys(side: pg.Client, table: TableInfo): Promise<OutgoingKey[]> {
  return (await side.query(outgoingKeysSql, [table.oid])).rows.map(toOutgoingKey);
}

/** Each foreign key of the side copy: how many of its rows point at keys production lacks (a self-reference always holds). */
async function outgoingCounts(side: pg.Client, production: pg.Client, table: TableInfo): Promise<OutgoingCount[]> {
  const counts: OutgoingCount[] = [];
  await side.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    for (const key of await outgoingKeys(side, table)) {
      const references = tableName(key.references.schema, key.references.name);
      let unmatched: number | null = 0;
      if (!key.self) {
        if (!(await exists(production, references))) unmatched = null;
        else unmatched = await countOrphans(production, side, await readTable(production, references, 'production', 'read-only'), { constraint: key.constraint, child: table, childColumns: key.columns, parentColumns: key.referencedColumns });
      }
      counts.push({ constraint: key.constraint, references: displayName(key.references), unmatched });
    }
  } finally {
    await side.query('ROLLBACK').catch(() => undefined);
  }
  return counts;
}

export async function compareTable(side: TargetConnection, production: TargetConnection, name: string): Promise<TableComparison> {
  const read = await withTargetClient(side, (sideClient) =>
    withTargetClient(production, async (productionClient) => {
      await sessionSettings(sideClient);
      await sessionSettings(productionClient);
      const copy = await readTable(sideClient, name, 'the side instance');
      const content = (await sideClient.query<{ rows: string; hash: string }>(contentSql(copy))).rows[0]!;
      const side = { sideRows: Number(content.rows), sideHash: content.hash };
      if (!(await exists(productionClient, name))) return { basis: 'dropped' as const, table: copy, ...side, productionRows: 0, references: [], outgoing: await outgoingCounts(sideClient, productionClient, copy) };
      const tables = { side: copy, production: await readTable(productionClient, name, 'production') };
      checkSameShape(copy, tables.production);
      if (tables.production.primaryKey.length === 0) {
        const productionRows = Number((await productionClient.query<{ rows: string }>(contentSql(tables.production))).rows[0]!.rows);
        return { basis: 'no-key' as const, table: tables.production, ...side, productionRows, references: [], outgoing: [] };
      }
      await productionClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const productionRows = Number((await productionClient.query<{ rows: string }>(contentSql(tables.production))).rows[0]!.rows);
        const references: ReferenceCount[] = [];
        for (const fk of await referencingKeys(productionClient, tables.production)) {
          references.push({ constraint: fk.constraint, table: displayName(fk.child), orphaned: await countOrphans(sideClient, productionClient, tables.side, fk) });
        }
        return { basis: 'by-key' as const, table: tables.production, ...side, productionRows, references, outgoing: [] };
      } finally {
        await productionClient.query('ROLLBACK').catch(() => undefined);
      }
    }),
  );
  const described = { table: displayName(read.table), relation: { schema: read.table.schema, name: read.table.name }, primaryKey: read.table.primaryKey, sideRows: read.sideRows, sideHash: read.sideHash, productionRows: read.productionRows, references: read.references, outgoing: read.outgoing };
  if (read.basis !== 'by-key') return { ...described, basis: read.basis, missing: read.basis === 'dropped' ? read.sideRows : 0, present: 0, different: 0, onlyInProduction: 0, sampleMissing: [], rowsDigest: '' };
  const rows = await previewRows(side, production, { table: name, filter: everyRowFilter(read.table), withChildren: false, pageRows: PAGE });
  const root = rows.tables[0]!;
  return {
    ...described,
    basis: 'by-key',
    missing: root.missing,
    present: root.present,
    different: root.different,
    onlyInProduction: Math.max(0, read.productionRows - root.present - root.different),
    sampleMissing: root.sampleMissing,
    rowsDigest: rows.digest,
  };
}

/**
 * Why a mode cannot restore the table as compared, or null (pure: at planning and in the job).
 * missing-rows and replace write into the live table by primary key: a dropped table
 * (MODE_REFUSED) or one without a key (NO_PRIMARY_KEY) is refused, exit 3, offering as-new
 * (`retry` shows the words to use).
 */
export function modeRefusal(mode: TableMode, comparison: Pick<TableComparison, 'basis' | 'table' | 'relation'>, retry: (asNewName: string) => string): RecoverError | null {
  if (mode.kind === 'as-new' || comparison.basis === 'by-key') return null;
  if (comparison.basis === 'dropped') {
    return new RecoverError('MODE_REFUSED', `Production has no table ${comparison.table} (dropped?): --mode ${mode.kind} writes into the live table, so there is nothing to write into. Nothing was written.`, {
      hint: `Bring it back with as-new, under its own name (nothing there to overwrite) or beside: ${retry(comparison.relation.name)}`,
    });
  }
  return new RecoverError('NO_PRIMARY_KEY', `${comparison.table} has no primary key, so missing rows cannot be told from present ones: --mode ${mode.kind} needs one. Nothing was written.`, {
    hint: `--mode as-new copies every row into a new table beside it without comparing: ${retry(`${comparison.relation.name.slice(0, 54)}_restored`)}`,
  });
}

/** What a mode's approval binds to: as-new the side copy's contents and the name, missing-rows the rows preview, replace every count. */
export function modeDigest(mode: TableMode, comparison: Pick<TableComparison, 'basis' | 'sideRows' | 'sideHash' | 'productionRows' | 'missing' | 'present' | 'different' | 'references'> & { rowsDigest?: string }): string {
  if (mode.kind === 'missing-rows') return comparison.rowsDigest!;
  // as-new of a dropped table is created from the side copy's definition, else LIKE the live table: bound too.
  const bound =
    mode.kind === 'as-new'
      ? { mode: 'as-new', name: mode.name, sideRows: comparison.sideRows, sideHash: comparison.sideHash, ...(comparison.basis === 'dropped' ? { definition: 'side copy' } : {}) }
      : {
          mode: 'replace',
          sideRows: comparison.sideRows,
          sideHash: comparison.sideHash,
          productionRows: comparison.productionRows,
          missing: comparison.missing,
          present: comparison.present,
          different: comparison.different,
          references: comparison.references.map((r) => [r.constraint, r.table, r.orphaned]),
        };
  return createHash('sha256').update(JSON.stringify(bound)).digest('hex');
}
