/**
 * What people see of an estimate: the preview's expected duration and where its rates come from,
 * the status message's phase, bytes, replayed LSN against the target LSN and ETA, and the
 * summary's estimate against what happened (pure builders, tables).
 */
import { describe, expect, it } from 'vitest';
import { Transcript, validateMessageContent } from '../../../devkit/slack-standin/index.js';
import { estimateBasisText, planPreviewMessage } from '../../../src/slack/views/plan.js';
import { currentStepLines, jobRemainingSeconds, replayedLsn, stepEta, targetLsn } from '../../../src/slack/views/progress.js';
import { applyEvent, initialJobView, type JobView } from '../../../src/slack/views/job-view.js';
import { statusMessage } from '../../../src/slack/views/status.js';
import { estimateAgainstActual, summaryMessage, type SummaryInput } from '../../../src/slack/views/summary.js';
import type { EngineEvent, Plan, StepEstimate } from '../../../src/types.js';
import { valid } from './fixtures.js';

const t = (seconds: number) => new Date(Date.UTC(2025, 0, 15, 15, 0, 0) + seconds * 1000).toISOString();
const measured = (samples: number, bytes: number, bytesPerSecond: number): StepEstimate => ({ bytes, bytesPerSecond, startupSeconds: 2, tailSeconds: 3, samples });
const restorePlan = (samples: number): Plan => ({
  command: 'pitr',
  summary: 'Point-in-time recovery into new side instance pitr-x',
  risk: 'side-copy',
  steps: [
    { kind: 'select', title: 'Check backup b1 and 3 WAL segments', params: {}, destructive: false, estimateSeconds: 2 },
    { kind: 'restore-base-backup', title: 'Restore base backup b1 into pitr-x', params: {}, destructive: false, estimateSeconds: 12, estimate: measured(samples, 1e9, 100e6) },
    { kind: 'configure-recovery', title: 'Configure recovery', params: {}, destructive: false, estimateSeconds: 1 },
    { kind: 'replay-wal', title: 'Replay 3 WAL segments, then promote', params: {}, destructive: false, estimateSeconds: 105, estimate: measured(samples, 1000e6, 10e6) },
    { kind: 'verify', title: 'Verify all databases', params: {}, destructive: false, estimateSeconds: 5 },
  ],
  facts: {},
  params: {},
});

describe('plan preview: the expected duration says where its rates come from', () => {
  it.each<[string, Plan, string | null, string]>([
    ['not yet measured', restorePlan(0), 'not yet measured on this runner pool (default rates)', "*Expected duration:* about 2 min 05 s (42 s–6 min 15 s; no restore measured on this pool yet, default rates)"],
    [
      'not yet measured, rates from the probe',
      { ...restorePlan(0), steps: restorePlan(0).steps.map((s) => (s.estimate ? { ...s, estimate: { ...s.estimate, probed: true as const } } : s)) },
      "not yet measured on this runner pool (rates from this runner's start-up probe)",
      "*Expected duration:* about 2 min 05 s (1 min 03 s–4 min 10 s; no restore measured on this pool yet, rates from this runner's start-up probe)",
    ],
    ['measured five times', restorePlan(5), 'measured: median of the last 5 restores on this runner pool', '*Expected duration:* about 2 min 05 s, measured: median of the last 5 restores on this runner pool'],
    ['steps without rates: no basis', { ...restorePlan(3), steps: restorePlan(3).steps.map(({ estimate: _e, ...s }) => s) }, null, '*Expected duration:* about 2 min 05 s'],
  ])('%s', (_name, plan, basis, line) => {
    expect(estimateBasisText(plan)).toBe(basis);
    const text = valid(planPreviewMessage({ requestId: 'r', requesterId: 'U0ALICE', commandText: 'pitr --latest', plan, digest: 'ab'.repeat(32), required: 1, approvers: [], state: { kind: 'open' } }));
    expect(text.split('\n').filter((l) => l.includes('Expected duration'))).toEqual([line]);
  });

  it('a step estimated from rates shows its rate', () => {
    const text = valid(planPreviewMessage({ requestId: 'r', requesterId: 'U0ALICE', commandText: 'pitr --latest', plan: restorePlan(2), digest: 'ab'.repeat(32), required: 1, approvers: [], state: { kind: 'open' } }));
    expect(text).toContain('4. Replay 3 WAL segments, then promote _(~1 min 45 s at 9.5 MiB/s)_');
  });
});

