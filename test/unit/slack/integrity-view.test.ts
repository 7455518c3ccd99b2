/** The integrity report in Slack: collapsed to one line when every check passed, every check listed otherwise, always within limits. */
import { describe, expect, it } from 'vitest';
import type { IntegrityReport } from '../../../src/engine/verify.js';
import { checkLines, integrityMessage } from '../../../src/slack/views/integrity.js';
import { valid } from './fixtures.js';

const passing: IntegrityReport = {
  ok: true,
  subject: 'production aiagent_prod',
  checks: [
    { name: 'connection', ok: true, message: 'production accepts connections' },
    { name: 'critical tables app', ok: true, message: 'all 4 critical tables exist' },
    { name: 'orphans app', ok: true, message: 'no orphan rows' },
    { name: 'indexes app', ok: true, skipped: true, message: 'skipped: amcheck not installed in app (CREATE EXTENSION amcheck there, or verify a side instance)' },
  ],
  databases: [{ name: 'app', tables: [{ table: 'workflows', rows: 3 }] }],
};

describe('integrity report checks', () => {
  it('all passed: one line naming the checks, and the skipped ones with why', () => {
    expect(checkLines(passing)).toEqual([
      ':white_check_mark: All 4 checks passed: connection, critical tables app, orphans app (indexes app: skipped: amcheck not installed in app (CREATE EXTENSION amcheck there, or verify a side instance))',
    ]);
    const text = valid(integrityMessage({ report: passing, target: null, reached: null }));
    expect(text).toContain('Integrity report: passed');
    expect(text).not.toContain('*orphans app* —');
  });

  it('a skipped check seen through the job view (no skipped flag, message only) is still shown as skipped', () => {
    const checks = passing.checks.map(({ skipped: _, ...c }) => c);
    expect(checkLines({ ...passing, checks })[0]).toContain('(indexes app: skipped: amcheck not installed');
  });

  it('some failed: every check on its own line, failed first, skipped marked, where it is said', () => {
    const report: IntegrityReport = {
      ...passing,
      ok: false,
      checks: [...passing.checks, { name: 'orphans app.workflow_executions → workflows', ok: false, message: '1 row of workflow_executions without a parent in workflows; e.g. workflow_id=<!channel>' }],
    };
    const lines = checkLines(report);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe(':x: *orphans app.workflow_executions → workflows* — 1 row of workflow_executions without a parent in workflows; e.g. workflow_id=<!channel>');
    expect(lines[4]).toMatch(/^:heavy_minus_sign: \*indexes app\* — skipped: amcheck not installed/);
    const text = valid(integrityMessage({ report, target: null, reached: null }));
    expect(text).toContain('4 of 5 checks passed, *1 failed*');
    // The message escapes what the lines quote (section() does, for every view).
    expect(text).toContain('e.g. workflow_id=&lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
  });

  it('hundreds of passing checks stay one line within limits; hundreds of failures are cut, failures kept', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ name: `orphans db_${i}.child_table_with_a_long_name → parent`, ok: true, message: 'no orphan rows '.repeat(20) }));
    const lines = checkLines({ ...passing, checks: many });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThanOrEqual(2900);
    valid(integrityMessage({ report: { ...passing, checks: many }, target: null, reached: null }));
    const failing = many.map((c, i) => ({ ...c, ok: i % 2 === 0 }));
    const text = valid(integrityMessage({ report: { ...passing, ok: false, checks: failing }, target: null, reached: null }));
    expect(text).toContain(':x: *orphans db_1.child_table_with_a_long_name → parent*');
    expect(text).toMatch(/…and \d+ more checks \(passed ones are listed last\)/);
  });
});

describe('comparisons with production', () => {
  const comparison = {
    name: 'compared with production app',
    ok: true,
    message: 'informational: the side instance is production at an earlier time, so differences are expected. Row counts: workflows side 10 / production 0 (+10 on the side); 3 tables with the same count',
  };
  const restored = { name: 'restored rows app.workflows', ok: true, message: '10 rows inserted with the side instance\'s values (hash 0123456789ab on both sides); production 0 → 10 rows by the write; side instance: 10 rows match the filter; now 10 present in production with the same values, 0 different, 0 conflicting (left alone)' };

  it('all passed: still collapsed to one line, and the informational comparison shown below it (seen through the job view too: message only)', () => {
    const report: IntegrityReport = { ...passing, checks: [...passing.checks, restored, { ...comparison }] };
    const lines = checkLines(report);
    expect(lines[0]).toMatch(/^:white_check_mark: All 6 checks passed: .*restored rows app\.workflows, compared with production app/);
    expect(lines.slice(1)).toEqual([`:information_source: *compared with production app* — ${comparison.message}`]);
    const text = valid(integrityMessage({ report, target: null, reached: null }));
    expect(text).toContain('workflows side 10 / production 0 (+10 on the side)');
  });

  it('some failed: the comparison marked as information, the failed restored-rows check first', () => {
    const failedRestore = { ...restored, ok: false, message: '9 rows inserted …; 1 still missing in production, e.g. {"id": 7}' };
    const lines = checkLines({ ...passing, ok: false, checks: [...passing.checks, failedRestore, comparison] });
    expect(lines[0]).toMatch(/^:x: \*restored rows app\.workflows\* — 9 rows inserted/);
    expect(lines).toContain(`:information_source: *compared with production app* — ${comparison.message}`);
  });
});
