import { describe, expect, test } from 'vitest';
import { countOrder, countSettings, countSummary, planCounts, statisticsEstimate, type CatalogTable } from '../../../../src/engine/integrity/count-plan.js';
import { parseIntegrityConfig } from '../../../../src/config.js';

const MB = 1024 * 1024;
const t = (table: string, mb: number, reltuples = 1000, liveTuples: number | null = null): CatalogTable => ({ table, bytes: mb * MB, reltuples, liveTuples });

describe('planCounts', () => {
  const tables = [t('small', 1), t('big', 2048), t('critical_big', 4096), t('edge', 1024)];
  test.each([
    ['default threshold: below 1024 MB exact, the rest estimated unless asked', 1024 * MB, ['critical_big'], { small: 'exact', big: 'estimate', critical_big: 'exact', edge: 'estimate' }],
    ['threshold 0: only the asked-for tables are exact', 0, ['critical_big'], { small: 'estimate', big: 'estimate', critical_big: 'exact', edge: 'estimate' }],
    ['a huge threshold: everything exact (small databases keep exact counts)', 1e15, [], { small: 'exact', big: 'exact', critical_big: 'exact', edge: 'exact' }],
    ['nothing asked, tiny threshold', 2 * MB, [], { small: 'exact', big: 'estimate', critical_big: 'estimate', edge: 'estimate' }],
  ])('%s', (_name, below, asked, want) => {
    const plan = planCounts(tables, new Set(asked), below);
    expect(Object.fromEntries(plan.map((p) => [p.table, p.mode]))).toEqual(want);
  });

  test('allExact counts every table whatever its size', () => {
    expect(planCounts(tables, new Set(), 0, true).every((p) => p.mode === 'exact' && p.reason === 'all')).toBe(true);
  });

  test('exact counts run asked-for first, then smallest first (a budget that runs out skips the largest)', () => {
    const plan = planCounts([t('c', 30), t('a', 10), t('crit', 500), t('b', 20), t('huge', 5000)], new Set(['crit']), 1024 * MB);
    expect(countOrder(plan, [t('c', 30), t('a', 10), t('crit', 500), t('b', 20), t('huge', 5000)]).map((p) => p.table)).toEqual(['crit', 'a', 'b', 'c']);
  });
});

describe('statisticsEstimate', () => {
  test.each([
    ['reltuples when analyzed', t('x', 1, 1234.4), 1234],
    ['n_live_tup when never analyzed', t('x', 1, -1, 77), 77],
    ['unknown when neither (after crash recovery the statistics are reset)', t('x', 1, -1, null), null],
    ['an empty analyzed table', t('x', 0, 0, null), 0],
  ])('%s', (_name, table, want) => expect(statisticsEstimate(table)).toBe(want));
});

describe('countSettings', () => {
  test('defaults without a file: 1024 MB, min(cores, 4) sessions, 300 s', () => {
    expect(countSettings(undefined, 2)).toEqual({ exactBelowBytes: 1024 * MB, parallel: 2, budgetMs: 300_000 });
    expect(countSettings(undefined, 16).parallel).toBe(4);
    expect(countSettings(undefined, 1).parallel).toBe(1);
  });
  test('the config file sets them', () => {
    const config = parseIntegrityConfig(JSON.stringify({ exactCountBelowMb: 0.5, countParallel: 8, countBudgetSeconds: 30 }));
    expect(countSettings(config, 2)).toEqual({ exactBelowBytes: 0.5 * MB, parallel: 8, budgetMs: 30_000 });
  });
  test('a wrong value names the field', () => {
    expect(() => parseIntegrityConfig(JSON.stringify({ countBudgetSeconds: 0 }))).toThrow(/countBudgetSeconds/);
  });
});

test('countSummary: absent means exact', () => {
  expect(countSummary([undefined, 'exact', 'estimate', 'skipped', undefined])).toBe('3 exact, 1 estimated, 1 skipped (time budget)');
});
