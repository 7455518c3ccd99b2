import { ErrorCode, LogLevel, WebClient, type Logger } from '@slack/web-api';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackStandIn, type SlackStandIn } from '../../../../devkit/slack-standin/index.js';

const botToken = 'xoxb-http-test';
// The Web API client logs Slack's error messages itself; the assertions below cover them.
const quiet: Logger = {
  debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined,
  setLevel: () => undefined, getLevel: () => LogLevel.ERROR, setName: () => undefined,
};
let slack: SlackStandIn | undefined;

afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

async function start(): Promise<SlackStandIn> {
  slack = await startSlackStandIn({ botToken, signingSecret: 's' });
  return slack;
}

async function post(url: string, body: string, contentType: string, auth = `Bearer ${botToken}`) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType, authorization: auth }, body });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Record<string, unknown> };
}

describe('Slack stand-in over HTTP', () => {
  it('listens on 127.0.0.1 and serves the Web API under /api/', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    slack = await startSlackStandIn({ botToken, signingSecret: 's', log });
    const s = slack;
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/api/`);
    const auth = await post(`${s.url}auth.test`, '', 'application/x-www-form-urlencoded');
    expect(auth.body).toMatchObject({ ok: true, user_id: 'U0RECOVERBOT', bot_id: 'B0RECOVERBOT' });
    expect(lines.join('')).toContain('"method":"auth.test"');
  });

  it('accepts form-encoded, JSON and query-string parameters alike', async () => {
    const s = await start();
    const blocks = JSON.stringify([{ type: 'section', text: { type: 'mrkdwn', text: '*form*' } }]);
    const form = await post(`${s.url}chat.postMessage`, new URLSearchParams({ channel: 'C0INCIDENT', blocks }).toString(), 'application/x-www-form-urlencoded');
    expect(form.body.ok).toBe(true);
    const json = await post(`${s.url}chat.postMessage`, JSON.stringify({ channel: 'C0INCIDENT', text: 'json' }), 'application/json; charset=utf-8');
    expect(json.body.ok).toBe(true);
    const query = await fetch(`${s.url}conversations.info?channel=C0INCIDENT`, { headers: { authorization: `Bearer ${botToken}` } });
    expect(((await query.json()) as { channel: { name: string } }).channel.name).toBe('incident');
    expect(s.transcript.messages('C0INCIDENT').map((m) => m.text)).toEqual(['', 'json']);
  });

  it("answers unreadable bodies with Slack's codes", async () => {
    const s = await start();
    expect((await post(`${s.url}chat.postMessage`, '{', 'application/json')).body.error).toBe('invalid_json');
    expect((await post(`${s.url}chat.postMessage`, '[1]', 'application/json')).body.error).toBe('json_not_object');
    expect((await post(`${s.url}chat.postMessage`, 'x', 'multipart/form-data; boundary=x')).body.error).toBe('invalid_form_data');
    expect((await post(`${s.url}auth.test`, '', 'application/json', 'Bearer xoxb-wrong')).body.error).toBe('invalid_auth');
  });

  it('sends HTTP 429 with Retry-After, which @slack/web-api turns into a rate-limited error', async () => {
    const s = await start();
    s.rateLimit('chat.postMessage', { count: 1, retryAfterSeconds: 12 });
    const client = new WebClient(botToken, { slackApiUrl: s.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    await expect(client.chat.postMessage({ channel: 'C0INCIDENT', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 12,
    });
    await expect(client.chat.postMessage({ channel: 'C0INCIDENT', text: 'x' })).resolves.toMatchObject({ ok: true });
    expect(s.calls.map((c) => [c.method, c.status, c.error])).toEqual([
      ['chat.postMessage', 429, 'ratelimited'],
      ['chat.postMessage', 200, undefined],
    ]);
  });

  it('enforces an automatic budget (e.g. chat.update per workspace)', async () => {
    const s = await start();
    s.setBudget('chat.update', { limit: 2, windowSeconds: 60, per: 'workspace' });
    const client = new WebClient(botToken, { slackApiUrl: s.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    const { ts } = await client.chat.postMessage({ channel: 'C0INCIDENT', text: 'progress 0%' });
    await client.chat.update({ channel: 'C0INCIDENT', ts: ts!, text: 'progress 10%' });
    await client.chat.update({ channel: 'C0INCIDENT', ts: ts!, text: 'progress 20%' });
    await expect(client.chat.update({ channel: 'C0INCIDENT', ts: ts!, text: 'progress 30%' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
    });
    expect(s.transcript.message('C0INCIDENT', ts!)?.text).toBe('progress 20%');
  });

  it('reports Slack errors through @slack/web-api as platform errors', async () => {
    const s = await start();
    const client = new WebClient(botToken, { slackApiUrl: s.url, retryConfig: { retries: 0 }, logger: quiet });
    await expect(
      client.chat.postMessage({ channel: 'C0INCIDENT', text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }] }),
    ).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: 'invalid_blocks', response_metadata: { messages: ['[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]'] } },
    });
    await expect(client.apiCall('chat.unfurlEverything', {})).rejects.toMatchObject({ data: { error: 'unknown_method' } });
    expect(s.unknownCalls().map((u) => u.call.method)).toEqual(['chat.unfurlEverything']);
  });

  // Without closing idle keep-alive sockets, close() waits for the client's keep-alive timeout
  // (minutes with undici): this test's own timeout catches that, without measuring time itself.
  it('closes even with keep-alive clients connected', async () => {
    const s = await start();
    const client = new WebClient(botToken, { slackApiUrl: s.url, retryConfig: { retries: 0 } });
    await client.auth.test();
    await s.close();
    slack = undefined;
    await expect(fetch(`${s.url}auth.test`)).rejects.toThrow();
  }, 30_000);
});
