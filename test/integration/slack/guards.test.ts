/**
 * What the bot refuses or guards against, through real Bolt, the stand-in and a control DB:
 * channels not allowed, bad input, replayed commands, the destructive confirmation modal,
 * rejects, planning refusals, and read-only answers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecoverError } from '../../../src/errors.js';
import { ACTIONS } from '../../../src/slack/views/common.js';
import type { Plan } from '../../../src/types.js';
import { closeHarness, findTop, GENERAL, type Harness, INCIDENT, pitrPlan, PRIVATE_HIDDEN, PRIVATE_INCIDENT, PRIVATE_OTHER, startHarness, textOf, waitForJob } from './harness.js';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await closeHarness(h);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a command as alice and waits for the plan preview of request n. */
async function previewFor(plan: (time: string) => Plan, text: string, n = 1) {
  const { slack, runner } = h;
  await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text });
  const request = await runner.waitForRequest(n);
  await runner.plan(request.id, plan('2025-01-15T14:29:59Z'));
  const t = slack.transcript;
  const preview = await t.waitFor(() => t.messages(INCIDENT).find((m) => /Request approval/.test(textOf(m))));
  return { request, preview };
}

describe('recover-bot guards', () => {
  it('refuses /recover outside the allowed channels, saying where it works, and files nothing', async () => {
    const { slack, runner } = h;
    const result = await slack.slashCommand({ user: 'U0ALICE', channel: GENERAL, text: 'pitr 2025-01-15T14:29:59+00:00' });
    expect(result.body).toBe('');
    const refusal = await slack.transcript.waitFor(() => slack.transcript.ephemerals(GENERAL, 'U0ALICE')[0]);
    expect(textOf(refusal)).toContain('is not enabled in `#general`');
    expect(textOf(refusal)).toContain('It works only in: `#inc-*`');
    await sleep(200);
    expect(await runner.requests()).toEqual([]);
    expect(slack.transcript.messages(GENERAL)).toEqual([]);
  });

  it('matches a private channel (sent as `privategroup`) by its name from conversations.info, asked once', async () => {
    const { slack, runner } = h;
    const t = slack.transcript;
    const infoCalls = () => slack.calls.filter((c) => c.method === 'conversations.info');
    // inc-private-outage matches inc-*: the command is filed like in a public channel.
    await slack.slashCommand({ user: 'U0ALICE', channel: PRIVATE_INCIDENT, text: 'pitr 2025-01-15T14:29:59+00:00' });
    const request = await runner.waitForRequest();
    expect(request.channelId).toBe(PRIVATE_INCIDENT);
    expect(slack.sentRequests.find((r) => r.kind === 'slash_command')?.rawBody).toContain('channel_name=privategroup');
    await slack.slashCommand({ user: 'U0ALICE', channel: PRIVATE_INCIDENT, text: 'help' });
    await t.waitFor(() => t.ephemerals(PRIVATE_INCIDENT, 'U0ALICE').find((m) => /\/recover commands/.test(m.text ?? '')));
    expect(infoCalls().map((c) => c.params.channel)).toEqual([PRIVATE_INCIDENT]);

    // A private channel named otherwise is refused by its real name.
    await slack.slashCommand({ user: 'U0ALICE', channel: PRIVATE_OTHER, text: 'help' });
    const refusal = await t.waitFor(() => t.ephemerals(PRIVATE_OTHER, 'U0ALICE')[0]);
    expect(textOf(refusal)).toContain('is not enabled in `#secret-plans`');

    // One the bot is not in: Slack will not name it, so it is refused, saying how to fix it.
    await slack.slashCommand({ user: 'U0ALICE', channel: PRIVATE_HIDDEN, text: 'help' });
    const unreadable = await t.waitFor(() => t.ephemerals(PRIVATE_HIDDEN, 'U0ALICE')[0]);
    expect(textOf(unreadable)).toContain('`channel_not_found`');
    expect(textOf(unreadable)).toContain('/invite @recover-bot');
    expect(textOf(unreadable)).toContain(PRIVATE_HIDDEN);
    expect(await runner.requests()).toHaveLength(1);
  });

  it('answers unknown subcommands and bad arguments privately, with usage and a correct example', async () => {
    const { slack } = h;
    const t = slack.transcript;
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'restore everything' });
    const unknown = await t.waitFor(() => t.ephemerals(INCIDENT, 'U0ALICE')[0]);
    expect(textOf(unknown)).toContain('There is no `/recover` subcommand `restore`');
    expect(textOf(unknown)).toContain('`/recover help`');

    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'pitr 2025-01-15T14:29:59+00:00 --to sideways' });
    const bad = await t.waitFor(() => t.ephemerals(INCIDENT, 'U0ALICE')[1]);
    expect(textOf(bad)).toMatch(/Cannot use these options: --to/);
    expect(textOf(bad)).toContain('Example: /recover pitr 2025-01-15T14:29:59+00:00 --db aiagent_prod');

    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'help' });
    const help = await t.waitFor(() => t.ephemerals(INCIDENT, 'U0ALICE')[2]);
    for (const name of ['help', 'pitr', 'backups', 'status', 'cancel']) expect(textOf(help)).toContain(`/recover ${name}`);
    expect(textOf(help)).toContain('Example: `/recover cancel 6f1c1f0e-3b0a-4a53-9a43-1f4f1d2b9c11`');
    expect(t.messages(INCIDENT)).toEqual([]);
  });

  it('does not file a second request when a signed slash command is replayed verbatim', async () => {
    const { slack, runner } = h;
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'pitr 2025-01-15T14:29:59+00:00' });
    await runner.waitForRequest();
    const original = slack.sentRequests.find((r) => r.kind === 'slash_command')!;
    const replay = await slack.replay(original);
    expect(replay.status).toBe(200);
    await sleep(300);
    expect(await runner.requests()).toHaveLength(1);
    expect(slack.transcript.messages(INCIDENT).filter((m) => /Planning/.test(textOf(m)))).toHaveLength(1);
  });

  it('makes the requester of an in-place restore type the production name in a modal', async () => {
    const { slack } = h;
    const t = slack.transcript;
    const { preview } = await previewFor((time) => pitrPlan(time, 'in-place'), 'pitr 2025-01-15T14:29:59+00:00 --to in-place');
    expect(textOf(preview)).toContain('Stop production aiagent_prod :warning: *destructive*');
    expect(textOf(preview)).toContain(':warning: destructive: changes production');

    await slack.clickButton({ user: 'U0ALICE', channel: INCIDENT, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
    const modal = await t.waitFor(() => t.views('U0ALICE').find((v) => v.status === 'open'));
    expect(JSON.stringify(modal.definition)).toContain('Type aiagent_prod to confirm');

    const wrong = await slack.submitView({ user: 'U0ALICE', viewId: modal.id, values: { confirm_name: { name: 'aiagent-prod' } } });
    expect(wrong.responseAction).toBe('errors');
    expect(wrong.errors?.confirm_name).toContain('type exactly "aiagent_prod"');
    expect(t.view(modal.id)?.status).toBe('open');
    expect(findTop(slack, INCIDENT, /Approval needed/)).toBeUndefined();

    const right = await slack.submitView({ user: 'U0ALICE', viewId: modal.id, values: { confirm_name: { name: 'aiagent_prod' } } });
    expect(right.responseAction).toBeUndefined();
    expect(t.view(modal.id)?.status).toBe('closed');
    const approval = await t.waitFor(() => findTop(slack, INCIDENT, /Approval needed/));
    expect(textOf(approval)).toContain('1 more approval');

    // A member of the approver user group counts as an approver.
    await slack.clickButton({ user: 'U0DAVE', channel: INCIDENT, messageTs: approval.ts, actionId: ACTIONS.approve });
    const job = await waitForJob(h.runner);
    expect(job.status).toBe('queued');
  });

  it('ends the request on a reject: message updated, buttons gone, nothing queued', async () => {
    const { slack, runner } = h;
    const t = slack.transcript;
    const { request, preview } = await previewFor((time) => pitrPlan(time), 'pitr 2025-01-15T14:29:59+00:00');
    await slack.clickButton({ user: 'U0ALICE', channel: INCIDENT, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
    const approval = await t.waitFor(() => findTop(slack, INCIDENT, /Approval needed/));
    await slack.clickButton({ user: 'U0BOB', channel: INCIDENT, messageTs: approval.ts, actionId: ACTIONS.reject });
    await t.waitFor(() => /Rejected by <@U0BOB>/.test(textOf(t.message(INCIDENT, approval.ts))));
    const rejected = t.message(INCIDENT, approval.ts)!;
    expect(textOf(rejected)).toContain('Nothing will run');
    expect(rejected.blocks?.some((b) => b.type === 'actions')).toBe(false);
    await t.waitFor(() => /Cancelled by <@U0BOB>; nothing will run/.test(textOf(t.message(INCIDENT, preview.ts))));
    expect((await runner.requests())[0]).toMatchObject({ id: request.id, status: 'rejected' });
    expect(await runner.jobs()).toEqual([]);
  });

  it('binds an approval to the plan the message showed: a re-plan voids it and is shown before anyone approves', async () => {
    const { slack, runner } = h;
    const t = slack.transcript;
    const { request, preview } = await previewFor((time) => pitrPlan(time), 'pitr 2025-01-15T14:29:59+00:00');
    await slack.clickButton({ user: 'U0ALICE', channel: INCIDENT, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
    const approval = await t.waitFor(() => findTop(slack, INCIDENT, /Approval needed/));
    const firstDigest = /digest `([0-9a-f]{12})`/.exec(textOf(approval))![1]!;

    // The runner re-plans while the approval message is up; Slack holds the update back for a moment (429s).
    slack.rateLimit('chat.update', { count: 2, retryAfterSeconds: 1 });
    const replanned = { ...pitrPlan('2025-01-15T14:29:59Z'), facts: { Target: 'time 2025-01-15T14:29:59.000Z', 'Base backup': 'b2 (newer)' } };
    await runner.plan(request.id, replanned);

    // Bob clicks the message as it still shows the old plan: refused, nothing recorded.
    expect(textOf(t.message(INCIDENT, approval.ts))).toContain(firstDigest);
    await slack.clickButton({ user: 'U0BOB', channel: INCIDENT, messageTs: approval.ts, actionId: ACTIONS.approve });
    await t.waitFor(() => t.ephemerals(INCIDENT, 'U0BOB').find((m) => /The plan changed since you looked at it/.test(textOf(m))));
    expect(await runner.jobs()).toEqual([]);

    // The message converges to the new plan; approving that one queues a job bound to it.
    const shown = await t.waitFor(() => {
      const m = t.message(INCIDENT, approval.ts);
      return m && !textOf(m).includes(firstDigest) && /Approval needed/.test(textOf(m)) ? m : undefined;
    }, 10_000);
    expect(textOf(shown)).toContain('1 more approval');
    const shownBlockId = (shown.blocks!.find((b) => b.type === 'actions') as { block_id: string }).block_id;
    await slack.clickButton({ user: 'U0BOB', channel: INCIDENT, messageTs: approval.ts, actionId: ACTIONS.approve });
    const job = await waitForJob(runner);
    expect(`approval:${job.planDigest}`).toBe(shownBlockId);
    expect(job.planDigest.startsWith(firstDigest)).toBe(false);
  });

  it('lets the requester cancel from the preview, and refuses bystanders', async () => {
    const { slack, runner } = h;
    const t = slack.transcript;
    const { preview } = await previewFor((time) => pitrPlan(time), 'pitr 2025-01-15T14:29:59+00:00');
    await slack.clickButton({ user: 'U0CAROL', channel: INCIDENT, messageTs: preview.ts, actionId: ACTIONS.cancelRequest });
    await t.waitFor(() => t.ephemerals(INCIDENT, 'U0CAROL').find((m) => /Only <@U0ALICE>, who asked, or a configured approver can cancel/.test(textOf(m))));
    await slack.clickButton({ user: 'U0ALICE', channel: INCIDENT, messageTs: preview.ts, actionId: ACTIONS.cancelRequest });
    await t.waitFor(() => /Cancelled by <@U0ALICE>; nothing will run/.test(textOf(t.message(INCIDENT, preview.ts))));
    expect(t.message(INCIDENT, preview.ts)?.blocks?.some((b) => b.type === 'actions')).toBe(false);
    expect((await runner.requests())[0]?.status).toBe('rejected');
  });

  it("shows the runner's planning refusal with its hint", async () => {
    const { slack, runner } = h;
    const t = slack.transcript;
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'pitr 2030-01-01T00:00:00+00:00' });
    const request = await runner.waitForRequest();
    await runner.refuse(request.id, new RecoverError('TARGET_OUTSIDE_WINDOW', 'Time 2030-01-01T00:00:00.000Z is after the newest archived WAL.', { hint: 'Restorable window: 2025-01-15T00:05:00Z … 2025-01-15T15:00:00Z.' }));
    const refusal = await t.waitFor(() => t.messages(INCIDENT).find((m) => /cannot run/.test(textOf(m))));
    expect(textOf(refusal)).toContain('is after the newest archived WAL');
    expect(textOf(refusal)).toContain('Restorable window: 2025-01-15T00:05:00Z');
    expect(textOf(refusal)).toContain('`TARGET_OUTSIDE_WINDOW`');
    expect(refusal.blocks?.some((b) => b.type === 'actions')).toBe(false);
  });

  it('answers a read-only command with the facts the runner gathered, without buttons', async () => {
    const { slack, runner } = h;
    const t = slack.transcript;
    await slack.slashCommand({ user: 'U0BOB', channel: INCIDENT, text: 'backups' });
    const request = await runner.waitForRequest();
    await runner.plan(request.id, {
      command: 'backups', summary: '2 base backup(s); restorable 2025-01-14T00:05:00Z … 2025-01-15T15:00:00Z', risk: 'read-only',
      steps: [{ kind: 'report-catalog', title: 'Read the backup catalog', params: {}, destructive: false, estimateSeconds: 2 }],
      facts: { 'Base backups': '20250114T000000Z, 20250115T000000Z', Gaps: 'none', 'RPO exposure': '42 s since the newest archived WAL' },
    });
    const answer = await t.waitFor(() => t.messages(INCIDENT).find((m) => /RPO exposure/.test(textOf(m))));
    expect(textOf(answer)).toContain('*Gaps:* none');
    expect(textOf(answer)).toContain('read-only, nothing was changed');
    expect(answer.blocks?.some((b) => b.type === 'actions')).toBe(false);
  });
});

