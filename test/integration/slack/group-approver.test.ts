/**
 * Issue 19 item 3: bot and runner judge approvals from the same data. Real Bolt, the Slack
 * stand-in and a real control DB; the test plays the runner but authorizes the job with the
 * runner's own check (authorizeJob), configured from its own environment:
 * - a member of a listed approver user group approves in Slack: the runner, which cannot ask
 *   Slack, counts it by the vote's audit entry (the bot found them in S0DBA, under the same
 *   settings) and the job starts (before: APPROVAL_INVALID after Slack had accepted it);
 * - bot and runner set RECOVER_APPROVALS_REQUIRED differently: the preview says so in the
 *   channel instead of offering approval, and a runner whose settings differ from the bot's
 *   that recorded a vote refuses with CONFIG_INVALID naming the setting.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../../src/config.js';
import { listAudit, policyStamp } from '../../../src/control/index.js';
import { authorizeJob } from '../../../src/runner/execute.js';
import { ACTIONS } from '../../../src/slack/views/common.js';
import { closeHarness, type Harness, INCIDENT, pitrPlan, startHarness, textOf, waitForJob } from './harness.js';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await closeHarness(h);
});

/** The runner's configuration: its own environment, the same approvers as the bot unless `env` says otherwise. */
function runnerConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    RECOVER_APPROVERS: JSON.stringify({ T0STANDIN: { users: ['U0BOB'], usergroups: ['S0DBA'] } }),
    RECOVER_PRODUCTION_NAME: 'aiagent_prod',
    ...env,
  });
}

/** Command → plan (stamped with `runner`'s settings unless `stamp` is false) → Request approval → `approver` approves → queued job. */
async function approvedBy(approver: string, runner: Config, stamp = true) {
  const { slack } = h;
  const t = slack.transcript;
  await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'pitr 2025-01-15T14:29:59+00:00' });
  const request = await h.runner.waitForRequest();
  const plan = pitrPlan('2025-01-15T14:29:59Z');
  await h.runner.plan(request.id, stamp ? { ...plan, approvalPolicy: policyStamp(runner.approval) } : plan);
  const preview = await t.waitFor(() => t.messages(INCIDENT).find((m) => /Request approval/.test(textOf(m))));
  await slack.clickButton({ user: 'U0ALICE', channel: INCIDENT, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
  const approval = await t.waitFor(() => t.messages(INCIDENT).find((m) => /Approval needed/.test(textOf(m))));
  await slack.clickButton({ user: approver, channel: INCIDENT, messageTs: approval.ts, actionId: ACTIONS.approve });
  const job = await waitForJob(h.runner, request.id);
  return { request, job: await h.runner.claim(), queued: job };
}

describe('approver user groups: the runner counts what the bot resolved', () => {
  it('a member of a listed group approves in Slack, and the runner starts the job', async () => {
    const runner = runnerConfig();
    const { request, job } = await approvedBy('U0DAVE', runner);
    const [vote] = await listAudit(h.pool, { subject: `request:${request.id}` }).then((all) => all.filter((e) => e.action === 'approval.approve'));
    expect(vote?.details).toMatchObject({ via: { kind: 'usergroup', usergroup: 'S0DBA' }, policy: { digest: policyStamp(runner.approval).digest } });
    await authorizeJob(h.pool, runner, job, h.runner.runnerId);
    const [authorized] = await listAudit(h.pool, { subject: `job:${job.id}` });
    expect(authorized).toMatchObject({ action: 'job.authorized', details: expect.objectContaining({ approvedBy: ['U0DAVE'] }) });
  });

  it('a runner that does not list the group refuses: its approvers differ from the bot', async () => {
    const runner = runnerConfig({ RECOVER_APPROVERS: JSON.stringify({ T0STANDIN: { users: ['U0BOB'], usergroups: [] } }) });
    // Unstamped plan (an older runner planned it): the bot lets it through; this runner judges.
    const { job } = await approvedBy('U0DAVE', runner, false);
    await expect(authorizeJob(h.pool, runner, job, h.runner.runnerId)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/bot and this runner have different approval settings: RECOVER_APPROVERS/) });
  });
});

describe('bot and runner with different approval settings', () => {
  it('the preview says which setting differs instead of offering approval', async () => {
    const { slack } = h;
    const t = slack.transcript;
    const runner = runnerConfig({ RECOVER_APPROVALS_REQUIRED: '{"side-copy":2}' });
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'pitr 2025-01-15T14:29:59+00:00' });
    const request = await h.runner.waitForRequest();
    await h.runner.plan(request.id, { ...pitrPlan('2025-01-15T14:29:59Z'), approvalPolicy: policyStamp(runner.approval) });
    const refused = await t.waitFor(() => t.messages(INCIDENT).find((m) => /different approval settings/.test(textOf(m))));
    const text = textOf(refused);
    expect(text).toContain('RECOVER_APPROVALS_REQUIRED (bot: {"destructive":1,"read-only":0,"side-copy":1}, runner: {"destructive":1,"read-only":0,"side-copy":2})');
    expect(text).toContain('CONFIG_INVALID');
    expect(text).not.toMatch(/Request approval/);
    expect(refused.blocks?.some((b) => b.type === 'actions')).toBe(false);
  });

  it('a runner whose settings differ from the bot that recorded the vote refuses early, naming the setting', async () => {
    const runner = runnerConfig({ RECOVER_APPROVALS_REQUIRED: '{"side-copy":2}' });
    const { job } = await approvedBy('U0BOB', runner, false);
    await expect(authorizeJob(h.pool, runner, job, h.runner.runnerId)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/bot and this runner have different approval settings: RECOVER_APPROVALS_REQUIRED \(bot: .*"side-copy":1.*runner: .*"side-copy":2/),
    });
  });
});
