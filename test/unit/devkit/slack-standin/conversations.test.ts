import { describe, expect, it } from 'vitest';
import { createStandInCore } from '../../../../devkit/slack-standin/core.js';

const core = () => createStandInCore({ botToken: 'xoxb-t', signingSecret: 's' });
const marker = (key: string) => JSON.stringify({ event_type: 'recover_bot_post', event_payload: { key } });

describe('stand-in conversations.history / conversations.replies with message metadata', () => {
  it('keeps a post\'s metadata and returns it only with include_all_metadata', () => {
    const c = core();
    const parent = c.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'status', metadata: marker('job:1:status') }).body;
    c.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'step', thread_ts: parent.ts, metadata: marker('job:1:event:5:step') });
    const plain = c.call('conversations.history', { channel: 'C0INCIDENT' }).body;
    expect((plain.messages as Array<Record<string, unknown>>).map((m) => m.metadata)).toEqual([undefined]);
    const withMetadata = c.call('conversations.history', { channel: 'C0INCIDENT', include_all_metadata: 'true' }).body;
    expect((withMetadata.messages as Array<Record<string, unknown>>).map((m) => m.metadata)).toEqual([{ event_type: 'recover_bot_post', event_payload: { key: 'job:1:status' } }]);
    const thread = c.call('conversations.replies', { channel: 'C0INCIDENT', ts: parent.ts, include_all_metadata: true }).body;
    expect((thread.messages as Array<{ text: string; metadata?: { event_payload: { key: string } } }>).map((m) => [m.text, m.metadata?.event_payload.key]))
      .toEqual([['status', 'job:1:status'], ['step', 'job:1:event:5:step']]);
  });

  it('pages newest first within the oldest/latest window, and refuses malformed metadata', () => {
    const c = core();
    const ts = [1, 2, 3, 4, 5].map((n) => String(c.call('chat.postMessage', { channel: 'C0INCIDENT', text: `m${n}` }).body.ts));
    const first = c.call('conversations.history', { channel: 'C0INCIDENT', oldest: ts[0], limit: 2 }).body;
    expect((first.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(['m5', 'm4']);
    expect(first.has_more).toBe(true);
    const cursor = (first.response_metadata as { next_cursor: string }).next_cursor;
    const second = c.call('conversations.history', { channel: 'C0INCIDENT', oldest: ts[0], limit: 2, cursor }).body;
    expect((second.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(['m3', 'm2']);
    expect(c.call('conversations.replies', { channel: 'C0INCIDENT', ts: '1.000001' }).body.error).toBe('thread_not_found');
    expect(c.call('conversations.history', { channel: 'C0INCIDENT', oldest: 'yesterday' }).body.error).toBe('invalid_ts_oldest');
    expect(c.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'x', metadata: '{"event_payload":{}}' }).body.error).toBe('invalid_metadata_format');
    expect(c.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'x', metadata: 'not json' }).body.error).toBe('invalid_metadata_format');
    expect(c.webApi.unknownCalls()).toEqual([]);
  });
});
