/**
 * A slow Slack Web API (issue 18 item 3) and a bot stopped between posting and saving a
 * message's ts (item 4), through real Bolt, the Slack stand-in and a throw-away control DB:
 * - chat.postMessage stalls longer than the client's timeout and then answers late (the message
 *   was made): every step reply and the summary appear exactly once (the client used to re-send
 *   on the timeout: "Step done" three times, the failure summary five times);
 * - the same while conversations.replies stalls too (the bot cannot look yet: it waits, never
 *   re-posts blind);
 * - a post that never reached Slack (lost) is posted again, once;
 * - the bot restarted between the approval post and saving its ts: exactly one approval message,
 *   found by its key, updated to the current state and working (its Approve updates it); and
 *   when the post never reached Slack, the restarted bot posts it.
 * The stalls hold calls until the test releases them; the bot's client timeout is short (the
 * stand-in answers after it whatever the machine's speed), so nothing depends on timing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { getRequest } from '../../src/control/index.js';
import { approvedJob, closeHarness, type Harness, INCIDENT, pitrPlan, startHarness, textOf, waitForJob } from '../integration/slack/harness.js';
import type { SlackStandIn, TranscriptMessage } from '../../devkit/slack-standin/index.js';

let h: Harness | undefined;
afterEach(async () => {
  const closing = h;
  h = undefined;
  await closeHarness(closing);
});

const at = () => new Date().toISOString();
const BOT = { slackCallTimeoutMs: 250, postBackoffMs: 50 };

async function harness(): Promise<Harness> {
  h = await startHarness({ bot: BOT });
  return h;
}

/** Every message (thread replies included, deleted ones not) whose text starts with `prefix`. */
function posted(slack: SlackStandIn, prefix: string): TranscriptMessage[] {
  return slack.transcript.allMessages(INCIDENT).filter((m) => !m.deleted && textOf(m).startsWith(prefix));
}

const callsOf = (slack: SlackStandIn, method: string) => slack.calls.filter((c) => c.method === method).length;

