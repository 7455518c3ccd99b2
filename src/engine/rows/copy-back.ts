/**
 * Copying rows back from a side instance into production. `previewRows` reads, writes nothing:
 * per table (the filtered one, then children through foreign keys) the rows matching in the
 * side instance, missing in production (by primary key), present and equal, present but
 * different, and a digest of it all. `copyMissingRows` checks the preview is still the one
 * approved, then inserts only the missing rows, parents before children, in ONE production
 * transaction, moves sequences forward, and counts restored / skipped / conflicting rows.
 * Rows are read through a cursor, a page at a time: memory stays bounded whatever the count.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { RecoverError } from '../../errors.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { compileFilterText, type CompiledFilter } from './filter-compile.js';
import { SESSION_SETTINGS_SQL } from './rows-sql.js';
import { declareCursorSql, fetchSql, insertRowsSql, lookupKeysSql, ROOT_ALIAS, sequenceForwardSql } from './statements.js';
import { checkSameShape, displayName, readRowSets, readTable, type RowSet } from './table.js';

export interface RowsSpec {
  /** The table as people name it: `workflows` or `schema.table`. */
  table: string;
  /** The filter text (filter.ts grammar). */
  filter: string;
  withChildren: boolean;
  maxDepth?: number;
  /** Rows per page read from the side instance (default 500). */
  pageRows?: number;
}

export interface TablePreview {
  table: string;
  /** 0 for the filtered table; children 1, 2, … */
  depth: number;
  /** The foreign key a child set follows, `constraint → parent`; null for the root. */
  via: string | null;
  matching: number;
  missing: number;
  /** In production with the same values: skipped. */
  present: number;
  /** In production with other values: left alone, reported. */
  different: number;
  /** Keys (JSON) of the first few missing and different rows, for people. */
  sampleMissing: string[];
  sampleDifferent: string[];
}

export interface RowsPreview {
  table: string;
  filter: string;
  withChildren: boolean;
  tables: TablePreview[];
  totals: { matching: number; missing: number; present: number; different: number };
  /** sha256 over every row's key, class and side-instance hash, in order: the approval binds to it. */
  digest: string;
}

export interface TableCopy {
  table: string;
  restored: number;
  /** Present in production (equal, or inserted meanwhile by someone else). */
  skippedPresent: number;
  conflicting: number;
}

export interface CopyResult {
  preview: RowsPreview;
  tables: TableCopy[];
  sequences: { sequence: string; movedTo: string }[];
  totals: { restored: number; skippedPresent: number; conflicting: number };
}

const SAMPLE = 5;

interface Prepared {
  sets: RowSet[];
  filter: CompiledFilter;
}

async function applySessionSettings(client: pg.Client): Promise<void> {
  for (const sql of SESSION_SETTINGS_SQL) await client.query(sql);
}

