/** Which row counts are exact: the integrity report, the job summary, the stored report's parse and the CLI say so. */
import { expect, test } from 'vitest';
import { Transcript } from '../../../devkit/slack-standin/index.js';
import type { IntegrityReport } from '../../../src/engine/verify.js';
import { integrityMessage, tableLines } from '../../../src/slack/views/integrity.js';
import { parseIntegrityReport } from '../../../src/slack/views/job-view.js';
import { summaryMessage, type SummaryInput } from '../../../src/slack/views/summary.js';
import { summaryFactsOf } from '../../../src/slack/flows/summary-facts.js';
import type { Plan } from '../../../src/types.js';

const mixed: IntegrityReport = {
  ok: true,
  checks: [{ name: 'database app', ok: true, message: '3 tables readable' }],
  databases: [{ name: 'app', tables: [{ table: 'orders', rows: 10 }, { table: 'events', rows: 5_000_000, count: 'estimate' }, { table: 'logs', rows: 900, count: 'skipped' }] }],
};
const allExact: IntegrityReport = { ok: true, checks: mixed.checks, databases: [{ name: 'app', tables: [{ table: 'orders', rows: 10 }] }] };

test('the table lines label estimates and skipped counts, and the database line says how many are exact', () => {
  const lines = tableLines(mixed, 4000);
  expect(lines[0]).toContain('(1 exact, 1 estimated, 1 skipped (time budget))');
  expect(lines.find((l) => l.includes('orders'))).not.toMatch(/estimate/);
  expect(lines.find((l) => l.includes('events'))).toContain('(estimate, reltuples)');
  expect(lines.find((l) => l.includes('logs'))).toContain('exact count skipped, time budget');
  expect(Transcript.textOf(integrityMessage({ report: mixed, target: null, reached: null }))).toContain('estimate');
});

test('all exact: the lines read as before', () => {
  expect(tableLines(allExact, 4000)).toEqual(['*app* — 1 table, 10 rows', '• `orders` 10 rows']);
});

test('the summary names the numbers that are not exact, and only then', () => {
  const input = (integrity: IntegrityReport): SummaryInput => ({
    jobId: 'job-1', status: 'succeeded', command: 'verify', summary: 'Verify', requestedBy: 'U0ALICE', requestedAt: new Date('2025-01-15T15:00:00Z'),
    approvals: [], queuedAt: new Date('2025-01-15T15:00:01Z'), startedAt: null, finishedAt: null, steps: [], facts: summaryFactsOf({ command: 'pitr', summary: '', risk: 'side-copy', steps: [], facts: {}, params: { target: { kind: 'time', time: '2025-01-15T14:29:59Z' }, to: 'side' } } satisfies Plan, { reachedTime: '2025-01-15T14:29:50Z' }), integrity, error: null, cancelledBy: null,
    objectives: { rpoSeconds: 900, rtoSeconds: 7200 },
  });
  expect(Transcript.textOf(summaryMessage(input(mixed)))).toContain('*Row counts:* 1 exact, 1 estimated, 1 skipped (time budget)');
  expect(Transcript.textOf(summaryMessage(input(allExact)))).not.toContain('Row counts');
});

test('a stored report keeps its count kinds; anything else reads as exact', () => {
  const parsed = parseIntegrityReport(JSON.parse(JSON.stringify({ ...mixed, databases: [{ name: 'app', tables: [...mixed.databases[0]!.tables, { table: 'x', rows: 1, count: 'bogus' }] }] })));
  expect(parsed?.databases[0]?.tables.map((t) => t.count)).toEqual([undefined, 'estimate', 'skipped', undefined]);
});
