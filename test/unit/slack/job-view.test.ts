import { describe, expect, it } from 'vitest';
import type { StepCheckpoint } from '../../../src/control/index.js';
import { pitr } from '../../../commands/pitr.js';
import { applyEvent, initialJobView, parseIntegrityReport, type JobView } from '../../../src/slack/views/job-view.js';
import { summarySteps } from '../../../src/slack/flows/summary-data.js';
import type { EngineEvent, Plan } from '../../../src/types.js';

const plan: Plan = {
  command: 'pitr',
  summary: 's',
  risk: 'side-copy',
  steps: [
    { kind: 'select', title: 'Select', params: {}, destructive: false },
    { kind: 'replay-wal', title: 'Replay', params: {}, destructive: false },
    { kind: 'verify', title: 'Verify', params: {}, destructive: false },
  ],
  facts: {},
};

function run(events: EngineEvent[], start: JobView = initialJobView('j', plan)): JobView {
  return events.reduce((view, event, i) => applyEvent(view, i + 1, event), start);
}

describe('job view reducer', () => {
  it('starts from the plan with every step pending', () => {
    const view = initialJobView('j', plan);
    expect(view.status).toBe('queued');
    expect(view.steps.map((s) => `${s.step}:${s.state}`)).toEqual(['select:pending', 'replay-wal:pending', 'verify:pending']);
  });

  it('follows steps, progress and the outcome', () => {
    const view = run([
      { type: 'job.started', at: 't0', command: 'pitr' },
      { type: 'step.started', at: 't1', step: 'select', title: 'Select backup b1' },
      { type: 'step.finished', at: 't2', step: 'select', seconds: 1.5, detail: 'b1' },
      { type: 'step.started', at: 't3', step: 'replay-wal', title: 'Replay' },
      { type: 'step.progress', at: 't4', step: 'replay-wal', done: 5, total: 10, unit: 'segments', detail: 'to 0/5' },
    ]);
    expect(view.status).toBe('running');
    expect(view.current).toBe('replay-wal');
    expect(view.steps[0]).toMatchObject({ title: 'Select backup b1', state: 'done', seconds: 1.5, detail: 'b1' });
    expect(view.steps[1]).toMatchObject({ state: 'running', progress: { done: 5, total: 10, unit: 'segments', detail: 'to 0/5' } });
    expect(view.lastEventId).toBe(5);

    const done = run([
      { type: 'step.finished', at: 't5', step: 'replay-wal', seconds: 30 },
      { type: 'integrity.report', at: 't6', report: { ok: true, checks: [], databases: [] } },
      { type: 'job.succeeded', at: 't7', result: { reachedTime: 'x' } },
    ], view);
    expect(done.status).toBe('succeeded');
    expect(done.current).toBeNull();
    expect(done.steps[1]).toMatchObject({ state: 'done', progress: { done: 10 } });
    expect(done.integrity).toEqual({ ok: true, checks: [], databases: [] });
    expect(done.finishedAt).toBe('t7');
  });

  it('adds steps the plan did not name and marks the running step failed on failure', () => {
    const view = run([
      { type: 'step.started', at: 't', step: 'fetch-wal', title: 'Fetch WAL' },
      { type: 'job.failed', at: 't', code: 'STORAGE_ERROR', message: 'boom' },
    ]);
    expect(view.steps.at(-1)).toMatchObject({ step: 'fetch-wal', state: 'failed' });
    expect(view).toMatchObject({ status: 'failed', error: { code: 'STORAGE_ERROR', message: 'boom' } });
  });

  it('takes the integrity report from the result when no event carried one', () => {
    const view = run([{ type: 'job.succeeded', at: 't', result: { report: { ok: false, checks: [{ name: 'c', ok: false, message: 'm' }], databases: [] } } }]);
    expect(view.integrity?.ok).toBe(false);
  });

  it.each(['cancelled', 'succeeded'] as const)('a note recorded after a %s end (job.failed from a later tidy) is shown with the job as it ended, not as a failure', (end) => {
    const ended: EngineEvent = end === 'cancelled' ? { type: 'job.cancelled', at: 't1' } : { type: 'job.succeeded', at: 't1', result: null };
    const view = run([{ type: 'job.started', at: 't0', command: 'x' }, ended, { type: 'job.failed', at: 't2', code: 'RUNNER_LOST', message: 'tidied what the lost runner left' }]);
    expect(view).toMatchObject({ status: end, finishedAt: 't1', error: { code: 'RUNNER_LOST', message: 'tidied what the lost runner left' } });
  });

  it('never leaves a terminal state on late events', () => {
    const view = run([{ type: 'job.cancelled', at: 't' }, { type: 'job.started', at: 't', command: 'x' }]);
    expect(view.status).toBe('cancelled');
  });

  it('parses reports and results defensively', () => {
    expect(parseIntegrityReport(null)).toBeNull();
    expect(parseIntegrityReport({ ok: 'yes' })).toBeNull();
    expect(parseIntegrityReport({ ok: true, checks: [{ name: 1 }, 'junk'], databases: [{ name: 'd', tables: [{ table: 't', rows: '12' }] }] })).toEqual({
      ok: true,
      checks: [{ name: '1', ok: false, message: '' }],
      databases: [{ name: 'd', tables: [{ table: 't', rows: 12 }] }],
    });
    // A PITR result is read back through the pitr command's own result schema, as defensively.
    expect(pitr.resultSchema!.parse('junk')).toMatchObject({ reachedTime: null, port: null, seconds: { total: null } });
    expect(pitr.resultSchema!.parse({ reachedTime: '2025', port: 5432, seconds: { total: 3 } })).toMatchObject({ reachedTime: '2025', port: 5432, seconds: { total: 3 } });
    expect(pitr.resultSchema!.parse({ reachedTime: 7, port: 'x', seconds: 'y' })).toMatchObject({ reachedTime: null, port: null, seconds: { total: null } });
  });

  it('completes step durations from the checkpoints for the summary', () => {
    const view = run([{ type: 'step.finished', at: 't', step: 'select', seconds: 2 }]);
    const checkpoint = (stepIndex: number, status: StepCheckpoint['status'], seconds: number | null): StepCheckpoint => ({
      jobId: 'j', stepIndex, kind: 'k', status, startedAt: new Date(0), finishedAt: seconds === null ? null : new Date(seconds * 1000), detail: {},
    });
    const steps = summarySteps(view, [checkpoint(0, 'succeeded', 9), checkpoint(1, 'succeeded', 30), checkpoint(2, 'failed', 4), checkpoint(7, 'failed', 1)]);
    expect(steps).toEqual([
      { title: 'Select', state: 'done', seconds: 2 },
      { title: 'Replay', state: 'done', seconds: 30 },
      { title: 'Verify', state: 'failed', seconds: 4 },
    ]);
  });
});
