/**
 * The row counts of one database's tables as planned by count-plan.ts: estimates straight from the
 * catalog, exact counts (and the configured tables' newest timestamps) in parallel read-only
 * sessions under the verification's time budget (count-pool.ts).
 */
import type pg from 'pg';
import { newestTimestampSql, qualifiedName, rowCountSql } from '../sql.js';
import { runPool } from './count-pool.js';
import { countOrder, planCounts, statisticsEstimate, type CatalogTable, type CountKind } from './count-plan.js';
import { timeoutSql } from './sql.js';
import { failureText, type IntegrityCheck } from './types.js';

export interface CountedTable {
  table: string;
  rows: number;
  newest?: string | null;
  /** Absent: exact (reports from before estimates existed read the same). */
  count?: Exclude<CountKind, 'exact'>;
}

/**
 * Heap size and statistics of every user table, named as listTables names them. From the catalog
 * only (relpages as of the last VACUUM/ANALYZE, pg_inherits for a partitioned table's leaves): no
 * function that locks the table, so a table locked elsewhere cannot stall the plan.
 */
export const catalogTablesSql = `
  WITH RECURSIVE tree AS (
    SELECT c.oid AS root, c.oid AS relid FROM pg_class c WHERE c.relkind = 'p'
    UNION ALL SELECT t.root, i.inhrelid FROM tree t JOIN pg_inherits i ON i.inhparent = t.relid),
  leaves AS (
    SELECT t.root, sum(l.relpages)::float8 AS pages, sum(greatest(l.reltuples, 0))::float8 AS tuples, bool_and(l.reltuples < 0) AS unknown
      FROM tree t JOIN pg_class l ON l.oid = t.relid AND l.relkind = 'r' GROUP BY t.root)
  SELECT CASE WHEN n.nspname = 'public' THEN c.relname::text ELSE n.nspname || '.' || c.relname END AS table,
         coalesce(CASE WHEN c.relkind = 'p' THEN lv.pages ELSE c.relpages END, 0) * current_setting('block_size')::float8 AS bytes,
         coalesce(CASE WHEN c.relkind = 'p' THEN CASE WHEN lv.unknown THEN -1 ELSE lv.tuples END ELSE c.reltuples END, -1)::float8 AS reltuples,
         s.n_live_tup::float8 AS live_tuples
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN leaves lv ON lv.root = c.oid
    LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
   WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`;

/** One row, to know the table reads (its first page) without scanning it. */
export const firstRowSql = (table: string): string => `SELECT 1 FROM ${qualifiedName(table)} LIMIT 1`;

export async function readCatalog(client: pg.Client): Promise<Map<string, CatalogTable>> {
  const { rows } = await client.query(catalogTablesSql);
  return new Map(rows.map((r) => [r.table as string, { table: r.table, bytes: Number(r.bytes), reltuples: Number(r.reltuples), liveTuples: r.live_tuples === null ? null : Number(r.live_tuples) }]));
}

export interface CountRequest {
  database: string;
  names: readonly string[];
  catalog: ReadonlyMap<string, CatalogTable>;
  /** Tables whose count is asked for exactly (critical, configured). */
  asked: ReadonlySet<string>;
  timestampColumns: ReadonlyMap<string, string>;
  exactBelowBytes: number;
  allExact: boolean;
  parallel: number;
  deadline: number;
  now: () => number;
  ruleTimeoutMs: number;
  /** A read-only session of the database, per worker. */
  session: (use: (client: pg.Client) => Promise<void>) => Promise<void>;
}

export async function countTables(request: CountRequest): Promise<{ facts: CountedTable[]; checks: IntegrityCheck[] }> {
  const catalogOf = (table: string): CatalogTable => request.catalog.get(table) ?? { table, bytes: 0, reltuples: -1, liveTuples: null };
  const tables = request.names.map(catalogOf);
  const planned = planCounts(tables, request.asked, request.exactBelowBytes, request.allExact);
  // The estimated tables are still read, one row each (their first page: a table whose files are
  // gone fails here), after the exact counts.
  const order = [...countOrder(planned, tables), ...planned.filter((p) => p.mode === 'estimate')];
  const outcomes = await runPool(order, {
    parallel: request.parallel,
    deadline: request.deadline,
    now: request.now,
    session: request.session,
    run: async (client, item, remainingMs) => {
      await client.query(timeoutSql(Math.max(1, Math.min(request.ruleTimeoutMs, remainingMs))));
      if (item.mode === 'estimate') {
        await client.query(firstRowSql(item.table));
        return { rows: Number.NaN, newest: undefined };
      }
      const rows = Number((await client.query(rowCountSql(item.table))).rows[0].rows);
      const column = request.timestampColumns.get(item.table);
      const newest = column ? ((await client.query(newestTimestampSql(item.table, column))).rows[0].newest as string | null) : undefined;
      return { rows, newest };
    },
  });
  const exact = new Map(order.map((item, index) => [item.table, outcomes[index]!]));
  const estimated = new Set(planned.filter((p) => p.mode === 'estimate').map((p) => p.table));
  const checks: IntegrityCheck[] = [];
  const facts = tables.map((t): CountedTable => {
    const outcome = exact.get(t.table);
    const estimate = statisticsEstimate(t) ?? Number.NaN;
    if (estimated.has(t.table)) {
      if (outcome?.kind === 'failed') checks.push({ name: `table ${request.database}.${t.table}`, ok: false, message: `could not read ${t.table}: ${failureText(outcome.error)}` });
      return { table: t.table, rows: estimate, count: 'estimate' };
    }
    if (!outcome || outcome.kind === 'skipped') return { table: t.table, rows: estimate, count: 'skipped' };
    if (outcome.kind === 'failed') {
      checks.push({ name: `row count ${request.database}.${t.table}`, ok: false, message: `could not count the rows of ${t.table}: ${failureText(outcome.error)}` });
      return { table: t.table, rows: Number.NaN };
    }
    return { table: t.table, rows: outcome.value.rows, ...(outcome.value.newest !== undefined ? { newest: outcome.value.newest } : {}) };
  });
  const skipped = facts.filter((f) => f.count === 'skipped').map((f) => f.table);
  if (skipped.length > 0) {
    const listed = skipped.slice(0, 10).join(', ') + (skipped.length > 10 ? ` and ${skipped.length - 10} more` : '');
    checks.push({ name: `row counts ${request.database}`, ok: true, skipped: true, message: `skipped: ${skipped.length} exact count(s) not done within the time budget (countBudgetSeconds in RECOVER_VERIFY_CONFIG); their estimates are shown: ${listed}` });
  }
  return { facts, checks };
}