function running(events: EngineEvent[], plan = restorePlan(4)): JobView {
  return events.reduce((view, event, i) => applyEvent(view, i + 1, event), initialJobView('job-1', plan));
}
const replayStarted: EngineEvent[] = [
  { type: 'step.started', at: t(0), step: 'select', title: 'Check backup b1 and 3 WAL segments' },
  { type: 'step.finished', at: t(1), step: 'select', seconds: 1 },
  { type: 'step.started', at: t(1), step: 'replay-wal', title: 'Replay 3 WAL segments, then promote' },
];
const replayAt = (seconds: number, done: number): EngineEvent => ({
  type: 'step.progress', at: t(seconds), step: 'replay-wal', done, total: 1000e6, unit: 'wal-bytes', detail: `replayed to 0/${(0x2000000 + done).toString(16).toUpperCase()} · 20/63 segments fetched`,
});

describe('status message: phase, how far, ETA', () => {
  it.each<[string, EngineEvent[], string[]]>([
    ['started, no progress yet: the plan estimate minus the time it has run (the base restore, not run in this table, still counts as pending)', replayStarted, ['*Now:* Replay 3 WAL segments, then promote', '*ETA:* about 1 min 40 s left in this step (from the plan), about 1 min 58 s for the whole job']],
    [
      'replay after 2 s: history only (the window is too short)',
      [...replayStarted, replayAt(5, 0)],
      [
        '*Now:* Replay 3 WAL segments, then promote',
        '*Replayed:* `0/2000000` of `0/3D9ACA00` [----------] 0% (0 KiB of 953.7 MiB) · 20/63 segments fetched',
        '*ETA:* about 1 min 43 s left in this step at 9.5 MiB/s (from the plan), about 2 min 01 s for the whole job',
      ],
    ],
    [
      // 20 MB/s observed weighs 0.4 at 20 % against the plan's 10 MB/s (src/estimate/eta.ts, TRUST_FRACTION)
      'replay at 20 %: this run\'s rate (20 MB/s) blended with the measured history',
      [...replayStarted, replayAt(5, 0), replayAt(15, 200e6)],
      [
        '*Now:* Replay 3 WAL segments, then promote',
        '*Replayed:* `0/DEBC200` of `0/3D9ACA00` [##--------] 20% (190.7 MiB of 953.7 MiB) · 20/63 segments fetched',
        '*ETA:* about 1 min 07 s left in this step at 11.9 MiB/s (blending this run\'s rate with the measured history), about 1 min 25 s for the whole job',
      ],
    ],
    [
      'replay at 60 %: this run\'s own rate (20 MB/s)',
      [...replayStarted, replayAt(5, 0), replayAt(35, 600e6)],
      [
        '*Now:* Replay 3 WAL segments, then promote',
        '*Replayed:* `0/25C34600` of `0/3D9ACA00` [######----] 60% (572.2 MiB of 953.7 MiB) · 20/63 segments fetched',
        '*ETA:* about 23 s left in this step at 19.1 MiB/s (at the rate measured so far), about 41 s for the whole job',
      ],
    ],
  ])('%s', (_name, events, lines) => {
    const view = running(events);
    expect(currentStepLines(view, new Date(t(6)))).toEqual(lines);
    valid(statusMessage(view, { requestId: 'r', requesterId: 'U0ALICE', approvedBy: [], summary: 'x', command: 'pitr --latest' }, new Date(t(6))));
  });

  it('replay at 20 % with a measured profile: the time so far, scaled by how past restores sped up', () => {
    const plan = restorePlan(4);
    const profile = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
    const profiled = { ...plan, steps: plan.steps.map((s) => (s.kind === 'replay-wal' ? { ...s, estimate: { ...s.estimate!, profile } } : s)) };
    // 14 s since the step started to 20 %, a share of 0.3: 14 × (1 / 0.3 − 1) ≈ 32.7 s of transfer left, plus the 3 s tail
    const view = running([...replayStarted, replayAt(5, 0), replayAt(15, 200e6)], profiled);
    expect(currentStepLines(view, new Date(t(16)))[2]).toBe("*ETA:* about 36 s left in this step at 23.4 MiB/s (from this run's pace so far and how past restores sped up), about 54 s for the whole job");
  });

  it('base restore shows bytes done of the total', () => {
    const view = running([
      { type: 'step.started', at: t(0), step: 'restore-base-backup', title: 'Restore base backup b1 into pitr-x' },
      { type: 'step.progress', at: t(1), step: 'restore-base-backup', done: 16 * 2 ** 20, total: 1e9, unit: 'bytes' },
    ]);
    expect(currentStepLines(view, new Date(t(1)))[1]).toBe('*Progress:* 16.0 MiB of 953.7 MiB [----------] 1%');
  });

  it.each<[string | undefined, string | null]>([
    ['replayed to 0/3A000000', '0/3A000000'],
    ['replayed to 1/ab · 3/9 segments fetched', '1/AB'],
    ['fetching', null],
    [undefined, null],
  ])('replayedLsn(%j)', (detail, lsn) => expect(replayedLsn(detail)).toBe(lsn));

  it('the target LSN is the replayed LSN plus the bytes still to go', () => {
    const step = running([...replayStarted, replayAt(5, 0x1000)]).steps[3]!;
    expect(targetLsn(step)).toBe('0/3D9ACA00');
    expect(targetLsn({ ...step, progress: { ...step.progress!, total: null } })).toBeNull();
  });

  it('job ETA: unknown while a pending step has no estimate', () => {
    const plan = restorePlan(1);
    const view = running(replayStarted, { ...plan, steps: plan.steps.map((s) => (s.kind === 'verify' ? { ...s, estimateSeconds: undefined } : s)) });
    expect(stepEta(view.steps[3]!, new Date(t(6)))?.remainingSeconds).toBe(100);
    expect(jobRemainingSeconds(view, new Date(t(6)))).toBeNull();
  });
});

