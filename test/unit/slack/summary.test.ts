import { describe, expect, it } from 'vitest';
import { validateMessageContent, Transcript } from '../../../devkit/slack-standin/index.js';
import { dataLossSeconds, summaryMessage, summaryTarget, type SummaryInput } from '../../../src/slack/views/summary.js';
import { summaryFactsOf } from '../../../src/slack/flows/summary-facts.js';
import type { Plan } from '../../../src/types.js';

/** The pitr command's contribution, from stored params and a result as the runner stores them. */
const pitrFacts = (params: Record<string, unknown>, result: unknown) =>
  summaryFactsOf({ command: 'pitr', summary: '', risk: 'side-copy', steps: [], facts: {}, params } satisfies Plan, result);
const TIME = { kind: 'time', time: '2025-01-15T14:29:59Z' };

const base: SummaryInput = {
  jobId: 'job-1',
  status: 'succeeded',
  command: 'pitr 2025-01-15T14:29:59+00:00',
  summary: 'Point-in-time recovery',
  requestedBy: 'U0ALICE',
  requestedAt: new Date('2025-01-15T15:00:00Z'),
  approvals: [{ userId: 'U0BOB', at: new Date('2025-01-15T15:02:00Z') }],
  queuedAt: new Date('2025-01-15T15:02:00Z'),
  startedAt: new Date('2025-01-15T15:02:05Z'),
  finishedAt: new Date('2025-01-15T15:30:00Z'),
  steps: [
    { title: 'Restore', state: 'done', seconds: 600 },
    { title: 'Replay', state: 'done', seconds: 1000 },
  ],
  facts: pitrFacts({ target: TIME, to: 'side' }, { reachedTime: '2025-01-15T14:29:50Z', connect: 'postgresql://h:5999/postgres', dataDir: '/r/data', timeline: 2, replayLsn: '0/1' }),
  integrity: { ok: true, checks: [{ name: 'c', ok: true, message: '' }], databases: [] },
  error: null,
  cancelledBy: null,
  // The defaults of RECOVER_RPO_MINUTES and RECOVER_RTO_MINUTES.
  objectives: { rpoSeconds: 15 * 60, rtoSeconds: 2 * 3600 },
};

function text(input: SummaryInput): string {
  const message = summaryMessage(input);
  expect(validateMessageContent(message)).toBeUndefined();
  return Transcript.textOf(message);
}

