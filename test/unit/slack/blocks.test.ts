/**
 * Builders of what people see before anything runs (help, refusals, plan preview, approval,
 * modal): the important text, and every message (even with absurdly large inputs) accepted
 * by the stand-in's validators, which apply Slack's limits.
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../commands/index.js';
import { RecoverError } from '../../../src/errors.js';
import { validateView } from '../../../devkit/slack-standin/index.js';
import { approvalMessage, confirmModal, parseConfirmMetadata, type ApprovalMessageInput } from '../../../src/slack/views/approval.js';
import { escapeMrkdwn, user, usergroup } from '../../../src/slack/views/common.js';
import { channelRefusalMessage, commandErrorMessage, helpMessage, unknownCommandMessage } from '../../../src/slack/views/help.js';
import { planningMessage, planningRefusalMessage, planningStalledMessage, planPreviewMessage, type PlanPreviewInput } from '../../../src/slack/views/plan.js';
import type { Plan } from '../../../src/types.js';
import { huge, plan, valid } from './fixtures.js';

const previewInput = (overrides: Partial<PlanPreviewInput> = {}): PlanPreviewInput => ({
  requestId: '11111111-2222-3333-4444-555555555555',
  requesterId: 'U0ALICE',
  commandText: 'pitr 2025-01-15T14:29:59+00:00 --to in-place',
  plan,
  digest: 'ab'.repeat(32),
  required: 2,
  approvers: [user('U0BOB'), usergroup('S0DBA')],
  state: { kind: 'open' },
  ...overrides,
});

describe('help and refusals', () => {
  it('lists every command with usage and an example', () => {
    const text = valid(helpMessage(COMMANDS));
    for (const command of COMMANDS) {
      // `<table>` and the like are escaped: Slack shows them as typed, never as a link.
      expect(text).toContain(`/recover ${escapeMrkdwn(command.usage)}`);
      expect(text).toContain(command.example);
    }
  });

  it('answers errors with the message, the hint, and usage plus example when the hint lacks them', () => {
    const pitr = COMMANDS.find((c) => c.name === 'pitr')!;
    const text = valid(commandErrorMessage(new RecoverError('TARGET_NO_ZONE', 'The time has no time zone.'), pitr));
    expect(text).toContain(':x: The time has no time zone.');
    expect(text).toContain(`Usage: \`/recover ${escapeMrkdwn(pitr.usage)}\``);
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

  it('keeps injected mentions literal (user mentions too) but the bot\'s own mentions working', () => {
    expect(escapeMrkdwn('<!channel> & <@U0BOB> <https://evil|x>')).toBe('&lt;!channel&gt; &amp; &lt;@U0BOB&gt; &lt;https://evil|x&gt;');
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
    approvers: [user('U0BOB')],
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
    const partial = valid(approvalMessage(input({ votes, missing: 1, notCounted: [`${user('U0CAROL')} approval has expired`] })));
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
