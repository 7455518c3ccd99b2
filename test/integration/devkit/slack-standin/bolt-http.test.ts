import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { ErrorCode, type WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackStandIn, Transcript, type SlackStandIn } from '../../../../devkit/slack-standin/index.js';

const botToken = 'xoxb-standin-test';
const signingSecret = 'standin-signing-secret';
const CHANNEL = 'C0INCIDENT';

interface Running {
  slack: SlackStandIn;
  app: App;
}

let running: Running | undefined;

afterEach(async () => {
  const current = running;
  running = undefined;
  await current?.app.stop();
  await current?.slack.close();
});

/** Retries once per 429 after the Retry-After Slack gave, like the bot's throttler will. */
async function withRateLimitRetry<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      const limited = error as { code?: string; retryAfter?: number };
      if (limited.code !== ErrorCode.RateLimitedError || attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, (limited.retryAfter ?? 1) * 1000));
    }
  }
}

function approvalBlocks(jobId: string) {
  return [
    { type: 'header', text: { type: 'plain_text', text: 'PITR plan ready' } },
    { type: 'section', text: { type: 'mrkdwn', text: `Job *${jobId}*: restore to a side instance.` } },
    {
      type: 'actions',
      block_id: 'approval',
      elements: [
        { type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value: jobId },
        { type: 'button', action_id: 'cancel', text: { type: 'plain_text', text: 'Cancel' }, value: jobId },
      ],
    },
  ];
}

/** A tiny bot with the same shape as recover-bot's Slack flow: command → plan → approve modal → update. */
function registerHandlers(app: App): void {
  app.command('/recover', async ({ ack, command, client }) => {
    await ack();
    const posted = await client.chat.postMessage({ channel: command.channel_id, text: 'PITR plan ready', blocks: approvalBlocks('job-1') });
    await client.chat.postMessage({ channel: command.channel_id, thread_ts: posted.ts!, text: `requested by <@${command.user_id}>: ${command.text}` });
  });

  app.action('approve', async ({ ack, body, client }) => {
    await ack();
    if (body.type !== 'block_actions' || !body.channel || !body.message) throw new Error('expected a message button');
    await client.views.open({
      trigger_id: body.trigger_id,
      view: {
        type: 'modal',
        callback_id: 'approve-confirm',
        private_metadata: JSON.stringify({ channel: body.channel.id, ts: body.message.ts }),
        title: { type: 'plain_text', text: 'Approve restore' },
        submit: { type: 'plain_text', text: 'Approve' },
        close: { type: 'plain_text', text: 'Back' },
        blocks: [
          {
            type: 'input',
            block_id: 'reason',
            label: { type: 'plain_text', text: 'Why is this safe?' },
            element: { type: 'plain_text_input', action_id: 'text' },
          },
        ],
      },
    });
  });

  app.view('approve-confirm', async ({ ack, view, body, client }) => {
    const reason = view.state.values.reason?.text?.value ?? '';
    if (reason.length < 10) {
      await ack({ response_action: 'errors', errors: { reason: 'Say a bit more (10 characters or more).' } });
      return;
    }
    await ack();
    const { channel, ts } = JSON.parse(view.private_metadata) as { channel: string; ts: string };
    await withRateLimitRetry(() =>
      (client as WebClient).chat.update({ channel, ts, text: `Approved by <@${body.user.id}>`, blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `Approved by <@${body.user.id}>: ${reason}` } },
      ] }),
    );
  });
}

async function startBotAndSlack(): Promise<Running> {
  const slack = await startSlackStandIn({ botToken, signingSecret });
  const app = new App({
    token: botToken,
    signingSecret,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: slack.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true },
  });
  running = { slack, app };
  registerHandlers(app);
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  slack.setBotUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
  return running;
}