/** Waits for a condition on the control DB (checked every 25 ms, up to 20 s). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const approvalTsOf = async (requestId: string) => (await getRequest(h!.pool, requestId))?.slackRefs.approvalTs;

describe('Slack Web API stalls', () => {
  it('posts each step reply and the summary once when chat.postMessage answers after the client gave up', async () => {
    const { slack, runner } = await harness();
    const t = slack.transcript;
    const { statusTs } = await approvedJob(h!);
    const job = await runner.claim();
    await runner.emit(job.id, { type: 'job.started', at: at(), command: 'pitr' });
    await runner.step(job.id, 0, { kind: 'select', title: 'Check backup', seconds: 1 });
    await t.waitFor(() => posted(slack, 'Step done: Check backup').length === 1);

    const stepStall = slack.stall('chat.postMessage');
    const lookupsBefore = callsOf(slack, 'conversations.replies');
    await runner.step(job.id, 3, { kind: 'replay-wal', title: 'Replay WAL', seconds: 40 });
    await stepStall.waitHeld();
    // The client timed out; the bot looks for its message before anything else, and adopts it.
    await t.waitFor(() => callsOf(slack, 'conversations.replies') > lookupsBefore);
    stepStall.release();

    // Now the Web API is slow for reading too: the first two looks time out as well.
    const summaryStall = slack.stall('chat.postMessage');
    const lookupStall = slack.stall('conversations.replies', { count: 2 });
    await runner.failStep(job.id, 4, { kind: 'verify', title: 'Verify', error: 'connection refused' });
    await runner.finish(job.id, { status: 'failed', error: { code: 'VERIFY_FAILED', message: 'Verification failed.' } });
    await summaryStall.waitHeld();
    await lookupStall.waitHeld(2);
    summaryStall.release();
    lookupStall.release();

    await t.waitFor(() => t.thread(INCIDENT, statusTs).find((m) => /Summary/.test(textOf(m))), 20_000);
    await t.waitFor(() => /Failed/.test(textOf(t.message(INCIDENT, statusTs))), 20_000);
    // Whatever the bot still does, it does it with the summary's ts known: wait for a quiet scheduler.
    await h!.restartBot();
    expect(posted(slack, 'Step done: Check backup')).toHaveLength(1);
    expect(posted(slack, 'Step done: Replay')).toHaveLength(1);
    expect(t.thread(INCIDENT, statusTs).filter((m) => /Summary/.test(textOf(m)))).toHaveLength(1);
    expect(t.thread(INCIDENT, statusTs).filter((m) => /trouble following/.test(textOf(m)))).toEqual([]);
    // Each post carried its key; the stalls really held the sends.
    expect(stepStall.held).toBe(1);
    expect(summaryStall.held).toBe(1);
    const keys = t.thread(INCIDENT, statusTs).map((m) => m.metadata?.event_payload.key);
    expect(keys.every((k) => typeof k === 'string' && k.startsWith(`job:${job.id}:event:`))).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('posts again, once, when the unanswered post never reached Slack', async () => {
    const { slack, runner } = await harness();
    const t = slack.transcript;
    const { statusTs } = await approvedJob(h!);
    const job = await runner.claim();
    await runner.emit(job.id, { type: 'job.started', at: at(), command: 'pitr' });
    const lost = slack.stall('chat.postMessage', { mode: 'lost' });
    await runner.step(job.id, 0, { kind: 'select', title: 'Check backup', seconds: 1 });
    await lost.waitHeld();
    await t.waitFor(() => posted(slack, 'Step done: Check backup').length > 0, 20_000);
    lost.release();
    await runner.finish(job.id, { status: 'succeeded', result: { reachedTime: '2025-01-15T14:29:58Z' } });
    await t.waitFor(() => t.thread(INCIDENT, statusTs).find((m) => /Summary/.test(textOf(m))), 20_000);
    expect(posted(slack, 'Step done: Check backup')).toHaveLength(1);
  });
});

describe('bot restarted between posting the approval message and saving its ts', () => {
  /** The requester asks for approval; returns the request and the approval message. */
  async function askApproval(): Promise<{ requestId: string; approval: TranscriptMessage }> {
    const { slack, runner } = h!;
    const t = slack.transcript;
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'pitr 2025-01-15T14:29:59+00:00' });
    const request = await runner.waitForRequest();
    await runner.plan(request.id, pitrPlan('2025-01-15T14:29:59Z'));
    const preview = await t.waitFor(() => t.messages(INCIDENT).find((m) => /Request approval/.test(textOf(m))));
    await slack.clickButton({ user: 'U0ALICE', channel: INCIDENT, messageTs: preview.ts, actionId: 'recover_request_approval' });
    const approval = await t.waitFor(() => t.messages(INCIDENT).find((m) => /Approval needed/.test(textOf(m))));
    await until(async () => Boolean(await approvalTsOf(request.id)), 'the approval ts to be saved');
    return { requestId: request.id, approval };
  }

  /** What a bot killed right after the post leaves: the intent without ts, the request without approvalTs. */
  async function forgetTs(requestId: string): Promise<void> {
    await h!.bot.stop();
    await h!.pool.query(`UPDATE requests SET slack_refs = slack_refs - 'approvalTs' WHERE id = $1`, [requestId]);
    await h!.pool.query(`UPDATE slack_posts SET ts = NULL, posted_at = NULL WHERE request_id = $1 AND kind = 'approval'`, [requestId]);
  }

  const approvals = () => h!.slack.transcript.messages(INCIDENT).filter((m) => /(Approval needed|Approved): \/recover/.test(textOf(m)));

  it('finds the approval message by its key, updates it, and its buttons work', async () => {
    const { slack, runner } = await harness();
    const t = slack.transcript;
    const { requestId, approval } = await askApproval();
    await forgetTs(requestId);
    const updatesBefore = slack.calls.filter((c) => c.method === 'chat.update' && c.params.ts === approval.ts).length;

    await h!.restartBot();
    await until(async () => (await approvalTsOf(requestId)) === approval.ts, 'the found approval message to be linked');
    await t.waitFor(() => slack.calls.filter((c) => c.method === 'chat.update' && c.params.ts === approval.ts).length > updatesBefore);
    expect(approvals()).toHaveLength(1);

    await slack.clickButton({ user: 'U0BOB', channel: INCIDENT, messageTs: approval.ts, actionId: 'recover_approve' });
    await t.waitFor(() => /All 1 approval in/.test(textOf(t.message(INCIDENT, approval.ts))));
    await waitForJob(runner, requestId);
    expect(approvals()).toHaveLength(1);
  });

  it('posts the approval message when the post never reached Slack', async () => {
    const { slack } = await harness();
    const t = slack.transcript;
    const { requestId, approval } = await askApproval();
    await forgetTs(requestId);
    t.deleteMessage(t.message(INCIDENT, approval.ts)!); // as if Slack never got it

    await h!.restartBot();
    const again = await t.waitFor(() => t.messages(INCIDENT).find((m) => /Approval needed/.test(textOf(m))));
    expect(again.ts).not.toBe(approval.ts);
    await until(async () => (await approvalTsOf(requestId)) === again.ts, 'the posted approval message to be linked');
    expect(approvals()).toHaveLength(1);
    await slack.clickButton({ user: 'U0BOB', channel: INCIDENT, messageTs: again.ts, actionId: 'recover_approve' });
    await t.waitFor(() => /All 1 approval in/.test(textOf(t.message(INCIDENT, again.ts))));
  });
});
