import { App, LogLevel } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackStandIn, type SlackStandIn } from '../../../../devkit/slack-standin/index.js';

const botToken = 'xoxb-socket';
const appToken = 'xapp-1-socket';
const CHANNEL = 'C0INCIDENT';
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startPair(register: (app: App) => void): Promise<SlackStandIn> {
  const slack = await startSlackStandIn({ botToken, signingSecret: 'unused-in-socket-mode', appToken });
  cleanups.push(() => slack.close());
  const clientOptions = { slackApiUrl: slack.url, retryConfig: { retries: 0 } };
  const app = new App({
    token: botToken, appToken, socketMode: true, logLevel: LogLevel.ERROR, clientOptions, installerOptions: { clientOptions },
  });
  register(app);
  await app.start();
  cleanups.push(() => app.stop());
  return slack;
}

describe('Slack stand-in in Socket Mode with a real Bolt app', () => {
  it('delivers commands, clicks and submissions as envelopes and applies the acks', async () => {
    const slack = await startPair((app) => {
      app.command('/recover', async ({ ack, command, client }) => {
        await ack(`on it: ${command.text}`);
        await client.chat.postMessage({ channel: command.channel_id, text: 'plan', blocks: [
          { type: 'actions', elements: [{ type: 'button', action_id: 'approve', value: 'job-1', text: { type: 'plain_text', text: 'Approve' } }] },
        ] });
      });
      app.action('approve', async ({ ack, body, client }) => {
        await ack();
        await client.views.open({ trigger_id: (body as { trigger_id: string }).trigger_id, view: {
          type: 'modal', callback_id: 'confirm', title: { type: 'plain_text', text: 'Confirm' }, submit: { type: 'plain_text', text: 'Go' },
          blocks: [{ type: 'input', block_id: 'r', label: { type: 'plain_text', text: 'Reason' }, element: { type: 'plain_text_input', action_id: 't' } }],
        } });
      });
      app.view('confirm', async ({ ack }) => ack({ response_action: 'errors', errors: { r: 'not today' } }));
    });
    const { transcript } = slack;
    expect(slack.calls.map((c) => c.method)).toContain('apps.connections.open');

    const command = await slack.slashCommand({ user: 'U0ALICE', channel: CHANNEL, text: 'pitr' });
    expect(command).toMatchObject({ status: 200, timedOut: false, body: JSON.stringify({ text: 'on it: pitr' }) });
    expect(transcript.ephemerals(CHANNEL, 'U0ALICE').map((m) => m.text)).toEqual(['on it: pitr']);

    const plan = await transcript.waitFor(() => transcript.messages(CHANNEL)[0]);
    await slack.clickButton({ user: 'U0ALICE', channel: CHANNEL, messageTs: plan.ts, actionId: 'approve' });
    const view = await transcript.waitFor(() => transcript.views('U0ALICE')[0]);
    const submitted = await slack.submitView({ user: 'U0ALICE', viewId: view.id, values: { r: { t: 'because' } } });
    expect(submitted.errors).toEqual({ r: 'not today' });
    expect(slack.ackTimeouts).toEqual([]);
    expect(slack.unknownCalls()).toEqual([]);
    await expect(slack.slashCommand({ user: 'U0ALICE', channel: CHANNEL, tamper: { badSignature: true } })).rejects.toThrow(/Socket Mode/);
  });

  it('refuses apps.connections.open with the bot token', async () => {
    const slack = await startSlackStandIn({ botToken, signingSecret: 's', appToken });
    cleanups.push(() => slack.close());
    const response = await fetch(`${slack.url}apps.connections.open`, { method: 'POST', headers: { authorization: `Bearer ${botToken}` } });
    expect(await response.json()).toEqual({ ok: false, error: 'invalid_auth' });
  });
});
