/**
 * Every view, rendered with hostile words wherever text from outside can reach it (the typed
 * command, filters, restore-point names and other words echoed in refusals, plan summaries,
 * facts and step titles, runner errors, progress details, integrity checks and table names
 * from production, follow-ups): no mention, broadcast, user-group ping, channel or web link
 * from that text survives into any mrkdwn field or the notification text. Only the bot's own
 * mentions (user(), usergroup(), channelLink()) are live, and they still are.
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS, findCommand } from '../../../commands/index.js';
import { selectRestore } from '../../../src/catalog/select-restore.js';
import { RecoverError } from '../../../src/errors.js';
import type { IntegrityReport } from '../../../src/engine/verify.js';
import { approvalMessage, confirmModal, type ApprovalMessageInput } from '../../../src/slack/views/approval.js';
import { channelLink, user, usergroup, type Block, type SlackMessage } from '../../../src/slack/views/common.js';
import { channelRefusalMessage, commandErrorMessage, failureMessage, helpMessage, notice, unknownCommandMessage } from '../../../src/slack/views/help.js';
import { integrityMessage } from '../../../src/slack/views/integrity.js';
import { applyEvent, initialJobView } from '../../../src/slack/views/job-view.js';
import { planningMessage, planningRefusalMessage, planningStalledMessage, planPreviewMessage, type PlanPreviewInput } from '../../../src/slack/views/plan.js';
import { jobsListMessage, statusMessage } from '../../../src/slack/views/status.js';
import { stepFinishedMessage, summaryMessage, type SummaryInput } from '../../../src/slack/views/summary.js';
import type { Plan } from '../../../src/types.js';
import { slackCommandText } from '../../../src/slack/listeners/commands.js';
import { linearCatalog } from '../catalog/catalog-fixtures.js';

/** What people (or a production table name, or an error) might carry: every way to ping or link, and ways around escaping. */
const HOSTILE = [
  '<@U0EVE>', '<@U0EVE|eve>', '<!channel>', '<!here>', '<!everyone>', '<!subteam^S0EVIL>', '<#C0EVIL>', '<https://evil.example|click>', '<mailto:a@evil.example>',
  '`<@U0EVE>`', '*<!here>*', '```<!channel>```', '&lt;@U0EVE&gt;', '&amp;lt;!here&amp;gt;',
  // a forged marker of the bot's own mentions (its key is random per process)
  '\uE0000000000000000000@U0EVE\uE001', '\uE000@U0EVE\uE001',
].join(' ');

/** The only `<…>` allowed: the mentions the bot itself made below. */
const OWN = /^<(@U0ALICE|@U0BOB|@U0CAROL|!subteam\^S0DBA|#C0INC)>/;

/** Every text Slack reads as mrkdwn: the notification text and mrkdwn objects; plain_text is shown as is. */
function mrkdwnTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => mrkdwnTexts(n, out));
  else if (typeof node === 'object' && node !== null) {
    const record = node as Record<string, unknown>;
    if (record.type === 'mrkdwn' && typeof record.text === 'string') out.push(record.text);
    for (const [key, value] of Object.entries(record)) if (key !== 'text' || typeof value !== 'string') mrkdwnTexts(value, out);
  }
  return out;
}

function allStrings(node: unknown, out: string[] = []): string[] {
  if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) node.forEach((n) => allStrings(n, out));
  else if (typeof node === 'object' && node !== null) Object.values(node).forEach((v) => allStrings(v, out));
  return out;
}

/** Asserts nothing from outside is live; returns the mrkdwn text for further checks. */
function safe(message: SlackMessage | Block): string {
  const texts = 'blocks' in message && typeof message.text === 'string' ? [message.text, ...mrkdwnTexts(message.blocks)] : mrkdwnTexts(message);
  for (const text of texts) {
    for (let i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i + 1)) {
      expect(text.slice(i), `a live <…> in ${JSON.stringify(text)}`).toMatch(OWN);
    }
  }
  // No marker of the bot's mentions reaches Slack, in any field (plain_text included).
  for (const text of allStrings(message)) expect(text).not.toMatch(/[\uE000\uE001]/);
  return texts.join('\n');
}

const plan: Plan = {
  command: 'rows',
  summary: `Restore rows of workflows matching ${HOSTILE}`,
  risk: 'destructive',
  steps: [
    { kind: 'select', title: `Check backup for ${HOSTILE}`, params: {}, destructive: false, estimateSeconds: 2 },
    { kind: 'copy-rows', title: `Insert the rows matching ${HOSTILE}`, params: {}, destructive: true, estimateSeconds: 10 },
  ],
  facts: { Filter: HOSTILE, [HOSTILE]: 'a fact named by someone', Then: `/recover rows workflows --where "${HOSTILE}" --from-instance rows-1` },
  params: {},
};

const preview = (overrides: Partial<PlanPreviewInput> = {}): PlanPreviewInput => ({
  requestId: '11111111-2222-3333-4444-555555555555',
  requesterId: 'U0ALICE',
  commandText: `rows workflows --where "${HOSTILE}" --before-xid 73519`,
  plan,
  digest: 'ab'.repeat(32),
  required: 1,
  approvers: [user('U0BOB'), usergroup('S0DBA')],
  state: { kind: 'open' },
  ...overrides,
});