describe('summary', () => {
  it('tells the whole story of a successful side restore', () => {
    const t = text(base);
    expect(t).toContain('`2025-01-15 15:00:00 UTC` requested by <@U0ALICE>');
    expect(t).toContain('`2025-01-15 15:02:00 UTC` approved by <@U0BOB>');
    expect(t).toContain(':white_check_mark: Replay — 16 min 40 s');
    expect(t).toContain('`2025-01-15 15:30:00 UTC` finished: *succeeded*');
    expect(t).toContain('*Data-loss window:* 9.0 s (target − reached), within the 15 min RPO');
    expect(t).toContain('*Time to recover:* 30 min from request to finish, within the 2 h RTO (25% used)');
    expect(t).toContain('The side instance is running at `postgresql://h:5999/postgres` (data `/r/data`)');
    expect(t).toContain("then stop and remove it: on the runner's host, `recover instances remove r --stop`");
  });

  it('flags a data-loss window beyond the RPO and a run beyond the RTO', () => {
    const t = text({
      ...base,
      facts: pitrFacts({ target: TIME, to: 'side' }, { reachedTime: '2025-01-15T14:00:00Z' }),
      finishedAt: new Date('2025-01-15T17:30:00Z'),
    });
    expect(t).toContain('*exceeds* the 15 min RPO by 14 min 59 s');
    expect(t).toContain('*over* the 2 h RTO by 30 min');
    expect(t).toContain('The data-loss window exceeds the RPO');
  });

  it('measures against the configured RPO and RTO (RECOVER_RPO_MINUTES, RECOVER_RTO_MINUTES), not fixed ones', () => {
    const tight = text({ ...base, objectives: { rpoSeconds: 5, rtoSeconds: 20 * 60 } });
    expect(tight).toContain('*Data-loss window:* 9.0 s (target − reached), :warning: *exceeds* the 5.0 s RPO by 4.0 s');
    expect(tight).toContain('*Time to recover:* 30 min from request to finish, :warning: *over* the 20 min RTO by 10 min');
    expect(tight).toContain('The data-loss window exceeds the RPO');
    expect(tight).toContain('RPO 5.0 s · RTO 20 min');
    const loose = text({ ...base, objectives: { rpoSeconds: 3600, rtoSeconds: 4 * 3600 } });
    expect(loose).toContain('within the 1 h RPO');
    expect(loose).toContain('within the 4 h RTO (13% used)');
    expect(loose).not.toContain('15 min RPO');
  });

  it('explains an in-place restore and a failed integrity check', () => {
    const t = text({ ...base, facts: pitrFacts({ target: TIME, to: 'in-place' }, { reachedTime: '2025-01-15T14:29:59Z', oldDataDir: '/pg/old', timeline: 3 }), integrity: { ok: false, checks: [{ name: 'amcheck', ok: false, message: 'x' }], databases: [] } });
    expect(t).toContain('Production now runs the recovered data on timeline 3');
    expect(t).toContain('previous data directory is kept at `/pg/old`');
    expect(t).toContain('*Integrity:* :x: FAILED — amcheck');
    expect(t).toContain('Integrity checks failed: do not use the restored data');
  });

  it('gives advice for failures and cancellations', () => {
    const failed = text({ ...base, status: 'failed', facts: pitrFacts({ target: TIME, to: 'side' }, null), integrity: null, steps: [{ title: 'Restore', state: 'failed', seconds: null }], error: { code: 'RUNNER_LOST', message: 'Runner r1 stopped renewing its lease' } });
    expect(failed).toContain('*Error* `RUNNER_LOST`: Runner r1 stopped renewing its lease');
    expect(failed).toContain('The failing step was "Restore"');
    expect(failed).toContain('Look at the runner host');
    expect(failed).toContain(':x: Restore — did not finish');
    const unknown = text({ ...base, status: 'failed', facts: pitrFacts({ target: TIME, to: 'side' }, null), error: { code: 'SOMETHING_NEW', message: 'x' } });
    expect(unknown).toContain('Read the error above');
    const cancelled = text({ ...base, status: 'cancelled', facts: pitrFacts({ target: TIME, to: 'side' }, null), cancelledBy: 'U0BOB' });
    expect(cancelled).toContain('finished: *cancelled* (cancel asked by <@U0BOB>)');
    expect(cancelled).toContain('Cancelled by <@U0BOB>');
  });

  it('a verify job shows no recovery point or data-loss window, only the integrity verdict', () => {
    const facts = summaryFactsOf({ command: 'verify', summary: '', risk: 'read-only', steps: [], facts: {}, params: { instance: null, databases: null } }, { checked: 'production aiagent_prod', report: { ok: false } });
    const t = text({ ...base, command: 'verify', approvals: [], facts, integrity: { ok: false, checks: [{ name: 'database x', ok: false, message: 'missing' }], databases: [] } });
    expect(t).not.toContain('Recovery point');
    expect(t).not.toContain('Data-loss window');
    expect(t).not.toContain('side instance');
    expect(t).toContain('*Integrity:* :x: FAILED — database x');
    expect(t).toContain('look at the failed checks in the report above');
  });

  it('reads targets of every kind', () => {
    const planTarget = (params: Record<string, unknown>) => summaryTarget(pitrFacts(params, null).target);
    expect(planTarget({ target: { kind: 'time', time: '2025-01-15T14:29:59.000Z' } })).toEqual({ text: '2025-01-15 14:29:59 UTC', time: new Date('2025-01-15T14:29:59Z') });
    expect(planTarget({ target: { kind: 'time', time: '2025-01-15T14:29:59.120555+00:00' } }).text).toBe('2025-01-15 14:29:59.120555 UTC');
    expect(planTarget({ target: { kind: 'lsn', lsn: '0/3A' } }).text).toBe('LSN 0/3A');
    expect(planTarget({ target: { kind: 'latest' } })).toEqual({ text: 'end of the archived WAL (latest)', time: null });
    expect(planTarget({})).toEqual({ text: null, time: null });
    expect(pitrFacts({ to: 'in-place' }, null).to).toBe('in-place');
    expect(pitrFacts({}, null).to).toBeNull();
    expect(summaryFactsOf({ command: 'no-such-command', summary: '', risk: 'read-only', steps: [], facts: {} }, {})).toEqual({ target: null, to: null, recovery: null, followUps: [] });
    expect(dataLossSeconds(new Date('2025-01-15T14:29:59Z'), '2025-01-15T14:29:58.5Z')).toBe(0.5);
    expect(dataLossSeconds(null, '2025')).toBeNull();
    expect(dataLossSeconds(new Date(), 'not a time')).toBeNull();
  });

  it('gives no generic side-instance advice to a command whose follow-ups handle its side instance (rows copies and removes it)', () => {
    const generic = /extract the rows you need/;
    expect(text(base)).toMatch(generic);
    const rows = { ...base, facts: { ...base.facts, followUps: ['copy with /recover rows … --from-instance pitr-x'], sideInstanceHandled: true } };
    expect(text(rows)).not.toMatch(generic);
    expect(text(rows)).toContain('--from-instance pitr-x');
  });
});
