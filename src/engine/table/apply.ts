/**
 * Writing a restored table into production, each in ONE production transaction, the side copy
 * read in one read-only snapshot a page at a time:
 *   copyAsNew     `<schema>.<name>` created beside the live table (LIKE it, sequences of its
 *                 own) and filled with the side copy's rows; refused if the name exists.
 *   replaceTable  the live table's contents made equal to the side copy's: rows the copy lacks
 *                 deleted, different rows updated in place, missing rows inserted (equal rows
 *                 are not touched, so foreign key actions never fire on them); refused, with
 *                 the constraint and the count, when rows of other tables point at keys the
 *                 copy lacks; refused when the counts are not the approved ones.
 * A refusal or failure rolls back: production is unchanged.
 */
import type pg from 'pg';
import { RecoverError } from '../../errors.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { fetchSql, sequenceForwardSql } from '../rows/statements.js';
import { displayName, readTable, requirePrimaryKey, type TableInfo } from '../rows/table.js';
import { tableName } from '../rows/rows-sql.js';
import { modeDigest, readBoth, referencingKeys, sessionSettings, type ReferenceCount } from './compare.js';
import { allRowsCursorSql, insertAllSql } from './dropped-sql.js';
import { compareRestoredSql, contentSql, createLikeSql, createRestoredSql, loadRestoredSql, lockSql, orphansOfRestoredSql, ownSequenceSql, relationExistsSql, replaceSql, RESTORED, sharedDefaultsSql } from './table-sql.js';

const PAGE = 500;

export interface AsNewResult {
  table: string;
  created: string;
  rows: number;
  /** Rows of the live table (untouched); null when production had none (dropped). */
  liveRows: number | null;
  sequences: { sequence: string; movedTo: string }[];
  /** Dropped table: its foreign keys, re-created only where every row holds. */
  foreignKeys?: { constraint: string; references: string; recreated: boolean; why: string | null }[];
}

export interface ReplaceResult {
  table: string;
  rowsBefore: number;
  rowsAfter: number;
  deleted: number;
  updated: number;
  inserted: number;
  sequences: { sequence: string; movedTo: string }[];
}

/** Every row of the side copy (in a transaction), a page (JSON text of row objects) at a time; no key needed. */
export async function eachPage(side: pg.Client, table: TableInfo, use: (rows: string[]) => Promise<void>): Promise<void> {
  await side.query(allRowsCursorSql('recover_table', table));
  for (;;) {
    const page = (await side.query<{ row: string }>(fetchSql('recover_table', PAGE))).rows;
    if (page.length > 0) await use(page.map((r) => r.row));
    if (page.length < PAGE) break;
  }
  await side.query('CLOSE "recover_table"');
}

export async function moveSequences(production: pg.Client, table: TableInfo): Promise<{ sequence: string; movedTo: string }[]> {
  const moved: { sequence: string; movedTo: string }[] = [];
  for (const column of table.columns.filter((c) => c.sequence !== null)) {
    const row = (await production.query<{ moved_to: string }>(sequenceForwardSql(table, column.name), [column.sequence])).rows[0];
    if (row) moved.push({ sequence: column.sequence!, movedTo: String(row.moved_to) });
  }
  return moved;
}

/** Both sides connected with the same session settings, the side copy in one read-only snapshot, production in one transaction (committed only if `use` returns). */
export async function inTransaction<T>(sideConnection: TargetConnection, productionConnection: TargetConnection, use: (side: pg.Client, production: pg.Client) => Promise<T>): Promise<T> {
  return withTargetClient(sideConnection, (side) =>
    withTargetClient(productionConnection, async (production) => {
      await sessionSettings(side);
      await sessionSettings(production);
      await side.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await production.query('BEGIN');
      try {
        const result = await use(side, production);
        await production.query('COMMIT');
        return result;
      } catch (error) {
        await production.query('ROLLBACK').catch(() => undefined);
        if (error instanceof RecoverError) throw error;
        const pgError = error as { code?: string; constraint?: string; message: string };
        const why = pgError.code === '23503' ? ` (foreign key ${pgError.constraint ?? '?'}: restored rows point at rows production no longer has, or other rows point at removed ones)` : '';
        throw new RecoverError('COMMAND_FAILED', `Writing the restored table into production failed and was rolled back; production is unchanged: ${pgError.message}${why}.`, { cause: error });
      } finally {
        await side.query('ROLLBACK').catch(() => undefined);
      }
    }),
  );
}

export const changed = (what: string) =>
  new RecoverError('COMMAND_FAILED', `The ${what} changed since it was approved; nothing was written.`, { hint: 'Production or the side instance changed meanwhile. Plan again to see and approve the current counts.' });

