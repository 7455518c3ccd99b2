/**
 * Jobs after approval: cancelling, failures, a bot restart in the middle of a job, forced
 * 429s and a tight chat.update budget (the status message must still converge), and
 * Socket Mode.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { REALISTIC_BUDGETS } from '../../../devkit/slack-standin/index.js';
import { approvedJob, closeHarness, type Harness, type HarnessOptions, INCIDENT, pitrPlan, startHarness, textOf, waitForJob } from './harness.js';

let h: Harness | undefined;

async function harness(options: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness(options);
  return h;
}

afterEach(async () => {
  const closing = h;
  h = undefined;
  await closeHarness(closing);
});

const at = () => new Date().toISOString();

describe('recover-bot jobs', () => {
  it('lets only the requester or an approver cancel a job, and summarises the cancellation', async () => {
    const { slack, runner } = await harness();
    const t = slack.transcript;
    const { job, statusTs } = await approvedJob(h!);

    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'status' });
    const status = await t.waitFor(() => t.ephemerals(INCIDENT, 'U0ALICE').find((m) => /Recovery jobs/.test(textOf(m))));
    expect(textOf(status)).toContain(`Queued \`${job.id}\` /recover pitr 2025-01-15T14:29:59+00:00 by <@U0ALICE>`);
    // One job, as its status message shows it, for anyone who asks (the CLI's `recover status <job>` takes the same words).
    await slack.slashCommand({ user: 'U0CAROL', channel: INCIDENT, text: `status ${job.id}` });
    const one = await t.waitFor(() => t.ephemerals(INCIDENT, 'U0CAROL').find((m) => textOf(m).includes(`Job \`${job.id}\` · requested by <@U0ALICE>`)));
    expect(textOf(one)).toContain('Queued: /recover pitr 2025-01-15T14:29:59+00:00');
    await slack.slashCommand({ user: 'U0CAROL', channel: INCIDENT, text: 'jobs --all' });
    expect(textOf(await t.waitFor(() => t.ephemerals(INCIDENT, 'U0CAROL').find((m) => /Recovery jobs/.test(textOf(m)))))).toContain(`\`${job.id}\``);

    await slack.slashCommand({ user: 'U0CAROL', channel: INCIDENT, text: `cancel ${job.id}` });
    await t.waitFor(() => t.ephemerals(INCIDENT, 'U0CAROL').find((m) => /Only <@U0ALICE>, who asked for it, or a configured approver can cancel/.test(textOf(m))));
    expect((await runner.jobs())[0]?.status).toBe('queued');

    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: `cancel ${job.id}` });
    await t.waitFor(() => t.messages(INCIDENT).find((m) => textOf(m).includes(`<@U0ALICE> cancelled job \`${job.id}\` before it started`)));
    await t.waitFor(() => /Cancelled/.test(textOf(t.message(INCIDENT, statusTs))), 10_000);
    const summary = await t.waitFor(() => t.thread(INCIDENT, statusTs).find((m) => /Summary/.test(textOf(m))), 10_000);
    expect(textOf(summary)).toContain('finished: *cancelled* (cancel asked by <@U0ALICE>)');
    expect(textOf(summary)).toContain('Cancelled by <@U0ALICE>');
    expect((await runner.jobs())[0]?.status).toBe('cancelled');
  });

  it('reports a failure with the failing step, the error and what to do', async () => {
    const { slack, runner } = await harness();
    const t = slack.transcript;
    const { statusTs } = await approvedJob(h!);
    const job = await runner.claim();
    await runner.emit(job.id, { type: 'job.started', at: at(), command: 'pitr' });
    await runner.step(job.id, 0, { kind: 'select', title: 'Check backup', seconds: 1 });
    await runner.failStep(job.id, 1, { kind: 'restore-base-backup', title: 'Restore base backup 20250115T000000Z', error: 'unreachable' });
    await runner.finish(job.id, { status: 'failed', error: { code: 'STORAGE_UNREACHABLE', message: 'Backup storage did not answer within 30 s.' } });

    await t.waitFor(() => /Failed/.test(textOf(t.message(INCIDENT, statusTs))), 10_000);
    const statusText = textOf(t.message(INCIDENT, statusTs));
    expect(statusText).toContain('*Error* `STORAGE_UNREACHABLE`: Backup storage did not answer within 30 s.');
    expect(statusText).toContain(':x: 2. Restore base backup 20250115T000000Z');
    const summary = await t.waitFor(() => t.thread(INCIDENT, statusTs).find((m) => /Summary/.test(textOf(m))), 10_000);
    const text = textOf(summary);
    expect(text).toContain('finished: *failed*');
    expect(text).toContain('The failing step was "Restore base backup 20250115T000000Z"');
    expect(text).toContain('could not reach backup storage');
    expect(text).toContain('*Integrity:* not verified (the job did not get that far)');
    expect(text).toContain('reached _not reached_');
  });

  it('resumes after a restart: posts what happened meanwhile, never twice', async () => {
    const { slack, runner } = await harness();
    const t = slack.transcript;
    const { statusTs } = await approvedJob(h!);
    const job = await runner.claim();
    await runner.emit(job.id, { type: 'job.started', at: at(), command: 'pitr' });
    await runner.step(job.id, 0, { kind: 'select', title: 'Check backup', seconds: 1 });
    const report = { ok: true, checks: [{ name: 'connect', ok: true, message: 'ok' }], databases: [] };
    await runner.emit(job.id, { type: 'integrity.report', at: at(), report });
    await t.waitFor(() => t.thread(INCIDENT, statusTs).length === 2);

    await h!.bot.stop();
    await runner.step(job.id, 1, { kind: 'restore-base-backup', title: 'Restore base backup', seconds: 30 });
    await runner.finish(job.id, { status: 'succeeded', result: { reachedTime: '2025-01-15T14:29:50Z', connect: 'postgresql://127.0.0.1:5999/postgres', report } });
    await h!.restartBot();

    const summary = await t.waitFor(() => t.thread(INCIDENT, statusTs).find((m) => /Summary/.test(textOf(m))), 10_000);
    expect(textOf(summary)).toContain('*Data-loss window:* 9.0 s (target − reached), within the 15 min RPO');
    const replies = t.thread(INCIDENT, statusTs).map(textOf);
    expect(replies.filter((r) => r.startsWith('Step done: Check backup'))).toHaveLength(1);
    expect(replies.filter((r) => r.startsWith('Step done: Restore base backup'))).toHaveLength(1);
    expect(replies.filter((r) => r.startsWith('Integrity report'))).toHaveLength(1);
    await t.waitFor(() => /Succeeded/.test(textOf(t.message(INCIDENT, statusTs))));

    // A second restart finds nothing left to post.
    const before = t.thread(INCIDENT, statusTs).length;
    await h!.restartBot();
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(t.thread(INCIDENT, statusTs)).toHaveLength(before);
  });

  it('converges to the final status under forced 429s on chat.update (Retry-After honoured)', async () => {
    const { slack, runner } = await harness();
    const t = slack.transcript;
    const { statusTs } = await approvedJob(h!);
    const job = await runner.claim();
    slack.rateLimit('chat.update', { count: 3, retryAfterSeconds: 1 });
    const started = Date.now();
    await runner.emit(job.id, { type: 'job.started', at: at(), command: 'pitr' });
    for (let i = 1; i <= 10; i++) {
      await runner.emit(job.id, { type: 'step.progress', at: at(), step: 'replay-wal', done: i, total: 10, unit: 'segments' });
    }
    await runner.finish(job.id, { status: 'succeeded', result: { reachedTime: '2025-01-15T14:29:58Z' } });
    await t.waitFor(() => /Succeeded/.test(textOf(t.message(INCIDENT, statusTs))), 15_000);
    const limited = slack.calls.filter((c) => c.method === 'chat.update' && c.status === 429);
    expect(limited).toHaveLength(3);
    // Each 429 paused all updates for its Retry-After second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    const updatesAfter = slack.calls.filter((c) => c.method === 'chat.update' && c.ok && c.params.ts === statusTs);
    expect(updatesAfter.length).toBeGreaterThan(0);
  });

  it('stays within a tight chat.update budget, sending only the newest state', async () => {
    const { slack, runner } = await harness({ bot: { updateBudget: { limit: 4, windowMs: 2000, burst: 2 } } });
    const t = slack.transcript;
    const { statusTs } = await approvedJob(h!);
    slack.setBudget('chat.update', { limit: 4, windowSeconds: 2, per: 'workspace' });
    const job = await runner.claim();
    await runner.emit(job.id, { type: 'job.started', at: at(), command: 'pitr' });
    await runner.emit(job.id, { type: 'step.started', at: at(), step: 'replay-wal', title: 'Replay WAL' });
    for (let i = 1; i <= 40; i++) {
      await runner.emit(job.id, { type: 'step.progress', at: at(), step: 'replay-wal', done: i, total: 40, unit: 'segments', detail: `segment ${i}` });
    }
    await t.waitFor(() => textOf(t.message(INCIDENT, statusTs)).includes('replay-wal [##########] 100% segment 40'), 15_000);
    const updates = slack.calls.filter((c) => c.method === 'chat.update');
    expect(updates.filter((c) => c.status === 429)).toEqual([]);
    expect(updates.length).toBeLessThan(15);
  });

  it("keeps within Slack's real limits with the default budget, and retries posts Slack throttles", async () => {
    const { slack, runner } = await harness({ budgets: REALISTIC_BUDGETS, bot: { updateBudget: undefined } });
    const t = slack.transcript;
    const { statusTs } = await approvedJob(h!);
    const job = await runner.claim();
    await runner.emit(job.id, { type: 'job.started', at: at(), command: 'pitr' });
    const kinds = ['select', 'restore-base-backup', 'configure-recovery', 'replay-wal', 'verify'];
    for (const [index, kind] of kinds.entries()) {
      const progress = Array.from({ length: 8 }, (_, i) => ({ done: i + 1, total: 8, unit: 'segments' }));
      await runner.step(job.id, index, { kind, title: `Step ${kind}`, seconds: index + 1, progress });
    }
    await runner.finish(job.id, { status: 'succeeded', result: { reachedTime: '2025-01-15T14:29:58Z' } });
    await t.waitFor(() => t.thread(INCIDENT, statusTs).find((m) => /Summary/.test(textOf(m))), 30_000);
    await t.waitFor(() => /Succeeded/.test(textOf(t.message(INCIDENT, statusTs))), 30_000);
    expect(t.thread(INCIDENT, statusTs).filter((m) => textOf(m).startsWith('Step done'))).toHaveLength(5);
    expect(slack.calls.filter((c) => c.method === 'chat.update' && c.status === 429)).toEqual([]);
  });

  it('tells the approver when the status message cannot be posted, and posts it later', async () => {
    const { slack, runner } = await harness();
    const t = slack.transcript;
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'pitr 2025-01-15T14:29:59+00:00' });
    const request = await runner.waitForRequest();
    await runner.plan(request.id, pitrPlan('2025-01-15T14:29:59Z'));
    const preview = await t.waitFor(() => t.messages(INCIDENT).find((m) => /Request approval/.test(textOf(m))));
    await slack.clickButton({ user: 'U0ALICE', channel: INCIDENT, messageTs: preview.ts, actionId: 'recover_request_approval' });
    const approval = await t.waitFor(() => t.messages(INCIDENT).find((m) => /Approval needed/.test(textOf(m))));

    slack.rateLimit('chat.postMessage', { count: 4, retryAfterSeconds: 0 });
    await slack.clickButton({ user: 'U0BOB', channel: INCIDENT, messageTs: approval.ts, actionId: 'recover_approve' });
    const failure = await t.waitFor(() => t.ephemerals(INCIDENT, 'U0BOB').find((m) => /Approving failed/.test(textOf(m))));
    expect(textOf(failure)).toContain('Slack refused to post a message: rate limited');
    expect((await runner.jobs())[0]?.status).toBe('queued');
    await t.waitFor(() => /All 1 approval in/.test(textOf(t.message(INCIDENT, approval.ts))));
    await t.waitFor(() => /All 1 approval in/.test(textOf(t.message(INCIDENT, approval.ts))));

    const job = await waitForJob(runner, request.id, 15_000);
    await t.waitFor(() => /Queued/.test(textOf(t.message(INCIDENT, job.slackRefs.statusTs!))));
  });

  it('says so in the planning message when no runner answers', async () => {
    const { slack, runner } = await harness({ bot: { planningStallMs: 300 } });
    const t = slack.transcript;
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'backups' });
    await runner.waitForRequest();
    const stalled = await t.waitFor(() => t.messages(INCIDENT).find((m) => /No runner of pool `default` has answered/.test(textOf(m))), 5000);
    expect(textOf(stalled)).toContain('Check that a runner is running');
  });

  it('works over Socket Mode (no HTTP port)', async () => {
    const { slack, runner, bot } = await harness({ socketMode: true });
    expect(bot.app).toBeDefined();
    expect(slack.calls.some((c) => c.method === 'apps.connections.open')).toBe(true);
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'pitr 2025-01-15T14:29:59+00:00' });
    const request = await runner.waitForRequest();
    expect(request.requesterId).toBe('U0ALICE');
    await slack.transcript.waitFor(() => slack.transcript.messages(INCIDENT).find((m) => /Planning/.test(textOf(m))));
  });
});