describe('summary: estimate against actual', () => {
  const input: SummaryInput = {
    jobId: 'job-1', status: 'succeeded', command: 'pitr --latest', summary: 'x', requestedBy: 'U0ALICE', requestedAt: new Date(t(-60)), approvals: [],
    queuedAt: new Date(t(-10)), startedAt: new Date(t(0)), finishedAt: new Date(t(110)),
    steps: [
      { title: 'Restore base backup', state: 'done', seconds: 40, estimateSeconds: 30 },
      { title: 'Replay WAL', state: 'done', seconds: 70, estimateSeconds: 70 },
    ],
    facts: { target: null, to: null, recovery: null, followUps: [] }, integrity: null, error: null, cancelledBy: null,
    estimateBasis: 'measured: median of the last 3 restores on this runner pool',
    objectives: { rpoSeconds: 900, rtoSeconds: 7200 },
  };
  it.each<[string, SummaryInput, string | null]>([
    ['took 10 % longer', input, '*Estimate:* about 1 min 40 s (measured: median of the last 3 restores on this runner pool); the steps took 1 min 50 s (+10% against the estimate)'],
    ['quicker, defaults', { ...input, finishedAt: new Date(t(80)), estimateBasis: null }, '*Estimate:* about 1 min 40 s; the steps took 1 min 20 s (-20% against the estimate)'],
    ['a step without an estimate: no total', { ...input, steps: [...input.steps, { title: 'Copy', state: 'done', seconds: 3 }] }, null],
    ['failed: no comparison', { ...input, status: 'failed' }, null],
  ])('%s', (_name, summary, line) => expect(estimateAgainstActual(summary)).toBe(line));

  it('each step shows its estimate beside what it took', () => {
    const message = summaryMessage(input);
    expect(validateMessageContent(message)).toBeUndefined();
    const text = Transcript.textOf(message);
    expect(text).toContain(':white_check_mark: Restore base backup — 40 s (estimated ~30 s)');
    expect(text).toContain('+10% against the estimate');
  });
});
