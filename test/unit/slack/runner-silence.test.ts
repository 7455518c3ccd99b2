/** A running job's status message says when its runner stopped renewing its lease, before the job is failed as RUNNER_LOST. */
import { describe, expect, it } from 'vitest';
import { runnerSilence, statusMessage } from '../../../src/slack/views/status.js';
import { applyEvent, initialJobView } from '../../../src/slack/views/job-view.js';
import { plan, valid } from './fixtures.js';

describe('runnerSilence', () => {
  it.each([
    // silent s, lease s → shown (seconds rounded down to 5) or not
    [4, 60, null],
    [14.9, 60, null],
    [15, 60, { seconds: 15, leaseSeconds: 60 }],
    [27.4, 60, { seconds: 25, leaseSeconds: 60 }],
    [61, 60, { seconds: 60, leaseSeconds: 60 }],
    [7, 15, null],
    [7.5, 15, { seconds: 5, leaseSeconds: 15 }],
    [14, 300, null],
    [15, 300, { seconds: 15, leaseSeconds: 300 }],
    [Number.NaN, 60, null],
  ])('%f s silent, %i s lease → %j', (silent, lease, expected) => {
    expect(runnerSilence(silent, lease)).toEqual(expected);
  });
});

describe('the status message of a job whose runner went quiet', () => {
  const meta = { requestId: 'r', requesterId: 'U0ALICE', approvedBy: ['U0BOB'], summary: plan.summary, command: 'pitr x' };
  let view = initialJobView('job-1', plan);
  view = applyEvent(view, 1, { type: 'job.started', at: 't', command: 'pitr' });
  view = applyEvent(view, 2, { type: 'step.started', at: 't', step: 'select', title: 'Check backup b1' });

  it('says for how long, and when the job will be marked lost', () => {
    const text = valid(statusMessage(view, { ...meta, silence: { seconds: 25, leaseSeconds: 60 } }, new Date()));
    expect(text).toContain('Runner not heartbeating for 25 s (its lease is 60 s): if it is not back within about 35 s, the job is marked failed (RUNNER_LOST)');
    expect(valid(statusMessage(view, { ...meta, silence: { seconds: 60, leaseSeconds: 60 } }, new Date()))).toContain('about to be marked failed (RUNNER_LOST)');
  });

  it('says nothing when the runner is heard from, or once the job has ended', () => {
    expect(valid(statusMessage(view, { ...meta, silence: null }, new Date()))).not.toContain('heartbeating');
    const ended = applyEvent(view, 3, { type: 'job.failed', at: '2025-01-15T15:00:00Z', code: 'RUNNER_LOST', message: 'lost' });
    expect(valid(statusMessage(ended, { ...meta, silence: { seconds: 60, leaseSeconds: 60 } }, new Date()))).not.toContain('heartbeating');
  });
});
