import type pg from 'pg';
import { expect, test } from 'vitest';
import { countTables, type CountRequest } from '../../../../src/engine/integrity/counts.js';

const MB = 1024 * 1024;

/** Sessions whose queries are recorded; count(*) answers 7, a table named in `broken` fails. */
function request(overrides: Partial<CountRequest>, broken: string[] = []) {
  const queries: string[] = [];
  const client = {
    query: async (sql: string) => {
      queries.push(sql);
      if (broken.some((t) => sql.includes(`"${t}"`))) throw Object.assign(new Error('could not open file'), { code: '58P01' });
      if (sql.startsWith('SELECT count(*)')) return { rows: [{ rows: '7' }] };
      if (sql.startsWith('SELECT max(')) return { rows: [{ newest: '2025-01-01 00:00:00+00' }] };
      return { rows: [] };
    },
  } as unknown as pg.Client;
  const req: CountRequest = {
    database: 'app', names: ['big', 'crit', 'small'],
    catalog: new Map([['big', { table: 'big', bytes: 5000 * MB, reltuples: 1e6, liveTuples: null }], ['crit', { table: 'crit', bytes: 3000 * MB, reltuples: 5e5, liveTuples: null }], ['small', { table: 'small', bytes: MB, reltuples: 6, liveTuples: null }]]),
    asked: new Set(['crit']), timestampColumns: new Map([['crit', 'at']]), exactBelowBytes: 1024 * MB, allExact: false,
    parallel: 1, deadline: 1000, now: () => 0, ruleTimeoutMs: 60_000, session: (use) => use(client),
    ...overrides,
  };
  return { run: () => countTables(req), queries };
}

test('asked-for and small tables counted (asked first), the large one estimated and only probed, last', async () => {
  const { run, queries } = request({});
  const { facts, checks } = await run();
  expect(facts).toEqual([
    { table: 'big', rows: 1e6, count: 'estimate' },
    { table: 'crit', rows: 7, newest: '2025-01-01 00:00:00+00' },
    { table: 'small', rows: 7 },
  ]);
  expect(checks).toEqual([]);
  expect(queries.filter((q) => !q.startsWith('SET')).map((q) => q.replace(/\s+/g, ' '))).toEqual([
    'SELECT count(*)::bigint AS rows FROM "crit"', 'SELECT max("at")::text AS newest FROM "crit"', 'SELECT count(*)::bigint AS rows FROM "small"', 'SELECT 1 FROM "big" LIMIT 1',
  ]);
  // Each statement bounded by the budget left when it is shorter than ruleTimeoutMs.
  expect(queries.filter((q) => q.startsWith('SET'))[0]).toMatch(/1000/);
});

test('a failed count is a failed row count check; a failed probe a failed table check with the estimate kept', async () => {
  const { facts, checks } = await request({}, ['small', 'big']).run();
  expect(facts.map((f) => [f.table, f.rows, f.count])).toEqual([['big', 1e6, 'estimate'], ['crit', 7, undefined], ['small', Number.NaN, undefined]]);
  expect(checks.map((c) => [c.name, c.ok])).toEqual([['table app.big', false], ['row count app.small', false]]);
});

test('a spent budget: the planned counts are skipped with their estimate, one skipped check names them', async () => {
  const { facts, checks } = await request({ now: () => 5000 }).run();
  expect(facts.map((f) => [f.table, f.rows, f.count])).toEqual([['big', 1e6, 'estimate'], ['crit', 5e5, 'skipped'], ['small', 6, 'skipped']]);
  expect(checks).toEqual([expect.objectContaining({ name: 'row counts app', ok: true, skipped: true, message: expect.stringContaining(': crit, small') })]);
});
