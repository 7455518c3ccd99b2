import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackStandIn, type SlackStandIn } from '../../../../devkit/slack-standin/index.js';

const botToken = 'xoxb-interactions';
const signingSecret = 'interactions-secret';
const CHANNEL = 'C0INCIDENT';
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startPair(register: (app: App) => void): Promise<SlackStandIn> {
  const slack = await startSlackStandIn({ botToken, signingSecret });
  cleanups.push(() => slack.close());
  const app = new App({ token: botToken, signingSecret, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: slack.url, retryConfig: { retries: 0 } } });
  register(app);
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => app.stop());
  slack.setBotUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
  return slack;
}

const plain = (text: string) => ({ type: 'plain_text' as const, text });
const modal = (callbackId: string, title: string, extra: Record<string, unknown> = {}) => ({
  type: 'modal' as const, callback_id: callbackId, title: plain(title), submit: plain('Next'),
  blocks: [{ type: 'input', block_id: 'b', label: plain('Value'), element: { type: 'plain_text_input', action_id: 'v' } }],
  ...extra,
});

describe('Slack stand-in interactions with a real Bolt app', () => {
  it('shows ack bodies of slash commands as Slack does: ephemeral by default, or in the channel', async () => {
    const slack = await startPair((app) => {
      app.command('/recover', async ({ ack, command }) => {
        if (command.text === 'help') await ack('usage: /recover <subcommand>');
        else await ack({ response_type: 'in_channel', text: `working on ${command.text}` });
      });
    });
    await slack.slashCommand({ user: 'U0BOB', channel: CHANNEL, text: 'help' });
    await slack.slashCommand({ user: 'U0BOB', channel: CHANNEL, text: 'status' });
    expect(slack.transcript.ephemerals(CHANNEL, 'U0BOB').map((m) => m.text)).toEqual(['usage: /recover <subcommand>']);
    expect(slack.transcript.messages(CHANNEL).map((m) => m.text)).toEqual(['working on status']);
    expect(slack.transcript.actions.map((a) => a.detail)).toEqual(['/recover help', '/recover status']);
  });

  it('lets respond() replace the clicked message through response_url, 5 times at most', async () => {
    const failures: unknown[] = [];
    const slack = await startPair((app) => {
      app.action('bump', async ({ ack, respond }) => {
        await ack();
        const count = slack.responseUrlUses.length + 1;
        try {
          await respond({ replace_original: true, text: `bumped ${count}`, blocks: [
            { type: 'actions', elements: [{ type: 'button', action_id: 'bump', text: plain('Bump') }] },
          ] });
        } catch (error) {
          failures.push(error);
        }
      });
    });
    const { transcript } = slack;
    const ts = String((await fetch(`${slack.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${botToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: CHANNEL, text: 'start', blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'bump', text: plain('Bump') }] }] }),
    }).then((r) => r.json() as Promise<{ ts: string }>)).ts);

    // One click gives one response_url; the bot answers through it once per click.
    const click = await slack.clickButton({ user: 'U0ALICE', channel: CHANNEL, messageTs: ts, actionId: 'bump' });
    expect(click.responseUrl).toMatch(/\/response\/[0-9a-f]+$/);
    await transcript.waitFor(() => transcript.message(CHANNEL, ts)?.text === 'bumped 1');
    for (let i = 0; i < 5; i += 1) {
      const response = await fetch(click.responseUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `again ${i}` }) });
      expect(response.status).toBe(i < 4 ? 200 : 404);
    }
    expect(slack.responseUrlUses.map((u) => u.error ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'used_url']);
    expect(failures).toEqual([]);
  });

  it('applies response_action update, push and clear, and clicks buttons inside modals', async () => {
    const slack = await startPair((app) => {
      app.command('/recover', async ({ ack, client, command }) => {
        await ack();
        await client.views.open({ trigger_id: command.trigger_id, view: modal('step-1', 'Step 1', {
          blocks: [
            { type: 'actions', elements: [{ type: 'button', action_id: 'details', text: plain('Details') }] },
            { type: 'input', block_id: 'b', label: plain('Value'), element: { type: 'plain_text_input', action_id: 'v' } },
          ],
        }) });
      });
      app.action('details', async ({ ack, client, body }) => {
        await ack();
        await client.views.push({ trigger_id: (body as { trigger_id: string }).trigger_id, view: modal('details', 'Details') });
      });
      app.view('details', async ({ ack }) => ack());
      app.view('step-1', async ({ ack }) => ack({ response_action: 'update', view: modal('step-2', 'Step 2') }));
      app.view('step-2', async ({ ack }) => ack({ response_action: 'push', view: modal('step-3', 'Step 3') }));
      app.view('step-3', async ({ ack }) => ack({ response_action: 'clear' }));
    });
    const { transcript } = slack;
    await slack.slashCommand({ user: 'U0ALICE', channel: CHANNEL });
    const root = await transcript.waitFor(() => transcript.views('U0ALICE').find((v) => v.status === 'open'));

    await slack.clickButton({ user: 'U0ALICE', viewId: root.id, actionId: 'details' });
    const details = await transcript.waitFor(() => transcript.views('U0ALICE').find((v) => v.definition.callback_id === 'details'));
    expect(details.previousViewId).toBe(root.id);
    expect((await slack.submitView({ user: 'U0ALICE', viewId: details.id, values: { b: { v: 'x' } } })).view.status).toBe('closed');
    expect(transcript.view(root.id)?.status).toBe('open');

    const updated = await slack.submitView({ user: 'U0ALICE', viewId: root.id, values: { b: { v: 'one' } } });
    expect(updated.responseAction).toBe('update');
    expect(transcript.view(root.id)?.definition.callback_id).toBe('step-2');

    const pushed = await slack.submitView({ user: 'U0ALICE', viewId: root.id, values: { b: { v: 'two' } } });
    expect(pushed.responseAction).toBe('push');
    const step3 = transcript.views('U0ALICE').find((v) => v.definition.callback_id === 'step-3');
    await expect(slack.submitView({ user: 'U0ALICE', viewId: root.id, values: { b: { v: 'x' } } })).rejects.toThrow(/not the modal on top/);

    const cleared = await slack.submitView({ user: 'U0ALICE', viewId: step3!.id, values: { b: { v: 'three' } } });
    expect(cleared.responseAction).toBe('clear');
    expect(transcript.views('U0ALICE').filter((v) => v.status === 'open')).toEqual([]);
    expect(transcript.view(root.id)?.submissions.map((s) => s.values)).toEqual([
      { b: { v: { type: 'plain_text_input', value: 'one' } } },
      { b: { v: { type: 'plain_text_input', value: 'two' } } },
    ]);
    expect(slack.unknownCalls()).toEqual([]);
  });

  it('sends clicks on ephemeral messages without the message, as Slack does', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const slack = await startPair((app) => {
      app.command('/recover', async ({ ack, client, command }) => {
        await ack();
        await client.chat.postEphemeral({ channel: command.channel_id, user: command.user_id, text: 'confirm?', blocks: [
          { type: 'actions', block_id: 'c', elements: [{ type: 'button', action_id: 'yes', value: 'job-9', text: plain('Yes') }] },
        ] });
      });
      app.action('yes', async ({ ack, body }) => {
        await ack();
        seen.push(body as unknown as Record<string, unknown>);
      });
    });
    await slack.slashCommand({ user: 'U0BOB', channel: CHANNEL, text: 'restore' });
    const ephemeral = await slack.transcript.waitFor(() => slack.transcript.ephemerals(CHANNEL, 'U0BOB')[0]);
    await expect(slack.clickButton({ user: 'U0ALICE', channel: CHANNEL, messageTs: ephemeral.ts, actionId: 'yes' })).rejects.toThrow(/cannot see/);
    await slack.clickButton({ user: 'U0BOB', channel: CHANNEL, messageTs: ephemeral.ts, actionId: 'yes' });
    await slack.transcript.waitFor(() => seen.length === 1);
    expect(seen[0]).toMatchObject({
      type: 'block_actions',
      container: { type: 'message', message_ts: ephemeral.ts, channel_id: CHANNEL, is_ephemeral: true },
      actions: [{ action_id: 'yes', block_id: 'c', value: 'job-9', type: 'button' }],
      user: { id: 'U0BOB', username: 'bob' },
    });
    expect(seen[0]).not.toHaveProperty('message');
  });
});
