/**
 * `jobs`, `status [<job>]` and `cancel <job>`: the same words in Slack and the CLI (one
 * definition each), and the CLI's text of a job list and of one job (pure).
 */
import { describe, expect, it } from 'vitest';
import { cancel } from '../../../commands/cancel.js';
import { jobs } from '../../../commands/jobs.js';
import { status } from '../../../commands/status.js';
import type { BotActions } from '../../../commands/types.js';
import { withCommonCliFlags } from '../../../commands/words.js';
import { formatJobList, formatJobStatus } from '../../../src/cli/job-format.js';
import type { JobRecord, RequestRecord } from '../../../src/control/index.js';
import { applyEvent, initialJobView } from '../../../src/slack/views/job-view.js';
import type { Plan } from '../../../src/types.js';
import { refusal } from '../../support/refusal.js';

const ID = '6f1c1f0e-3b0a-4a53-9a43-1f4f1d2b9c11';

describe('the words, the same on both surfaces', () => {
  it.each([
    [jobs, [], { all: false }],
    [jobs, ['--all'], { all: true }],
    [status, [], { all: false }],
    [status, ['--all'], { all: true }],
    [status, [ID], { jobId: ID }],
    [cancel, [ID], { jobId: ID }],
  ] as const)('%#: %j', (command, words, args) => {
    expect(command.parse([...words])).toEqual(args);
    // The CLI: the same parse, plus --json.
    expect(withCommonCliFlags((w) => command.parse(w), [...words, '--json'], ['--json'])).toEqual({ args, cli: { json: true, dryRun: false } });
  });

  it.each([
    [jobs, ['extra'], 'Unexpected words: extra'],
    [jobs, ['--pool', 'x'], 'Unknown option --pool'],
    [status, ['nope'], '"nope" is not a job id'],
    [status, [ID, '--all'], 'takes one job id'],
    [cancel, [], 'Give the id of the job to cancel'],
    [cancel, [ID, ID], 'Give the id of the job to cancel'],
  ] as const)('%#: %j is refused', (command, words, message) => {
    expect(refusal(() => command.parse([...words])).message).toContain(message);
  });

  it('each answers through the surface\'s actions', async () => {
    const calls: string[] = [];
    const actions: BotActions = {
      showHelp: async () => void calls.push('help'),
      listJobs: async (o) => void calls.push(`list ${o.all}`),
      showJob: async (id) => void calls.push(`show ${id}`),
      cancelJob: async (id) => void calls.push(`cancel ${id}`),
    };
    await jobs.answer!(actions, { all: true });
    await status.answer!(actions, { all: false });
    await status.answer!(actions, { jobId: ID });
    await cancel.answer!(actions, { jobId: ID });
    expect(calls).toEqual(['list true', 'list false', `show ${ID}`, `cancel ${ID}`]);
  });
});

const plan: Plan = {
  command: 'pitr', summary: 'Restore a side instance to 2025-01-15 14:29:59 UTC', risk: 'side-copy', facts: {},
  steps: [
    { kind: 'restore-base-backup', title: 'Restore base backup b1', params: {}, destructive: false, estimateSeconds: 60 },
    { kind: 'replay-wal', title: 'Replay WAL', params: {}, destructive: false },
    { kind: 'verify', title: 'Verify', params: {}, destructive: false },
  ],
};
const at = (s: number) => new Date(Date.UTC(2025, 0, 15, 15, 0, s));
const job = (over: Partial<JobRecord> = {}): JobRecord => ({
  id: ID, requestId: 'r1', planDigest: 'd', pool: 'eu', status: 'running', runnerId: 'runner-1', leaseExpiresAt: null, heartbeatAt: null,
  cancelRequested: false, cancelRequestedBy: null, cancelRequestedAt: null, resumeOf: null, createdAt: at(0), startedAt: at(5), finishedAt: null,
  result: null, error: null, slackRefs: {}, authorizedAt: at(5), ...over,
});
const request = { id: 'r1', command: 'pitr', requesterId: 'U0ALICE', createdAt: at(-60) } as RequestRecord;
const running = [
  { type: 'job.started', at: at(5).toISOString(), command: 'pitr' },
  { type: 'step.started', at: at(6).toISOString(), step: 'restore-base-backup', title: 'Restore base backup b1' },
  { type: 'step.finished', at: at(40).toISOString(), step: 'restore-base-backup', seconds: 34 },
  { type: 'step.started', at: at(41).toISOString(), step: 'replay-wal', title: 'Replay WAL' },
  { type: 'step.progress', at: at(50).toISOString(), step: 'replay-wal', done: 5, total: 10, unit: 'segments', detail: 'replayed to 0/5000000' },
] as const;
const view = running.reduce((v, event, i) => applyEvent(v, i + 1, event), initialJobView(ID, plan));

