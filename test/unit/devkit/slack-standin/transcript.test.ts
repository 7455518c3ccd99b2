import { describe, expect, it } from 'vitest';
import { createStandInCore } from '../../../../devkit/slack-standin/core.js';
import { Transcript, type TranscriptEvent } from '../../../../devkit/slack-standin/transcript.js';

function setup() {
  let now = Date.UTC(2024, 4, 1, 10, 0, 0);
  const clock = { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
  return { core: createStandInCore({ botToken: 'xoxb-t', signingSecret: 's', clock }), clock };
}

const planBlocks = [
  { type: 'header', text: { type: 'plain_text', text: 'PITR plan' } },
  { type: 'section', text: { type: 'mrkdwn', text: '1. restore base backup\n2. replay WAL' } },
  { type: 'actions', elements: [
    { type: 'button', action_id: 'approve', style: 'primary', text: { type: 'plain_text', text: 'Approve' } },
    { type: 'button', action_id: 'cancel', text: { type: 'plain_text', text: 'Cancel' } },
  ] },
];

describe('Transcript', () => {
  it('renders a channel with threads, edits and ephemerals as a person reads it', () => {
    const { core, clock } = setup();
    const ts = String(core.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'plan', blocks: planBlocks }).body.ts);
    clock.advance(2000);
    core.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'step 1 done', thread_ts: ts });
    core.call('chat.postEphemeral', { channel: 'C0INCIDENT', user: 'U0BOB', text: 'you cannot approve your own request' });
    core.call('chat.update', { channel: 'C0INCIDENT', ts, text: 'plan', blocks: planBlocks.slice(0, 2) });
    expect(core.transcript.render('C0INCIDENT')).toBe(
      [
        '#incident',
        '[10:00:00] recover-bot (bot) (edited 1x):',
        '    == PITR plan ==',
        '    1. restore base backup',
        '    2. replay WAL',
        '  ↳ [10:00:02] recover-bot (bot):',
        '        step 1 done',
        '[10:00:02] recover-bot (bot) (only visible to @bob):',
        '    you cannot approve your own request',
      ].join('\n'),
    );
  });

  it('describes each change for a live terminal view, and stops after unsubscribe', () => {
    const { core } = setup();
    const seen: string[] = [];
    const events: TranscriptEvent[] = [];
    const stop = core.transcript.onChange((event) => {
      events.push(event);
      const line = core.transcript.describe(event);
      if (line) seen.push(line);
    });
    core.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'plan', blocks: planBlocks });
    stop();
    core.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'after' });
    expect(events.map((e) => e.type)).toEqual(['message_posted', 'api_call']);
    expect(seen).toEqual([
      '[10:00:00] recover-bot (bot):\n    == PITR plan ==\n    1. restore base backup\n    2. replay WAL\n    [Approve (primary)] [Cancel]',
    ]);
  });

  it('waitFor resolves on the change that satisfies it, without polling delays', async () => {
    const { core } = setup();
    const waiting = core.transcript.waitFor(() => core.transcript.findMessage((m) => m.text === 'done'), 1000);
    setTimeout(() => core.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'done' }), 5);
    await expect(waiting).resolves.toMatchObject({ text: 'done', channel: 'C0INCIDENT' });
  });

  it('waitFor times out with the transcript in the error', async () => {
    const { core } = setup();
    core.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'still running' });
    await expect(core.transcript.waitFor(() => core.transcript.findMessage((m) => m.text === 'done'), 100)).rejects.toThrow(
      /timed out after 100 ms[\s\S]*still running/,
    );
  });

  it('textOf collects the text a user sees, blocks included', () => {
    expect(Transcript.textOf({ text: 'fallback', blocks: planBlocks })).toBe(
      'fallback\nPITR plan\n1. restore base backup\n2. replay WAL\nApprove\nCancel',
    );
  });

  it('findMessage returns the newest match across channels and threads', () => {
    const { core } = setup();
    const ts = String(core.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'status: running' }).body.ts);
    core.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'status: done', thread_ts: ts });
    expect(core.transcript.findMessage((m) => m.text.startsWith('status'))?.text).toBe('status: done');
  });
});
