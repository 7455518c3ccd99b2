/**
 * Which row counts verification computes exactly, and which it takes from the statistics, so
 * that it costs what the operator chose rather than what the database weighs: count(*) reads the
 * whole heap, so only the tables asked for (critical, configured with a timestamp column) and the
 * tables below exactCountBelowMb are counted; the rest report pg_class.reltuples (or
 * pg_stat_user_tables.n_live_tup when never analyzed), labelled as estimates. Pure.
 */
import { availableParallelism } from 'node:os';
import type { IntegrityConfig } from '../../config.js';
import { EMPTY_INTEGRITY_CONFIG } from '../../config/integrity-schema.js';

/** One table as the catalog describes it (catalogTablesSql). */
export interface CatalogTable {
  table: string;
  /** Heap bytes (a partitioned table: its leaves'). */
  bytes: number;
  /** pg_class.reltuples; negative: never vacuumed or analyzed. */
  reltuples: number;
  /** pg_stat_user_tables.n_live_tup; null when there are no statistics (they are reset by crash recovery). */
  liveTuples: number | null;
}

export interface PlannedCount {
  table: string;
  mode: 'exact' | 'estimate';
  /** The statistics' row count; null when the table was never analyzed and has no statistics. */
  estimate: number | null;
  /** Why it is exact: critical / asked for / small. */
  reason: 'asked' | 'small' | 'all' | 'large';
}

/** How a count in the report was obtained: 'skipped' ones were planned exact but the time budget ran out (the estimate is shown). */
export type CountKind = 'exact' | 'estimate' | 'skipped';

export interface CountSettings {
  exactBelowBytes: number;
  parallel: number;
  budgetMs: number;
}

/** The config's numbers (defaults when there is no file): 1024 MB, min(cores, 4) sessions, 300 s. */
export function countSettings(config: IntegrityConfig | undefined, cores = availableParallelism()): CountSettings {
  const c = config ?? EMPTY_INTEGRITY_CONFIG;
  return {
    exactBelowBytes: c.exactCountBelowMb * 1024 * 1024,
    parallel: c.countParallel > 0 ? c.countParallel : Math.max(1, Math.min(cores, 4)),
    budgetMs: c.countBudgetSeconds * 1000,
  };
}

export function statisticsEstimate(table: CatalogTable): number | null {
  if (table.reltuples >= 0) return Math.round(table.reltuples);
  return table.liveTuples !== null && table.liveTuples > 0 ? table.liveTuples : null;
}

/**
 * Per table: exact when asked for (`asked`: critical or configured tables), when every count is wanted
 * exact (`all`: a copy compared count for count), or below the size; else an estimate. Exact counts come
 * asked-for first, then smallest first, so a budget that runs out skips the largest tables.
 */
export function planCounts(tables: readonly CatalogTable[], asked: ReadonlySet<string>, exactBelowBytes: number, allExact = false): PlannedCount[] {
  const planned = tables.map((t): PlannedCount => {
    const estimate = statisticsEstimate(t);
    if (allExact) return { table: t.table, mode: 'exact', estimate, reason: 'all' };
    if (asked.has(t.table)) return { table: t.table, mode: 'exact', estimate, reason: 'asked' };
    if (t.bytes < exactBelowBytes) return { table: t.table, mode: 'exact', estimate, reason: 'small' };
    return { table: t.table, mode: 'estimate', estimate, reason: 'large' };
  });
  return planned;
}

/** The order exact counts run in: asked-for first, then by size ascending. */
export function countOrder(planned: readonly PlannedCount[], tables: readonly CatalogTable[]): PlannedCount[] {
  const bytes = new Map(tables.map((t) => [t.table, t.bytes]));
  const rank = (p: PlannedCount) => (p.reason === 'asked' ? 0 : 1);
  return planned.filter((p) => p.mode === 'exact').sort((a, b) => rank(a) - rank(b) || (bytes.get(a.table) ?? 0) - (bytes.get(b.table) ?? 0));
}

/** "12 exact, 3 estimated, 1 skipped (time budget)": what the counts of a report are. */
export function countSummary(kinds: readonly (CountKind | undefined)[]): string {
  const exact = kinds.filter((k) => k === undefined || k === 'exact').length;
  const estimated = kinds.filter((k) => k === 'estimate').length;
  const skipped = kinds.filter((k) => k === 'skipped').length;
  return `${exact} exact, ${estimated} estimated, ${skipped} skipped (time budget)`;
}
