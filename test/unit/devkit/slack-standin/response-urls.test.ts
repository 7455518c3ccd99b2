import { describe, expect, it } from 'vitest';
import { createStandInCore } from '../../../../devkit/slack-standin/core.js';
import { RESPONSE_URL_TTL_MS, ResponseUrls } from '../../../../devkit/slack-standin/response-urls.js';

function manualClock(start = Date.UTC(2024, 4, 1, 10, 0, 0)) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

function setup() {
  const clock = manualClock();
  const core = createStandInCore({ botToken: 'xoxb-t', signingSecret: 's', clock });
  const urls = new ResponseUrls({ baseUrl: () => 'http://127.0.0.1:1/', clock, transcript: core.transcript, workspace: core.workspace });
  const idOf = (url: string) => url.split('/').at(-1) ?? '';
  return { clock, core, urls, idOf };
}

describe('response_url', () => {
  it('works 5 times, then answers used_url', () => {
    const { urls, idOf, core } = setup();
    const id = idOf(urls.issue('C0INCIDENT', 'U0ALICE'));
    for (let i = 1; i <= 5; i += 1) expect(urls.post(id, { text: `update ${i}` }).status).toBe(200);
    expect(urls.post(id, { text: 'sixth' })).toEqual({ status: 404, body: { ok: false, error: 'used_url' } });
    expect(core.transcript.ephemerals('C0INCIDENT', 'U0ALICE')).toHaveLength(5);
    expect(urls.uses.map((u) => u.status)).toEqual([200, 200, 200, 200, 200, 404]);
  });

  it('expires after 30 minutes', () => {
    const { urls, idOf, clock } = setup();
    const id = idOf(urls.issue('C0INCIDENT', 'U0ALICE'));
    clock.advance(RESPONSE_URL_TTL_MS + 1);
    expect(urls.post(id, { text: 'late' })).toEqual({ status: 404, body: { ok: false, error: 'expired_url' } });
    expect(urls.post('feedface', { text: 'x' }).status).toBe(404);
  });

  it('posts in the channel, replaces or deletes the original message', () => {
    const { urls, idOf, core } = setup();
    const ts = String(core.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'plan' }).body.ts);
    const original = core.transcript.message('C0INCIDENT', ts);
    const id = idOf(urls.issue('C0INCIDENT', 'U0ALICE', original));
    urls.post(id, { response_type: 'in_channel', text: 'for everyone' });
    expect(core.transcript.messages('C0INCIDENT').map((m) => m.text)).toEqual(['plan', 'for everyone']);
    urls.post(id, { replace_original: true, text: 'plan (approved)' });
    expect(core.transcript.message('C0INCIDENT', ts)?.text).toBe('plan (approved)');
    urls.post(id, { delete_original: true });
    expect(core.transcript.messages('C0INCIDENT').map((m) => m.text)).toEqual(['for everyone']);
  });

  it('validates blocks like chat.postMessage', () => {
    const { urls, idOf } = setup();
    const id = idOf(urls.issue('C0INCIDENT', 'U0ALICE'));
    const result = urls.post(id, { blocks: [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }] });
    expect(result.status).toBe(400);
    expect(result.body.error).toBe('invalid_blocks');
  });
});