/** The row sets from the side instance's catalog, each checked against production's table; the filter compiled against the root's columns. */
async function prepare(source: pg.Client, production: pg.Client, spec: RowsSpec): Promise<Prepared> {
  const root = await readTable(source, spec.table, 'the side instance');
  const filter = compileFilterText(spec.filter, root.columns, displayName(root), { alias: ROOT_ALIAS });
  const sets = await readRowSets(source, root, spec.withChildren, spec.maxDepth);
  for (const set of sets) checkSameShape(set.table, await readTable(production, `${quote(set.table.schema)}.${quote(set.table.name)}`, 'production'));
  return { sets, filter };
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

type RowClass = 'missing' | 'present' | 'different';
interface PageRow {
  key: string;
  hash: string;
  row?: string;
}

/**
 * Walks one set's rows in the side instance, a page at a time, classifying each page against
 * production; `onPage` gets the page with each row's class.
 */
async function walkSet(source: pg.Client, production: pg.Client, set: RowSet, prepared: Prepared, pageRows: number, withRows: boolean, onPage: (rows: (PageRow & { cls: RowClass })[]) => Promise<void>): Promise<void> {
  const cursor = `rows_${set.depth}_${set.table.oid}`;
  try {
    await source.query(declareCursorSql(cursor, set, prepared.filter, withRows), prepared.filter.params);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    // Class 22 (data exception): a filter value the column's type cannot read, e.g. 'yesterday-ish' for a timestamp.
    if (code.startsWith('22')) throw new RecoverError('BAD_INPUT', `A value in the filter does not fit its column: ${(error as Error).message}.`, { hint: `Filter: ${prepared.filter.text}`, cause: error });
    throw error;
  }
  for (;;) {
    const page = (await source.query<PageRow>(fetchSql(cursor, pageRows))).rows;
    if (page.length === 0) break;
    const found = new Map((await production.query<{ key: string; hash: string }>(lookupKeysSql(set.table), [`[${page.map((row) => row.key).join(',')}]`])).rows.map((row) => [row.key, row.hash]));
    await onPage(page.map((row) => ({ ...row, cls: !found.has(row.key) ? 'missing' : found.get(row.key) === row.hash ? 'present' : 'different' })));
    if (page.length < pageRows) break;
  }
  await source.query(`CLOSE ${quote(cursor)}`);
}

async function computePreview(source: pg.Client, production: pg.Client, spec: RowsSpec, prepared: Prepared): Promise<RowsPreview> {
  const digest = createHash('sha256');
  digest.update(JSON.stringify({ table: spec.table, filter: prepared.filter.text, withChildren: spec.withChildren }));
  const tables: TablePreview[] = [];
  for (const set of prepared.sets) {
    const table: TablePreview = {
      table: displayName(set.table),
      depth: set.depth,
      via: set.via ? `${set.via.constraint} → ${displayName(set.via.parent.table)}` : null,
      matching: 0,
      missing: 0,
      present: 0,
      different: 0,
      sampleMissing: [],
      sampleDifferent: [],
    };
    digest.update(`\n#${table.table}`);
    await walkSet(source, production, set, prepared, spec.pageRows ?? 500, false, async (rows) => {
      for (const row of rows) {
        table.matching++;
        table[row.cls]++;
        if (row.cls === 'missing' && table.sampleMissing.length < SAMPLE) table.sampleMissing.push(row.key);
        if (row.cls === 'different' && table.sampleDifferent.length < SAMPLE) table.sampleDifferent.push(row.key);
        digest.update(`\n${row.cls}\t${row.key}\t${row.hash}`);
      }
    });
    tables.push(table);
  }
  const sum = (field: 'matching' | 'missing' | 'present' | 'different') => tables.reduce((total, table) => total + table[field], 0);
  return {
    table: displayName(prepared.sets[0]!.table),
    filter: prepared.filter.text,
    withChildren: spec.withChildren,
    tables,
    totals: { matching: sum('matching'), missing: sum('missing'), present: sum('present'), different: sum('different') },
    digest: digest.digest('hex'),
  };
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
 * rows present with other values are left alone; other sessions keep writing throughout.
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
      for (const set of prepared.sets) {
        const copy: TableCopy = { table: displayName(set.table), restored: 0, skippedPresent: 0, conflicting: 0 };
        await walkSet(sourceClient, productionClient, set, prepared, spec.pageRows ?? 500, true, async (rows) => {
          const missing = rows.filter((row) => row.cls === 'missing');
          copy.skippedPresent += rows.filter((row) => row.cls === 'present').length;
          copy.conflicting += rows.filter((row) => row.cls === 'different').length;
          if (missing.length === 0) return;
          const inserted = (await productionClient.query(insertRowsSql(set.table), [`[${missing.map((row) => row.row).join(',')}]`])).rowCount ?? 0;
          copy.restored += inserted;
          copy.skippedPresent += missing.length - inserted;
        });
        if (copy.restored > 0) {
          for (const column of set.table.columns.filter((c) => c.sequence !== null)) {
            const moved = (await productionClient.query<{ moved_to: string }>(sequenceForwardSql(set.table, column.name), [column.sequence])).rows[0];
            if (moved) sequences.push({ sequence: column.sequence!, movedTo: String(moved.moved_to) });
          }
        }
        tables.push(copy);
      }
      await productionClient.query('COMMIT');
      const sum = (field: 'restored' | 'skippedPresent' | 'conflicting') => tables.reduce((total, table) => total + table[field], 0);
      return { preview, tables, sequences, totals: { restored: sum('restored'), skippedPresent: sum('skippedPresent'), conflicting: sum('conflicting') } };
    } catch (error) {
      await productionClient.query('ROLLBACK').catch(() => undefined);
      if (error instanceof RecoverError) throw error;
      throw new RecoverError('COMMAND_FAILED', `Copying rows into production failed and was rolled back; production is unchanged: ${(error as Error).message}.`, { cause: error });
    }
  });
}
