/**
 * Copying rows back from a side instance into production. `previewRows` reads, writes nothing:
 * per table (the filtered one, then children through foreign keys) the rows matching in the
 * side instance, missing in production (by primary key), present and equal, present but
 * different, and a digest of it all. `copyMissingRows` checks the preview is still the one
 * approved, then inserts only the missing rows, parents before children, in ONE production
 * transaction, moves sequences forward, and counts restored / skipped / conflicting rows.
 * Rows that cannot go back (classify.ts: a unique value held by another row) are skipped and
 * reported by key and constraint; child rows whose parent does not go back or differs in
 * production are skipped and reported by key (never attached to another parent row); the
 * others are written.
 * Rows are read through a cursor, a page at a time: memory stays bounded whatever the count.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { RecoverError } from '../../errors.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { block, prepare, uniqueConflicts, walkSet, type Prepared, type RowsSpec } from './classify.js';
import { SESSION_SETTINGS_SQL, tableRowCountSql } from './rows-sql.js';
import { insertRowsSql, lookupKeysSql, sequenceForwardSql } from './statements.js';
import { displayName } from './table.js';

export type { RowsSpec } from './classify.js';

export interface TablePreview {
  table: string;
  /** 0 for the filtered table; children 1, 2, … */
  depth: number;
  /** The foreign key a child set follows, `constraint → parent`; null for the root. */
  via: string | null;
  matching: number;
  /** Not in production by primary key and free to go back: inserted. */
  missing: number;
  /** In production with the same values: skipped. */
  present: number;
  /** In production with other values: left alone, reported. */
  different: number;
  /** Not in production by primary key, but cannot go back (a unique value held by another row): skipped, reported. */
  conflicting: number;
  /** Child rows missing in production whose parent does not go back or is in production with other values: skipped, reported. */
  parentSkipped: number;
  /** Keys (JSON) of the first few missing and different rows, for people. */
  sampleMissing: string[];
  sampleDifferent: string[];
  /** The first few conflicting rows: `key: why` (the constraint and the row holding the value). */
  sampleConflicts: string[];
  /** The first few child rows skipped for their parent: `key: why`. */
  sampleParentSkipped: string[];
}

export interface RowsPreview {
  table: string;
  filter: string;
  withChildren: boolean;
  tables: TablePreview[];
  totals: { matching: number; missing: number; present: number; different: number; conflicting: number; parentSkipped: number };
  /** sha256 over every row's key, class and side-instance hash, in order: the approval binds to it. */
  digest: string;
}

export interface TableCopy {
  table: string;
  restored: number;
  /** Present in production (equal, or inserted meanwhile by someone else). */
  skippedPresent: number;
  /** Left alone: `different` (same key, other values) plus `uniqueConflicts`. */
  conflicting: number;
  different: number;
  /** Missing by primary key but not inserted: a unique value held by another row. */
  uniqueConflicts: number;
  /** The first few of those: key and why. */
  conflicts: { key: string; reason: string }[];
  /** Child rows not inserted because their parent was neither inserted by this copy nor in production with the side instance's values. */
  parentSkipped: number;
  /** Those rows' keys and why (the first PARENT_SKIPS of them). */
  parentSkips: { key: string; reason: string }[];
  /** Production's rows of the table before and after the insert (same transaction). */
  rowsBefore: number;
  rowsAfter: number;
  /** sha256 over (key, hash) of the inserted rows as the side instance has them, and as production stored them: equal when every value came back. */
  sideHash: string;
  productionHash: string;
}

export interface CopyResult {
  preview: RowsPreview;
  tables: TableCopy[];
  sequences: { sequence: string; movedTo: string }[];
  totals: { restored: number; skippedPresent: number; conflicting: number; different: number; uniqueConflicts: number; parentSkipped: number };
}

const SAMPLE = 5;
/** Child rows skipped for their parent are listed by key up to this many per table (the count is always whole). */
export const PARENT_SKIPS = 50;

async function applySessionSettings(client: pg.Client): Promise<void> {
  for (const sql of SESSION_SETTINGS_SQL) await client.query(sql);
}

const emptyPreview = (table: string, depth: number, via: string | null): TablePreview => ({
  table, depth, via, matching: 0, missing: 0, present: 0, different: 0, conflicting: 0, parentSkipped: 0, sampleMissing: [], sampleDifferent: [], sampleConflicts: [], sampleParentSkipped: [],
});
const CLASS_FIELD = { missing: 'missing', present: 'present', different: 'different', conflict: 'conflicting', orphan: 'parentSkipped' } as const;