const approval = (overrides: Partial<ApprovalMessageInput> = {}): ApprovalMessageInput => ({
  requestId: '11111111-2222-3333-4444-555555555555',
  requesterId: 'U0ALICE',
  requestedAt: new Date('2025-01-15T15:00:00Z'),
  plan,
  digest: 'cd'.repeat(32),
  required: 1,
  approvers: [user('U0BOB')],
  votes: [{ userId: 'U0BOB', at: new Date('2025-01-15T15:02:00Z'), expiresAt: new Date('2025-01-15T15:32:00Z') }],
  missing: 1,
  notCounted: [`${user('U0CAROL')} approval has expired`, HOSTILE],
  ttlMinutes: 30,
  state: { kind: 'open' },
  now: new Date('2025-01-15T15:01:00Z'),
  ...overrides,
});

const report: IntegrityReport = {
  ok: false,
  subject: `side instance ${HOSTILE}`,
  checks: [
    { name: `orphans ${HOSTILE}`, ok: false, message: `1 row without a parent; e.g. id=${HOSTILE}` },
    { name: 'compare with production', ok: true, informational: true, message: `informational: ${HOSTILE}` },
    { name: 'amcheck', ok: true, skipped: true, message: `skipped: ${HOSTILE}` },
  ],
  databases: [{ name: HOSTILE, tables: [{ table: HOSTILE, rows: 3, newest: HOSTILE }] }],
};

