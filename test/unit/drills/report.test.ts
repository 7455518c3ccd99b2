import { describe, expect, it } from 'vitest';
import type { DrillRow } from '../../../src/control/drills.js';
import { loadConfig } from '../../../src/config.js';
import { drillHistoryText, drillNoticeText, drillTrend, drillWarning, formatSeconds, measuredRto, measuredRtoText } from '../../../src/drills/report.js';
import { configuredDrillSchedule } from '../../../src/runner/drill-schedule.js';

const objective = { rtoSeconds: 7200, warnShare: 0.5 };
let n = 0;
function row(rtoSeconds: number | null, ok = true, at = '2025-01-15T02:00:00Z'): DrillRow {
  n++;
  return {
    id: String(n),
    pool: 'p',
    trigger: 'schedule',
    requestedAt: new Date(at),
    finishedAt: new Date(at),
    ok,
    backupId: ok ? `b${n}` : null,
    target: ok ? 'latest' : null,
    rtoSeconds,
    error: ok ? null : { code: 'RESTORE_FAILED', message: 'WAL segment 000000010000000000000003 is missing.' },
  };
}

describe('drill warnings', () => {
  it.each([
    [600, true, null],
    [3600, true, null],
    [3601, true, /measured RTO 1 h 0 min is 50 % of the 2 h 0 min goal \(warned past 50 %\)/],
    [7300, true, /is 101 % of the 2 h 0 min goal/],
    [null, false, /the drill failed \(RESTORE_FAILED: WAL segment .* is missing\.\)/],
  ] as const)('RTO %s s, ok %s', (rto, ok, expected) => {
    const warning = drillWarning(row(rto, ok), objective);
    if (expected === null) expect(warning).toBeNull();
    else expect(warning).toMatch(expected);
  });

  it('formats seconds for people', () => {
    expect([formatSeconds(42.4), formatSeconds(125), formatSeconds(5400)]).toEqual(['42 s', '2 min 5 s', '1 h 30 min']);
  });
});

describe('drill notice', () => {
  it('says passed with the backup and RTO, warns past the share, and tells what to run after a failure', () => {
    expect(drillNoticeText(row(95), objective)).toMatch(/^Scheduled restore drill passed: backup b\d+ restored to latest and verified in 1 min 35 s \(RTO goal 2 h 0 min\)\.$/);
    expect(drillNoticeText(row(5000), objective)).toContain(':warning: the measured RTO 1 h 23 min is 69 %');
    const failed = drillNoticeText(row(null, false), objective);
    expect(failed).toMatch(/^Scheduled restore drill FAILED: WAL segment .* is missing\. Run `\/recover preflight`/);
  });
});

describe('drill history', () => {
  it('reports none yet with how to start', () => {
    expect(drillHistoryText([], objective)).toContain('No restore drills yet');
  });

  it.each([
    [[100, 100, 100], /^steady: newest 1 min 40 s against 1 min 40 s/],
    [[150, 100, 100], /^slower: .* \(\+50 %\)/],
    [[50, 100, 100], /^faster: .* \(-50 %\)/],
    [[100], /not enough/],
  ])('trend of %j (newest first)', (rtos, expected) => {
    expect(drillTrend(rtos.map((r) => row(r)))).toMatch(expected);
  });

  it('lists drills newest first with RTO, backup and result; warns on the newest RTO and on failures', () => {
    const rows = [row(4000, true, '2025-01-17T02:00:00Z'), row(null, false, '2025-01-16T02:00:00Z'), row(900, true, '2025-01-15T02:00:00Z')];
    const text = drillHistoryText(rows, objective);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Restore drills, newest first (3; 1 failed; RTO goal 2 h 0 min, warned past 50 %):');
    expect(lines[1]).toMatch(/^• 2025-01-17T02:00:00Z {2}scheduled {2}ok, RTO 4000 s {2}backup b\d+$/);
    expect(lines[2]).toMatch(/^• 2025-01-16T02:00:00Z {2}scheduled {2}FAILED \(RESTORE_FAILED\) {2}backup -$/);
    expect(lines[4]).toMatch(/^Trend: slower: newest 1 h 7 min against 15 min 0 s/);
    expect(lines[5]).toMatch(/^:warning: newest drill: the measured RTO 1 h 7 min is 56 %/);
    expect(lines[6]).toBe(':warning: 1 of the last 3 drills failed.');
  });
});

describe('configuredDrillSchedule', () => {
  it('is null without RECOVER_DRILL_SCHEDULE and the schedule with it; the warn share comes from RECOVER_DRILL_WARN_PERCENT', () => {
    expect(configuredDrillSchedule(loadConfig({}))).toBeNull();
    expect(loadConfig({}).drill.warnShare).toBe(0.5);
    const config = loadConfig({ RECOVER_DRILL_SCHEDULE: '0 3 * * 0', RECOVER_DRILL_WARN_PERCENT: '75' });
    expect(configuredDrillSchedule(config)?.text).toBe('0 3 * * 0');
    expect(config.drill.warnShare).toBe(0.75);
  });

  it('refuses a schedule it cannot read, naming the variable', () => {
    expect(() => loadConfig({ RECOVER_DRILL_SCHEDULE: '61 * * * *' })).toThrow(/RECOVER_DRILL_SCHEDULE/);
  });
});

describe('measuredRto (the scenario guide\'s expected RTO from the drills)', () => {
  const d = (day: number, ok: boolean, rtoSeconds: number | null) => ({ requestedAt: new Date(Date.UTC(2026, 11, day, 3)), ok, rtoSeconds });
  it.each([
    ['no drills', [], 5, null, 'no drill measured yet (`/recover drill` measures one)'],
    ['only failed ones', [d(1, false, null)], 5, null, 'no drill measured yet (`/recover drill` measures one)'],
    ['one', [d(2, true, 754)], 5, { medianSeconds: 754, count: 1, newestAt: d(2, true, 0).requestedAt }, '12 min 34 s measured by restore drills (median of the last drill, newest 2026-12-02)'],
    ['odd count, in any order, failures skipped', [d(1, true, 600), d(4, true, 900), d(3, false, null), d(2, true, 300)], 5, { medianSeconds: 600, count: 3, newestAt: d(4, true, 0).requestedAt }, '10 min 0 s measured by restore drills (median of the last 3 drills, newest 2026-12-04)'],
    ['even count: the mean of the middle two', [d(1, true, 600), d(2, true, 1200)], 5, { medianSeconds: 900, count: 2, newestAt: d(2, true, 0).requestedAt }, '15 min 0 s measured by restore drills (median of the last 2 drills, newest 2026-12-02)'],
    ['only the newest `last` count', [d(1, true, 9000), d(2, true, 60), d(3, true, 120)], 2, { medianSeconds: 90, count: 2, newestAt: d(3, true, 0).requestedAt }, '1 min 30 s measured by restore drills (median of the last 2 drills, newest 2026-12-03)'],
  ])('%s', (_name, rows, last, expected, text) => {
    const measured = measuredRto(rows, last);
    expect(measured).toEqual(expected);
    expect(measuredRtoText(measured)).toBe(text);
  });
});
