/**
 * What restoring a whole table would change, read-only on both sides: the side copy against
 * production's table now (rows each side, missing in production, present and equal, present
 * but different, only in production) and, for every foreign key of another table pointing at
 * it, how many production rows point at keys the side copy lacks (a replace would orphan them).
 * The row counts come from the rows engine's preview with a filter every row matches.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { previewRows } from '../rows/copy-back.js';
import { childForeignKeysSql, SESSION_SETTINGS_SQL } from '../rows/rows-sql.js';
import { fetchSql } from '../rows/statements.js';
import { checkSameShape, displayName, readTable, requirePrimaryKey, type TableInfo } from '../rows/table.js';
import { contentSql, everyRowFilter, referencedKeysCursorSql, unmatchedReferencesSql, type ReferencingKey } from './table-sql.js';

export type TableMode = { kind: 'as-new'; name: string } | { kind: 'missing-rows' } | { kind: 'replace' };

export interface ReferenceCount {
  constraint: string;
  /** The referencing table. */
  table: string;
  /** Its production rows pointing at keys the side copy lacks. */
  orphaned: number;
}

export interface TableComparison {
  table: string;
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

/** The table in production and in the side copy: both exist, same shape, a primary key. */
export async function readBoth(side: pg.Client, production: pg.Client, name: string): Promise<{ side: TableInfo; production: TableInfo }> {
  const live = await readTable(production, name, 'production');
  requirePrimaryKey(live, '');
  const copy = await readTable(side, name, 'the side instance');
  checkSameShape(copy, live);
  return { side: copy, production: live };
}

async function countOrphans(side: pg.Client, production: pg.Client, table: TableInfo, fk: ReferencingKey): Promise<number> {
  const cursor = 'recover_refs';
  await production.query(referencedKeysCursorSql(cursor, fk));
  let orphaned = 0;
  for (;;) {
    const page = (await production.query<{ key: string; n: string }>(fetchSql(cursor, PAGE))).rows;
    if (page.length === 0) break;
    const body = `[${page.map((row) => `{"key":${row.key},"n":${row.n}}`).join(',')}]`;
    orphaned += Number((await side.query<{ rows: string }>(unmatchedReferencesSql(table, fk.parentColumns), [body])).rows[0]!.rows);
    if (page.length < PAGE) break;
  }
  await production.query(`CLOSE "${cursor}"`);
  return orphaned;
}

export async function compareTable(side: TargetConnection, production: TargetConnection, name: string): Promise<TableComparison> {
  const read = await withTargetClient(side, (sideClient) =>
    withTargetClient(production, async (productionClient) => {
      await sessionSettings(sideClient);
      await sessionSettings(productionClient);
      const tables = await readBoth(sideClient, productionClient, name);
      const content = (await sideClient.query<{ rows: string; hash: string }>(contentSql(tables.side))).rows[0]!;
      await productionClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const productionRows = Number((await productionClient.query<{ rows: string }>(contentSql(tables.production))).rows[0]!.rows);
        const references: ReferenceCount[] = [];
        for (const fk of await referencingKeys(productionClient, tables.production)) {
          references.push({ constraint: fk.constraint, table: displayName(fk.child), orphaned: await countOrphans(sideClient, productionClient, tables.side, fk) });
        }
        return { table: tables.production, sideRows: Number(content.rows), sideHash: content.hash, productionRows, references };
      } finally {
        await productionClient.query('ROLLBACK').catch(() => undefined);
      }
    }),
  );
  const rows = await previewRows(side, production, { table: name, filter: everyRowFilter(read.table), withChildren: false, pageRows: PAGE });
  const root = rows.tables[0]!;
  return {
    table: displayName(read.table),
    relation: { schema: read.table.schema, name: read.table.name },
    primaryKey: read.table.primaryKey,
    sideRows: read.sideRows,
    productionRows: read.productionRows,
    missing: root.missing,
    present: root.present,
    different: root.different,
    onlyInProduction: Math.max(0, read.productionRows - root.present - root.different),
    references: read.references,
    sampleMissing: root.sampleMissing,
    sideHash: read.sideHash,
    rowsDigest: rows.digest,
  };
}

/** What a mode's approval binds to: as-new the side copy's contents and the name, missing-rows the rows preview, replace every count. */
export function modeDigest(mode: TableMode, comparison: Omit<TableComparison, 'table' | 'relation' | 'primaryKey' | 'sampleMissing' | 'rowsDigest' | 'onlyInProduction'> & { rowsDigest?: string }): string {
  if (mode.kind === 'missing-rows') return comparison.rowsDigest!;
  const bound =
    mode.kind === 'as-new'
      ? { mode: 'as-new', name: mode.name, sideRows: comparison.sideRows, sideHash: comparison.sideHash }
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
