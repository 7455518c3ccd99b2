/**
 * Builders of what a running job shows (status message, job list, integrity report) and the
 * shared helpers: important text, and every message within Slack's limits.
 */
import { describe, expect, it } from 'vitest';
import { fitMessage, formatDuration, formatUtc, section } from '../../../src/slack/views/common.js';
import { progressBar } from '../../../src/util/format.js';
import { integrityMessage } from '../../../src/slack/views/integrity.js';
import { jobsListMessage, statusMessage } from '../../../src/slack/views/status.js';
import { applyEvent, initialJobView } from '../../../src/slack/views/job-view.js';
import type { IntegrityReport } from '../../../src/engine/verify.js';
import type { Plan } from '../../../src/types.js';
import { huge, plan, valid } from './fixtures.js';

describe('status message and job list', () => {
  const meta = { requestId: 'r', requesterId: 'U0ALICE', approvedBy: ['U0BOB'], summary: plan.summary, command: 'pitr x' };

  it('shows the current step with a progress bar and the checklist', () => {
    let view = initialJobView('job-1', plan);
    view = applyEvent(view, 1, { type: 'job.started', at: 't', command: 'pitr' });
    view = applyEvent(view, 2, { type: 'step.started', at: 't', step: 'select', title: 'Check backup b1 and 58 WAL segments' });
    view = applyEvent(view, 3, { type: 'step.finished', at: 't', step: 'select', seconds: 1.5 });
    view = applyEvent(view, 4, { type: 'step.progress', at: 't', step: 'replay-wal', done: 52, total: 100, unit: 'segments', detail: 'replayed to 0/3A000000' });
    const message = statusMessage(view, meta, new Date('2025-01-15T15:00:00Z'));
    const text = valid(message);
    expect(text).toContain('replay-wal [#####-----] 52% replayed to 0/3A000000');
    expect(text).toContain(':white_check_mark: 1. Check backup b1 and 58 WAL segments — 1.5 s');
    expect(text).toContain(':arrows_counterclockwise: 3. Replay 58 WAL segments, then promote :warning:');
    expect(text).toContain('approved by <@U0BOB>');
    expect(message.blocks.at(-1)).toMatchObject({ type: 'actions', elements: [{ action_id: 'recover_cancel_job', value: 'job-1' }] });
  });

  it('shows failures and drops the cancel button at the end', () => {
    let view = initialJobView('job-1', plan);
    view = applyEvent(view, 1, { type: 'step.started', at: 't', step: 'stop-production', title: 'Stop production' });
    view = applyEvent(view, 2, { type: 'job.failed', at: '2025-01-15T15:00:00Z', code: 'RECOVERY_FAILED', message: 'postgres exited' });
    const message = statusMessage(view, meta, new Date());
    const text = valid(message);
    expect(text).toContain('*Error* `RECOVERY_FAILED`: postgres exited');
    expect(text).toContain(':x: 2. Stop production');
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('fits a plan with hundreds of steps', () => {
    const big: Plan = { ...plan, steps: huge(400, 'step').map((title, i) => ({ kind: `k${i}`, title, params: {}, destructive: false })) };
    valid(statusMessage(initialJobView('j', big), meta, new Date()));
  });

  it('lists active and recent jobs with progress', () => {
    let view = initialJobView('job-1', plan);
    view = applyEvent(view, 1, { type: 'step.progress', at: 't', step: 'replay-wal', done: 1, total: 4, unit: 'segments' });
    const rows = [
      { jobId: 'job-1', status: 'running' as const, createdAt: new Date('2025-01-15T15:00:00Z'), finishedAt: null, command: 'pitr x', requesterId: 'U0ALICE', view },
      { jobId: 'job-0', status: 'succeeded' as const, createdAt: new Date('2025-01-14T15:00:00Z'), finishedAt: new Date('2025-01-14T15:10:00Z'), command: 'pitr y', requesterId: 'U0BOB', view: null },
    ];
    const text = valid(jobsListMessage(rows));
    expect(text).toContain('Running `job-1` /recover pitr x by <@U0ALICE>');
    expect(text).toContain('`replay-wal [###-------] 25%`');
    expect(text).toContain('Succeeded `job-0` /recover pitr y by <@U0BOB> · finished 2025-01-14 15:10:00 UTC');
    const many = Array.from({ length: 200 }, (_, i) => ({ ...rows[1]!, jobId: `job-${i}-${'x'.repeat(30)}` }));
    valid(jobsListMessage(many));
  });
});

describe('integrity report', () => {
  const report: IntegrityReport = {
    ok: false,
    checks: [
      { name: 'connect', ok: true, message: 'accepts connections' },
      { name: 'amcheck', ok: false, message: 'index orders_pkey is corrupt' },
    ],
    databases: [{ name: 'aiagent_prod', tables: [{ table: 'orders', rows: 1234567, newest: '2025-01-15T14:29:58.123Z' }, { table: 'empty', rows: 0 }] }],
  };

  it('shows every check, row counts per table, and reached vs target', () => {
    const text = valid(integrityMessage({ report, target: '2025-01-15 14:29:59 UTC', reached: '2025-01-15T14:29:58.912Z' }));
    expect(text).toContain('Integrity report: FAILED');
    expect(text).toContain(':white_check_mark: *connect* — accepts connections');
    expect(text).toContain(':x: *amcheck* — index orders_pkey is corrupt');
    expect(text).toContain('1 of 2 checks passed, *1 failed*');
    expect(text).toContain('`orders` 1,234,567 rows · newest 2025-01-15 14:29:58.123 UTC');
    expect(text).toContain('*Recovery point:* target `2025-01-15 14:29:59 UTC` · reached `2025-01-15 14:29:58.912 UTC`');
    expect(valid(integrityMessage({ report, target: null, reached: null }))).toContain('known when the job finishes');
  });

  it('truncates thousands of tables to fit one message and says how many were left out', () => {
    const databases = Array.from({ length: 30 }, (_, d) => ({
      name: `db_${d}`,
      tables: Array.from({ length: 200 }, (_, t) => ({ table: `schema_${d}.table_with_a_long_name_${t}`, rows: t * 1000, newest: '2025-01-15T14:00:00Z' })),
    }));
    const checks = Array.from({ length: 300 }, (_, i) => ({ name: `check ${i}`, ok: i % 7 !== 0, message: 'm'.repeat(300) }));
    const text = valid(integrityMessage({ report: { ok: false, checks, databases }, target: null, reached: null }));
    expect(text).toMatch(/…and [\d,]+ more tables \(\d+ databases not listed\), left out to fit one Slack message/);
  });
});

describe('common helpers', () => {
  it('formats durations, times and bars', () => {
    expect([0.42, 12.3, 59.6, 252, 900, 3780, 7200].map(formatDuration)).toEqual(['0.4 s', '12 s', '60 s', '4 min 12 s', '15 min', '1 h 03 min', '2 h']);
    expect(formatUtc('2025-01-15T14:29:58.912Z', true)).toBe('2025-01-15 14:29:58.912 UTC');
    expect(formatUtc('2025-01-15T14:29:58.000Z', true)).toBe('2025-01-15 14:29:58 UTC');
    // Microseconds (targets and reached times) are kept, in any offset.
    expect(formatUtc('2025-01-15T14:29:58.120555+00:00', true)).toBe('2025-01-15 14:29:58.120555 UTC');
    expect(formatUtc('2025-01-15T16:29:58.000001+02:00', true)).toBe('2025-01-15 14:29:58.000001 UTC');
    expect(formatUtc(null)).toBe('—');
    expect(progressBar(52, 100)).toBe('[#####-----] 52%');
    expect(progressBar(5, null)).toBe('[??????????]');
    expect(progressBar(200, 100)).toBe('[##########] 100%');
  });

  it('fitMessage trims blocks beyond Slack limits and keeps the trailing actions', () => {
    const blocks = [...Array.from({ length: 80 }, (_, i) => section(`line ${i} ${'y'.repeat(400)}`)), { type: 'actions', elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'A' } }] }];
    const fitted = fitMessage({ text: 't'.repeat(5000), blocks });
    valid(fitted);
    expect(fitted.blocks.at(-1)?.type).toBe('actions');
    expect(fitted.text.length).toBeLessThanOrEqual(3000);
  });
});