describe('the CLI text', () => {
  it('a running job: who, when, steps with their times, the running step\'s progress, a quiet runner', () => {
    const text = formatJobStatus({ job: job(), request, plan, approvedBy: ['U0BOB'], view, silence: { seconds: 25, leaseSeconds: 60 } });
    expect(text.split('\n')).toEqual([
      `Job ${ID}: running`,
      '  pitr: Restore a side instance to 2025-01-15 14:29:59 UTC',
      '  pool eu · runner runner-1',
      '  requested by U0ALICE at 2025-01-15T14:59:00Z · approved by U0BOB',
      '  queued 2025-01-15T15:00:00Z · started 2025-01-15T15:00:05Z · finished —',
      'Now: replay-wal [#####-----] 50% replayed to 0/5000000',
      'WARNING: the runner has not renewed its lease for 25 s (lease 60 s): the job is marked failed (RUNNER_LOST) if it does not come back.',
      'Steps:',
      '  ✓ 1. Restore base backup b1 — 34 s',
      '  … 2. Replay WAL',
      '  · 3. Verify',
    ]);
  });

  it('a failed job says its error; a cancel asked from a terminal names who', () => {
    const failed = applyEvent(view, 9, { type: 'job.failed', at: at(60).toISOString(), code: 'WAL_GAP', message: 'Segment 0000000100000000000000AB is missing.' });
    expect(formatJobStatus({ job: job({ status: 'failed', finishedAt: at(60) }), request, plan, approvedBy: [], view: failed, silence: null })).toContain('Error [WAL_GAP]: Segment 0000000100000000000000AB is missing.');
    const asked = formatJobStatus({ job: job({ cancelRequested: true, cancelRequestedBy: 'cli:ops@db1', cancelRequestedAt: at(55) }), request, plan, approvedBy: [], view, silence: null });
    expect(asked).toContain('Cancel requested by cli:ops@db1 at 2025-01-15T15:00:55Z; the runner stops at the next safe point.');
  });

  it('the list: active first with their progress, then recent; the pool or every pool', () => {
    const rows = [
      { job: job(), request, summary: plan.summary, view },
      { job: job({ id: 'b2', status: 'succeeded', finishedAt: at(90), pool: 'us' }), request: { ...request, command: 'backups' } as RequestRecord, summary: null, view: null },
    ];
    const text = formatJobList(rows, null);
    expect(text).toMatch(/^Jobs of every pool\nRunning and queued \(1\):\n {2}running {3}6f1c1f0e-3b0a-4a53-9a43-1f4f1d2b9c11 {2}pool eu\n/);
    expect(text).toContain('    now: replay-wal [#####-----] 50% replayed to 0/5000000');
    expect(text).toContain('Recent (1):\n  succeeded b2  pool us\n    backups\n    requested by U0ALICE · created 2025-01-15T15:00:00Z · started 2025-01-15T15:00:05Z · finished 2025-01-15T15:01:30Z');
    expect(formatJobList([], 'eu')).toBe('Jobs of pool eu\nRunning and queued (0):\n  none\nRecent (0):\n  none\nrecover status <job id> shows one job; recover cancel <job id> stops it. recover jobs --all lists every pool.');
  });
});