describe('Slack stand-in with a real Bolt app over HTTP', () => {
  it('runs command → button → modal → errors → submit → 429 → retry, and records it all', async () => {
    const { slack } = await startBotAndSlack();
    const transcript = slack.transcript;

    const command = await slack.slashCommand({ user: 'U0ALICE', channel: CHANNEL, command: '/recover', text: 'pitr --target "10 minutes ago"' });
    expect(command.status).toBe(200);
    expect(command.timedOut).toBe(false); // the stand-in's own 3 s rule

    const plan = await transcript.waitFor(() => transcript.messages(CHANNEL).find((m) => m.text === 'PITR plan ready'));
    expect(plan.botId).toBe(slack.workspace.botId);
    const reply = await transcript.waitFor(() => transcript.thread(CHANNEL, plan.ts)[0]);
    expect(reply.text).toContain('pitr --target');

    const click = await slack.clickButton({ user: 'U0ALICE', channel: CHANNEL, messageTs: plan.ts, actionId: 'approve' });
    expect(click.status).toBe(200);
    const modal = await transcript.waitFor(() => transcript.views('U0ALICE').find((v) => v.status === 'open'));
    expect(modal.definition.callback_id).toBe('approve-confirm');

    const tooShort = await slack.submitView({ user: 'U0ALICE', viewId: modal.id, values: { reason: { text: 'ok' } } });
    expect(tooShort.responseAction).toBe('errors');
    expect(tooShort.errors).toEqual({ reason: 'Say a bit more (10 characters or more).' });
    expect(transcript.view(modal.id)?.status).toBe('open');

    slack.rateLimit('chat.update', { count: 1, retryAfterSeconds: 1 });
    const submitted = await slack.submitView({ user: 'U0ALICE', viewId: modal.id, values: { reason: { text: 'side instance only, prod untouched' } } });
    expect(submitted.status).toBe(200);
    expect(submitted.responseAction).toBeUndefined();
    expect(transcript.view(modal.id)?.status).toBe('closed');

    const updated = await transcript.waitFor(() => transcript.message(CHANNEL, plan.ts)?.edits.length === 1 && transcript.message(CHANNEL, plan.ts));
    expect(Transcript.textOf(updated)).toContain('Approved by <@U0ALICE>: side instance only');
    expect(updated.edits[0]?.text).toBe('PITR plan ready');

    const updates = slack.calls.filter((c) => c.method === 'chat.update');
    expect(updates.map((c) => c.status)).toEqual([429, 200]);
    expect(slack.calls[0]?.method).toBe('auth.test');
    expect(slack.unknownCalls()).toEqual([]);
    expect(slack.ackTimeouts).toEqual([]);
    expect(transcript.render(CHANNEL)).toContain('Approved by <@U0ALICE>');
  });

  it('records a late ack as a timeout and shows the user what Slack shows', async () => {
    const slack = await startSlackStandIn({ botToken, signingSecret, ackTimeoutMs: 300 });
    const app = new App({ token: botToken, signingSecret, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: slack.url, retryConfig: { retries: 0 } } });
    running = { slack, app };
    app.command('/recover', async ({ ack }) => {
      await new Promise((resolve) => setTimeout(resolve, 600));
      await ack();
    });
    const server = await app.start({ port: 0, host: '127.0.0.1' });
    slack.setBotUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);

    const result = await slack.slashCommand({ user: 'U0BOB', channel: CHANNEL, text: 'status' });
    expect(result.timedOut).toBe(true);
    expect(slack.ackTimeouts).toHaveLength(1);
    expect(slack.transcript.ephemerals(CHANNEL, 'U0BOB')[0]?.text).toBe('/recover failed with the error "operation_timeout"');
  });

  it('Bolt refuses forged, stale and unsigned requests; a verbatim replay is accepted by Bolt', async () => {
    const { slack } = await startBotAndSlack();
    expect((await slack.slashCommand({ user: 'U0BOB', channel: CHANNEL, tamper: { badSignature: true } })).status).toBe(401);
    expect((await slack.slashCommand({ user: 'U0BOB', channel: CHANNEL, tamper: { timestampSkewSeconds: -301 } })).status).toBe(401);
    expect((await slack.slashCommand({ user: 'U0BOB', channel: CHANNEL, tamper: { omitSignatureHeaders: true } })).status).toBe(401);
    expect(slack.transcript.ephemerals(CHANNEL, 'U0BOB').map((m) => m.text)).toEqual(
      Array(3).fill('/recover failed with the error "dispatch_failed"'),
    );

    const good = await slack.slashCommand({ user: 'U0BOB', channel: CHANNEL, text: 'status' });
    expect(good.status).toBe(200);
    // Bolt has no replay protection beyond the 5-minute window: the bot itself must deduplicate.
    const replayed = await slack.replay(good.request);
    expect(replayed.status).toBe(200);
    const { transcript } = slack;
    // Both deliveries ran the handler: two plans, each with its thread reply.
    await transcript.waitFor(() => {
      const plans = transcript.messages(CHANNEL);
      return plans.length === 2 && plans.every((plan) => transcript.thread(CHANNEL, plan.ts).length === 1);
    });
  });
});