async function computePreview(source: pg.Client, production: pg.Client, spec: RowsSpec, prepared: Prepared): Promise<RowsPreview> {
  const digest = createHash('sha256');
  digest.update(JSON.stringify({ table: spec.table, filter: prepared.filter.text, withChildren: spec.withChildren }));
  const tables: TablePreview[] = [];
  prepared.blocked.clear();
  for (const [index, set] of prepared.sets.entries()) {
    const table = emptyPreview(displayName(set.table), set.depth, set.via ? `${set.via.constraint} → ${displayName(set.via.parent.table)}` : null);
    digest.update(`\n#${table.table}`);
    await walkSet(source, production, prepared, index, spec.pageRows ?? 500, false, async (rows) => {
      for (const row of rows) {
        table.matching++;
        table[CLASS_FIELD[row.cls]]++;
        if (row.cls === 'missing' && table.sampleMissing.length < SAMPLE) table.sampleMissing.push(row.key);
        if (row.cls === 'different' && table.sampleDifferent.length < SAMPLE) table.sampleDifferent.push(row.key);
        if (row.cls === 'conflict' && table.sampleConflicts.length < SAMPLE) table.sampleConflicts.push(`${row.key}: ${row.reason}`);
        if (row.cls === 'orphan' && table.sampleParentSkipped.length < SAMPLE) table.sampleParentSkipped.push(`${row.key}: ${row.reason}`);
        digest.update(`\n${row.cls}\t${row.key}\t${row.hash}`);
      }
    });
    tables.push(table);
  }
  const sum = (field: 'matching' | 'missing' | 'present' | 'different' | 'conflicting' | 'parentSkipped') => tables.reduce((total, table) => total + table[field], 0);
  return {
    table: displayName(prepared.sets[0]!.table),
    filter: prepared.filter.text,
    withChildren: spec.withChildren,
    tables,
    totals: { matching: sum('matching'), missing: sum('missing'), present: sum('present'), different: sum('different'), conflicting: sum('conflicting'), parentSkipped: sum('parentSkipped') },
    digest: digest.digest('hex'),
  };
}

/**
 * One set's missing rows inserted, page by page: a row the insert skipped is present by key
 * now (someone inserted it meanwhile: skipped if equal, else different and left alone) or a
 * conflict (a unique value the lookup did not cover: an expression or partial unique index, or
 * a row inserted meanwhile); its children then do not go back either. A child row goes back
 * only under a parent this copy inserted or one equal in production (classify.ts, decided here
 * in the transaction). Each inserted row's hash as production stored it is checked against
 * the side instance's.
 */
async function copySet(source: pg.Client, production: pg.Client, prepared: Prepared, index: number, pageRows: number, sequences: CopyResult['sequences']): Promise<TableCopy> {
  const set = prepared.sets[index]!;
  const count = async () => Number((await production.query<{ n: string }>(tableRowCountSql(set.table.schema, set.table.name))).rows[0]!.n);
  const sideHash = createHash('sha256');
  const productionHash = createHash('sha256');
  const copy: TableCopy = { table: displayName(set.table), restored: 0, skippedPresent: 0, conflicting: 0, different: 0, uniqueConflicts: 0, conflicts: [], parentSkipped: 0, parentSkips: [], rowsBefore: await count(), rowsAfter: 0, sideHash: '', productionHash: '' };
  const conflict = (key: string, reason: string) => {
    copy.uniqueConflicts++;
    if (copy.conflicts.length < SAMPLE) copy.conflicts.push({ key, reason });
  };
  await walkSet(source, production, prepared, index, pageRows, true, async (rows) => {
    copy.skippedPresent += rows.filter((row) => row.cls === 'present').length;
    copy.different += rows.filter((row) => row.cls === 'different').length;
    for (const row of rows.filter((r) => r.cls === 'conflict')) conflict(row.key, row.reason ?? 'a unique value is held by another row');
    for (const row of rows.filter((r) => r.cls === 'orphan')) {
      copy.parentSkipped++;
      if (copy.parentSkips.length < PARENT_SKIPS) copy.parentSkips.push({ key: row.key, reason: row.reason ?? 'its parent does not go back' });
    }
    const missing = rows.filter((row) => row.cls === 'missing');
    if (missing.length === 0) return;
    const inserted = new Map((await production.query<{ key: string; hash: string }>(insertRowsSql(set.table), [`[${missing.map((row) => row.row).join(',')}]`])).rows.map((row) => [row.key, row.hash]));
    copy.restored += inserted.size;
    for (const row of missing.filter((r) => inserted.has(r.key))) {
      sideHash.update(`${row.key}\t${row.hash}\n`);
      productionHash.update(`${row.key}\t${inserted.get(row.key)}\n`);
    }
    const skipped = missing.filter((row) => !inserted.has(row.key));
    if (skipped.length === 0) return;
    const present = new Map((await production.query<{ key: string; hash: string }>(lookupKeysSql(set.table), [`[${skipped.map((row) => row.key).join(',')}]`])).rows.map((row) => [row.key, row.hash]));
    const reasons = await uniqueConflicts(production, set, prepared.uniques[index] ?? [], skipped.filter((row) => !present.has(row.key)).map((row) => row.row!));
    for (const row of skipped) {
      if (present.get(row.key) === row.hash) {
        copy.skippedPresent++;
      } else if (present.has(row.key)) {
        // Inserted meanwhile by someone else, with other values: left alone, and not a parent for this copy's children.
        copy.different++;
        block(prepared, index, row, 'inserted meanwhile in production with other values');
      } else {
        conflict(row.key, reasons.get(row.key) ?? 'the insert skipped it: a unique value is held by another row (an expression or partial unique index, or a row inserted meanwhile)');
        block(prepared, index, row, 'a conflict there');
      }
    }
  });
  copy.conflicting = copy.different + copy.uniqueConflicts;
  copy.rowsAfter = await count();
  copy.sideHash = sideHash.digest('hex');
  copy.productionHash = productionHash.digest('hex');
  if (copy.restored > 0) {
    for (const column of set.table.columns.filter((c) => c.sequence !== null)) {
      const moved = (await production.query<{ moved_to: string }>(sequenceForwardSql(set.table, column.name), [column.sequence])).rows[0];
      if (moved) sequences.push({ sequence: column.sequence!, movedTo: String(moved.moved_to) });
    }
  }
  return copy;
}