export async function copyAsNew(sideConnection: TargetConnection, productionConnection: TargetConnection, name: string, newName: string, expectDigest: string): Promise<AsNewResult> {
  return inTransaction(sideConnection, productionConnection, async (side, production) => {
    const tables = await readBoth(side, production, name);
    const live = tables.production;
    const target = tableName(live.schema, newName);
    if ((await production.query<{ exists: boolean }>(relationExistsSql, [target])).rows[0]!.exists) {
      throw new RecoverError('BAD_INPUT', `${displayName({ schema: live.schema, name: newName })} already exists in production; nothing was written.`, { hint: 'Choose another name: --mode as-new <name>.' });
    }
    const content = (await side.query<{ rows: string; hash: string }>(contentSql(tables.side))).rows[0]!;
    if (modeDigest({ kind: 'as-new', name: newName }, { basis: 'by-key', sideRows: Number(content.rows), sideHash: content.hash, productionRows: 0, missing: 0, present: 0, different: 0, references: [] }) !== expectDigest) throw changed('side copy');
    await production.query(createLikeSql(live, newName));
    for (const row of (await production.query<{ name: string }>(sharedDefaultsSql, [target])).rows) {
      for (const sql of ownSequenceSql(live.schema, newName, row.name)) await production.query(sql);
    }
    const created = await readTable(production, target, 'production');
    let rows = 0;
    await eachPage(side, tables.side, async (page) => {
      rows += (await production.query(insertAllSql(created), [`[${page.join(',')}]`])).rowCount ?? 0;
    });
    const sequences = await moveSequences(production, created);
    const liveRows = Number((await production.query<{ rows: string }>(contentSql(live))).rows[0]!.rows);
    return { table: displayName(live), created: displayName(created), rows, liveRows, sequences };
  });
}

/** A replace refused because other tables' rows point at keys the side copy lacks (MODE_REFUSED, exit 3: at planning, and in the job before anything is written). */
export function orphanRefusal(table: string, orphans: readonly ReferenceCount[]): RecoverError {
  const list = orphans.map((o) => `${o.orphaned} rows of ${o.table} (foreign key ${o.constraint})`).join('; ');
  return new RecoverError('MODE_REFUSED', `Replacing ${table} would orphan rows that point at keys the restored contents lack: ${list}. Nothing was written.`, {
    hint: `Use --mode missing-rows (only inserts), or --mode as-new <name> and reconcile by hand.`,
  });
}

export async function replaceTable(sideConnection: TargetConnection, productionConnection: TargetConnection, name: string, expectDigest: string): Promise<ReplaceResult> {
  return inTransaction(sideConnection, productionConnection, async (side, production) => {
    const tables = await readBoth(side, production, name);
    const live = tables.production;
    requirePrimaryKey(live, ': --mode replace matches rows by it (--mode as-new copies every row without one)');
    // Nobody writes the table, nor rows pointing at it, until the replace commits (reads go on).
    await production.query(lockSql(live, 'EXCLUSIVE'));
    const fks = await referencingKeys(production, live);
    for (const fk of fks) await production.query(lockSql(fk.child, 'SHARE'));
    await production.query(createRestoredSql(live));
    await eachPage(side, tables.side, async (page) => void (await production.query(loadRestoredSql, [`[${page.join(',')}]`])));
    const counts = (await production.query<Record<string, string>>(compareRestoredSql(live))).rows[0]!;
    const references: ReferenceCount[] = [];
    for (const fk of fks) references.push({ constraint: fk.constraint, table: displayName(fk.child), orphaned: Number((await production.query<{ rows: string }>(orphansOfRestoredSql(fk))).rows[0]!.rows) });
    const orphans = references.filter((r) => r.orphaned > 0);
    if (orphans.length > 0) throw orphanRefusal(displayName(live), orphans);
    const sideHash = (await production.query<{ hash: string }>(contentSql({ schema: 'pg_temp', name: RESTORED }))).rows[0]!.hash;
    const now = { basis: 'by-key' as const, sideRows: Number(counts.side_rows), sideHash, productionRows: Number(counts.production_rows), missing: Number(counts.missing), present: Number(counts.present), different: Number(counts.different), references };
    if (modeDigest({ kind: 'replace' }, now) !== expectDigest) throw changed(`table (now ${now.productionRows} rows in production, ${now.missing} missing, ${now.different} different)`);
    const sql = replaceSql(live);
    const deleted = (await production.query(sql.delete)).rowCount ?? 0;
    const updated = sql.update ? ((await production.query(sql.update)).rowCount ?? 0) : 0;
    const inserted = (await production.query(sql.insert)).rowCount ?? 0;
    const sequences = await moveSequences(production, live);
    const rowsAfter = Number((await production.query<{ rows: string }>(contentSql(live))).rows[0]!.rows);
    return { table: displayName(live), rowsBefore: now.productionRows, rowsAfter, deleted, updated, inserted, sequences };
  });
}