describe('no live mention, broadcast or link from outside text, in any view', () => {
  it('planning, the stall, the refusal (a restore-point name echoed)', () => {
    const input = { commandText: `pitr --name ${HOSTILE}`, requesterId: 'U0ALICE', pool: 'default' };
    expect(safe(planningMessage(input))).toContain('requested by <@U0ALICE>');
    expect(safe(planningStalledMessage({ ...input, waitedSeconds: 400 }))).toContain('requested by <@U0ALICE>… (no runner has answered yet)');
    const refusal = planningRefusalMessage({ ...input, error: { code: 'BAD_INPUT', message: `"${HOSTILE}" is not a restore point name this tool accepts.`, hint: HOSTILE } });
    expect(safe(refusal)).toContain('&lt;@U0EVE&gt;');
  });

  it('the plan preview (summary, facts, step titles) in every state, and read-only answers', () => {
    for (const state of [{ kind: 'open' }, { kind: 'approval-requested', by: 'U0ALICE' }, { kind: 'cancelled', by: 'U0BOB' }, { kind: 'queued', jobId: 'j1' }] as const) {
      const text = safe(planPreviewMessage(preview({ state })));
      expect(text).toContain('&lt;!channel&gt;');
    }
    expect(safe(planPreviewMessage(preview()))).toContain('from <@U0BOB>, <!subteam^S0DBA>');
    safe(planPreviewMessage(preview({ plan: { ...plan, risk: 'read-only' } })));
    safe(planPreviewMessage(preview({ plan: { ...plan, risk: 'read-only' }, runs: true, required: 0, state: { kind: 'queued', jobId: 'j1' } })));
  });

  it('a real rows plan with a filter holding mentions and links', () => {
    const rows = findCommand('rows')!;
    const args = rows.parse(['workflows', '--where', "note = '<@U0EVE> <!channel> <https://evil.example|x>'", '--before-xid', '4000', '--db', 'aiagent_prod']);
    const real = rows.plan!(args, {
      now: new Date('2025-01-15T10:20:30Z'), production: { name: 'aiagent_prod' }, requestId: '3f2a9c1e-0000-4000-8000-000000000001',
      selection: selectRestore(linearCatalog(), { kind: 'xid', xid: '4000' }), instancesInUse: [],
    });
    expect(JSON.stringify(real)).toContain('<@U0EVE>'); // the words do reach the plan
    expect(safe(planPreviewMessage(preview({ plan: real })))).toContain('&lt;@U0EVE&gt;');
  });

  it('the approval message in every state, and the typed-confirmation modal', () => {
    for (const state of [{ kind: 'open' }, { kind: 'approved', jobId: 'j1' }, { kind: 'rejected', by: 'U0BOB', at: new Date() }, { kind: 'closed', reason: HOSTILE }] as const) {
      safe(approvalMessage(approval({ state })));
    }
    expect(safe(approvalMessage(approval()))).toContain('Not counted: <@U0CAROL> approval has expired');
    safe(confirmModal({ requestId: 'r1', digest: 'd1', expect: 'aiagent_prod', plan }));
  });

  it('the status message, the job list, step replies', () => {
    let view = initialJobView('job-1', plan);
    view = applyEvent(view, 1, { type: 'job.started', at: '2025-01-15T15:00:00Z', command: 'rows' });
    view = applyEvent(view, 2, { type: 'step.started', at: '2025-01-15T15:00:00Z', step: 'select', title: `Checking ${HOSTILE}` });
    view = applyEvent(view, 3, { type: 'step.progress', at: '2025-01-15T15:00:01Z', step: 'select', done: 1, total: 2, unit: 'bytes', detail: HOSTILE });
    const meta = { requestId: 'r', requesterId: 'U0ALICE', approvedBy: ['U0BOB'], summary: plan.summary, command: `rows workflows --where "${HOSTILE}"`, cancelRequestedBy: 'U0CAROL' };
    expect(safe(statusMessage(view, meta, new Date('2025-01-15T15:00:02Z')))).toContain('requested by <@U0ALICE>');
    const failed = applyEvent(view, 4, { type: 'job.failed', at: '2025-01-15T15:00:03Z', code: 'COMMAND_FAILED', message: `column "${HOSTILE}" does not exist` });
    safe(statusMessage(failed, meta, new Date('2025-01-15T15:00:04Z')));
    const rows = [{ jobId: 'job-1', status: 'running' as const, createdAt: new Date(), finishedAt: null, command: meta.command, requesterId: 'U0ALICE', view }];
    expect(safe(jobsListMessage(rows))).toContain('by <@U0ALICE>');
    safe(stepFinishedMessage({ index: 0, title: HOSTILE, seconds: 2, detail: HOSTILE }));
  });

  it('the summary thread, whatever the outcome', () => {
    const base: SummaryInput = {
      jobId: 'job-1', status: 'succeeded', command: `rows workflows --where "${HOSTILE}"`, summary: plan.summary, requestedBy: 'U0ALICE', requestedAt: new Date('2025-01-15T15:00:00Z'),
      approvals: [{ userId: 'U0BOB', at: new Date('2025-01-15T15:01:00Z') }], queuedAt: new Date('2025-01-15T15:01:00Z'), startedAt: new Date('2025-01-15T15:01:01Z'), finishedAt: new Date('2025-01-15T15:05:00Z'),
      steps: [{ title: HOSTILE, state: 'done', seconds: 3 }, { title: HOSTILE, state: 'failed', seconds: null }],
      facts: { target: { text: HOSTILE, time: null }, to: 'side', recovery: { reachedTime: null, replayLsn: HOSTILE, timeline: 2, dataDir: HOSTILE, port: 5433, connect: HOSTILE, oldDataDir: HOSTILE }, followUps: [HOSTILE] },
      integrity: report, error: null, cancelledBy: null, objectives: { rpoSeconds: 900, rtoSeconds: 7200 },
    };
    expect(safe(summaryMessage(base))).toContain('approved by <@U0BOB>');
    safe(summaryMessage({ ...base, facts: { ...base.facts, to: 'in-place' } }));
    safe(summaryMessage({ ...base, status: 'failed', error: { code: 'COMMAND_FAILED', message: HOSTILE } }));
    expect(safe(summaryMessage({ ...base, status: 'cancelled', cancelledBy: 'U0CAROL' }))).toContain('cancel asked by <@U0CAROL>');
  });

  it('the integrity report (names from production\'s catalog)', () => {
    safe(integrityMessage({ report, target: HOSTILE, reached: HOSTILE }));
    safe(integrityMessage({ report: { ...report, subject: undefined } as IntegrityReport, target: HOSTILE, reached: HOSTILE }));
    safe(integrityMessage({ report: { ...report, ok: true, checks: report.checks.map((c) => ({ ...c, ok: true })) }, target: null, reached: null }));
  });

  it('errors, help, unknown commands, the channel refusal, failures and notices', () => {
    const rows = findCommand('rows')!;
    safe(commandErrorMessage(new RecoverError('BAD_INPUT', `"${HOSTILE}" is not a time.`, { hint: HOSTILE }), rows));
    safe(unknownCommandMessage(HOSTILE, COMMANDS));
    expect(safe(channelRefusalMessage(HOSTILE, ['inc-*', 'C0INC']))).toContain('<#C0INC>');
    safe(failureMessage(HOSTILE, new RecoverError('INTERNAL', HOSTILE, { hint: HOSTILE })));
    expect(safe(notice(`:octagonal_sign: ${user('U0ALICE')} cancelled ${HOSTILE}`))).toContain('<@U0ALICE> cancelled');
    // Usage lines hold <table> and the like: shown as typed, never a link.
    expect(safe(helpMessage(COMMANDS))).toContain('&lt;table&gt;');
  });

  it('the bot\'s own mention helpers refuse what is not a Slack id', () => {
    expect(safe(notice(`${user('U0EVE> <!channel')} ${usergroup('x|<!here>')} ${channelLink('<!everyone>')}`))).not.toMatch(/<[@!#]/);
  });
});

describe('what Slack sends', () => {
  it('the command text comes with &, < and > as entities: read as typed (a filter\'s >=, a literal &lt;)', () => {
    expect(slackCommandText(' rows t --where "a &gt;= 1 and b &lt;&gt; 2 and c = \'R&amp;D\'" ')).toBe('rows t --where "a >= 1 and b <> 2 and c = \'R&D\'"');
    expect(slackCommandText('x = \'&amp;lt;\'')).toBe("x = '&lt;'");
  });
});