/** Both connections, the side instance's in one read-only snapshot, both with the same session settings. */
async function withBoth<T>(sourceConnection: TargetConnection, productionConnection: TargetConnection, use: (source: pg.Client, production: pg.Client) => Promise<T>): Promise<T> {
  return withTargetClient(sourceConnection, (source) =>
    withTargetClient(productionConnection, async (production) => {
      await applySessionSettings(source);
      await applySessionSettings(production);
      await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        return await use(source, production);
      } finally {
        await source.query('ROLLBACK').catch(() => undefined);
      }
    }),
  );
}

/** What would be copied: read-only on both sides. */
export async function previewRows(source: TargetConnection, production: TargetConnection, spec: RowsSpec): Promise<RowsPreview> {
  return withBoth(source, production, async (sourceClient, productionClient) => computePreview(sourceClient, productionClient, spec, await prepare(sourceClient, productionClient, spec)));
}

/**
 * Inserts the missing rows into production in one transaction. With `expectDigest`, the
 * preview is computed again first (inside that transaction) and a different digest refuses
 * before anything is written. Rows present meanwhile are skipped (ON CONFLICT DO NOTHING),
 * rows present with other values are left alone, rows whose unique value another row holds
 * are skipped and reported as conflicts (also when found only by the insert), child rows whose
 * parent was neither inserted by this copy nor is equal in production are skipped and reported
 * (checked page by page in this transaction, the parents locked FOR KEY SHARE until the
 * commit); other sessions keep writing throughout.
 */
export async function copyMissingRows(source: TargetConnection, production: TargetConnection, spec: RowsSpec, options: { expectDigest?: string } = {}): Promise<CopyResult> {
  return withBoth(source, production, async (sourceClient, productionClient) => {
    const prepared = await prepare(sourceClient, productionClient, spec);
    await productionClient.query('BEGIN');
    try {
      const preview = await computePreview(sourceClient, productionClient, spec, prepared);
      if (options.expectDigest !== undefined && preview.digest !== options.expectDigest) {
        throw new RecoverError('COMMAND_FAILED', `The rows preview changed since it was approved (now ${preview.totals.missing} missing, ${preview.totals.different} different, ${preview.totals.present} present); nothing was written.`, {
          hint: 'Production changed meanwhile. Plan the copy again to see and approve the current preview.',
        });
      }
      const tables: TableCopy[] = [];
      const sequences: CopyResult['sequences'] = [];
      prepared.blocked.clear();
      for (const index of prepared.sets.keys()) {
        tables.push(await copySet(sourceClient, productionClient, prepared, index, spec.pageRows ?? 500, sequences));
      }
      await productionClient.query('COMMIT');
      const sum = (field: 'restored' | 'skippedPresent' | 'conflicting' | 'different' | 'uniqueConflicts' | 'parentSkipped') => tables.reduce((total, table) => total + table[field], 0);
      return { preview, tables, sequences, totals: { restored: sum('restored'), skippedPresent: sum('skippedPresent'), conflicting: sum('conflicting'), different: sum('different'), uniqueConflicts: sum('uniqueConflicts'), parentSkipped: sum('parentSkipped') } };
    } catch (error) {
      await productionClient.query('ROLLBACK').catch(() => undefined);
      if (error instanceof RecoverError) throw error;
      throw new RecoverError('COMMAND_FAILED', `Copying rows into production failed and was rolled back; production is unchanged: ${(error as Error).message}.`, { cause: error });
    }
  });
}
