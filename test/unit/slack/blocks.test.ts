/**
 * The Block Kit builders: the important text of each message, and every message (even with
 * absurdly large inputs) accepted by the stand-in's validators, which apply Slack's limits.
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../commands/index.js';
import { RecoverError } from '../../../src/errors.js';
import { validateBlocks, validateMessageContent, validateView, Transcript } from '../../../src/slack-standin/index.js';
import { approvalMessage, confirmModal, parseConfirmMetadata, type ApprovalMessageInput } from '../../../src/slack/blocks/approval.js';
import { escapeMrkdwn, fitMessage, formatDuration, formatUtc, progressBar, section, type SlackMessage } from '../../../src/slack/blocks/common.js';
import { channelRefusalMessage, commandErrorMessage, helpMessage, unknownCommandMessage } from '../../../src/slack/blocks/help.js';
import { integrityMessage } from '../../../src/slack/blocks/integrity.js';
import { planningMessage, planningRefusalMessage, planningStalledMessage, planPreviewMessage, type PlanPreviewInput } from '../../../src/slack/blocks/plan.js';
import { jobsListMessage, statusMessage } from '../../../src/slack/blocks/status.js';
import { applyEvent, initialJobView } from '../../../src/slack/job-view.js';
import type { IntegrityReport } from '../../../src/engine/verify.js';
import type { Plan } from '../../../src/types.js';

function valid(message: SlackMessage): string {
  expect(validateMessageContent({ text: message.text, blocks: message.blocks })).toBeUndefined();
  expect(validateBlocks(message.blocks, 'message')).toEqual([]);
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  return Transcript.textOf({ text: message.text, blocks: message.blocks });
}

const plan: Plan = {
  command: 'pitr',
  summary: 'Point-in-time recovery to time 2025-01-15T14:29:59.000Z into production aiagent_prod (in place; old data directory kept)',
  risk: 'destructive',
  steps: [
    { kind: 'select', title: 'Check backup b1 and 58 WAL segments', params: {}, destructive: false, estimateSeconds: 2 },
    { kind: 'stop-production', title: 'Stop production aiagent_prod', params: {}, destructive: true, estimateSeconds: 10 },
    { kind: 'replay-wal', title: 'Replay 58 WAL segments, then promote', params: {}, destructive: true, estimateSeconds: 120 },
  ],
  facts: { Target: 'time 2025-01-15T14:29:59.000Z', 'Base backup': 'b1' },
  params: { target: { kind: 'time', time: '2025-01-15T14:29:59.000Z' }, to: 'in-place' },
};

const huge = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix} ${i} ${'x'.repeat(80)}`);

const previewInput = (overrides: Partial<PlanPreviewInput> = {}): PlanPreviewInput => ({
  requestId: '11111111-2222-3333-4444-555555555555',
  requesterId: 'U0ALICE',
  commandText: 'pitr 2025-01-15T14:29:59+00:00 --to in-place',
  plan,
  digest: 'ab'.repeat(32),
  required: 2,
  approvers: ['<@U0BOB>', '<!subteam^S0DBA>'],
  state: { kind: 'open' },
  ...overrides,
});

describe('help and refusals', () => {
  it('lists every command with usage and an example', () => {
    const text = valid(helpMessage(COMMANDS));
    for (const command of COMMANDS) {
      expect(text).toContain(`/recover ${command.usage}`);
      expect(text).toContain(command.example);
    }
  });

  it('answers errors with the message, the hint, and usage plus example when the hint lacks them', () => {
    const pitr = COMMANDS.find((c) => c.name === 'pitr')!;
    const text = valid(commandErrorMessage(new RecoverError('TARGET_NO_ZONE', 'The time has no time zone.'), pitr));
    expect(text).toContain(':x: The time has no time zone.');
    expect(text).toContain(`Usage: \`/recover ${pitr.usage}\``);
    expect(text).toContain(`Example: \`${pitr.example}\``);
    const withHint = valid(commandErrorMessage(new RecoverError('BAD_INPUT', 'Bad.', { hint: `Example: ${pitr.example}` }), pitr));
    expect(withHint).not.toContain('Usage:');
    expect(valid(unknownCommandMessage('restore', COMMANDS))).toContain('There is no `/recover` subcommand `restore`');
  });

  it('says where /recover is allowed', () => {
    const text = valid(channelRefusalMessage('general', ['inc-*', 'C0123ABC']));
    expect(text).toContain('not enabled in `#general`');
    expect(text).toContain('`#inc-*`, <#C0123ABC>');
  });

  it('keeps injected mentions literal but real user mentions working', () => {
    expect(escapeMrkdwn('<!channel> & <@U0BOB> <https://evil|x>')).toBe('&lt;!channel&gt; &amp; <@U0BOB> &lt;https://evil|x&gt;');
    const text = valid(planningMessage({ commandText: 'pitr <!here>', requesterId: 'U0ALICE', pool: 'default' }));
    expect(text).toContain('&lt;!here&gt;');
    expect(text).not.toContain('<!here>');
  });
});

describe('planning and the plan preview', () => {
  it('shows planning, a stall, and a refusal', () => {
    expect(valid(planningMessage({ commandText: 'pitr x', requesterId: 'U0ALICE', pool: 'eu' }))).toContain('Planning `/recover pitr x` requested by <@U0ALICE>');
    expect(valid(planningStalledMessage({ commandText: 'pitr x', requesterId: 'U0ALICE', pool: 'eu', waitedSeconds: 301 }))).toContain('No runner of pool `eu` has answered for 5 min 01 s');
    const refusal = valid(planningRefusalMessage({ commandText: 'pitr x', requesterId: 'U0ALICE', error: { code: 'WAL_GAP', message: 'WAL is missing.', hint: 'Pick another target.' } }));
    expect(refusal).toContain('cannot run: WAL is missing.');
    expect(refusal).toContain('Pick another target.');
  });

  it('previews facts, numbered steps with destructive ones marked, duration, risk, approvals and buttons', () => {
    const message = planPreviewMessage(previewInput());
    const text = valid(message);
    expect(text).toContain('*Target:* time 2025-01-15T14:29:59.000Z');
    expect(text).toContain('1. Check backup b1 and 58 WAL segments _(~2.0 s)_');
    expect(text).toContain('2. Stop production aiagent_prod :warning: *destructive* _(~10 s)_');
    expect(text).toContain('*Expected duration:* about 2 min 12 s');
    expect(text).toContain(':warning: destructive: changes production');
    expect(text).toContain('*Approvals needed:* 2 (not the requester) from <@U0BOB>, <!subteam^S0DBA>');
    expect(text).toContain('Plan digest `abababababab`');
    const buttons = message.blocks.at(-1)!;
    expect(buttons).toMatchObject({ type: 'actions', elements: [{ action_id: 'recover_request_approval', value: previewInput().requestId }, { action_id: 'recover_cancel_request' }] });
  });

  it('drops the buttons once approval is requested or the request is cancelled', () => {
    for (const state of [{ kind: 'approval-requested', by: 'U0ALICE' }, { kind: 'cancelled', by: 'U0BOB' }, { kind: 'queued', jobId: 'j' }] as const) {
      const message = planPreviewMessage(previewInput({ state }));
      valid(message);
      expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    }
  });

  it('answers read-only commands with their facts and no buttons', () => {
    const message = planPreviewMessage(previewInput({ plan: { ...plan, command: 'backups', risk: 'read-only', facts: { Gaps: 'none' } }, commandText: 'backups' }));
    expect(valid(message)).toContain('*Gaps:* none');
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('fits huge plans into one message and keeps the buttons', () => {
    const big: Plan = {
      ...plan,
      steps: huge(300, 'step').map((title, i) => ({ kind: `k${i}`, title, params: {}, destructive: i % 2 === 0, estimateSeconds: 1 })),
      facts: Object.fromEntries(huge(100, 'fact').map((f, i) => [`Fact ${i}`, f.repeat(5)])),
    };
    const message = planPreviewMessage(previewInput({ plan: big }));
    valid(message);
    expect(message.blocks.at(-1)?.type).toBe('actions');
  });
});

describe('approval message and confirmation modal', () => {
  const input = (overrides: Partial<ApprovalMessageInput> = {}): ApprovalMessageInput => ({
    requestId: '11111111-2222-3333-4444-555555555555',
    requesterId: 'U0ALICE',
    requestedAt: new Date('2025-01-15T15:00:00Z'),
    plan,
    digest: 'cd'.repeat(32),
    required: 2,
    approvers: ['<@U0BOB>'],
    votes: [],
    missing: 2,
    notCounted: [],
    ttlMinutes: 30,
    state: { kind: 'open' },
    now: new Date('2025-01-15T15:01:00Z'),
    ...overrides,
  });

  it('says what will run, who asked, what is missing, when approvals expire; Approve/Reject', () => {
    const message = approvalMessage(input());
    const text = valid(message);
    expect(text).toContain('*What will run:* Point-in-time recovery');
    expect(text).toContain('*Plan digest:* `cdcdcdcdcdcd`');
    expect(text).toContain('*Requested by:* <@U0ALICE> at 2025-01-15 15:00:00 UTC');
    expect(text).toContain('*Still needed:* 2 more approvals from <@U0BOB> (not <@U0ALICE>, who asked)');
    expect(text).toContain('each approval stays valid for 30 min (one given now: until 2025-01-15 15:31:00 UTC)');
    expect(message.blocks.at(-1)).toMatchObject({ type: 'actions', elements: [{ action_id: 'recover_approve', style: 'primary' }, { action_id: 'recover_reject', style: 'danger' }] });
  });

  it('shows who approved and when, and ends without buttons when approved or rejected', () => {
    const votes = [{ userId: 'U0BOB', at: new Date('2025-01-15T15:02:00Z'), expiresAt: new Date('2025-01-15T15:32:00Z') }];
    const partial = valid(approvalMessage(input({ votes, missing: 1, notCounted: ['<@U0CAROL> approval has expired'] })));
    expect(partial).toContain('*Approved by:* <@U0BOB> at 2025-01-15 15:02:00 UTC (valid until 2025-01-15 15:32:00 UTC)');
    expect(partial).toContain('1 more approval from');
    expect(partial).toContain('Not counted: <@U0CAROL> approval has expired');
    for (const state of [{ kind: 'approved', jobId: 'abcdef12-0000' }, { kind: 'rejected', by: 'U0BOB', at: new Date() }] as const) {
      const message = approvalMessage(input({ votes, missing: 1, state }));
      valid(message);
      expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    }
    expect(valid(approvalMessage(input({ state: { kind: 'rejected', by: 'U0BOB', at: new Date('2025-01-15T15:05:00Z') } })))).toContain('Rejected by <@U0BOB> at 2025-01-15 15:05:00 UTC');
  });

  it('builds a valid modal asking for the production name, with its metadata round-tripping', () => {
    const view = confirmModal({ requestId: 'r1', digest: 'd1', expect: 'aiagent_prod', plan });
    expect(validateView(view)).toBeUndefined();
    expect(JSON.stringify(view)).toContain('Type aiagent_prod to confirm');
    expect(parseConfirmMetadata(String(view.private_metadata))).toEqual({ requestId: 'r1', digest: 'd1', expect: 'aiagent_prod' });
    expect(parseConfirmMetadata('not json')).toBeNull();
    expect(parseConfirmMetadata('{"requestId":1}')).toBeNull();
  });
});

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
