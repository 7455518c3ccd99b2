/**
 * The web view's HTTP side without a browser: the page and its CSP, the state per acting user,
 * live change events, uploaded images, and what it refuses (non-JSON posts, a button the user
 * cannot see). The browser test (test/integration/slack/web-view.test.ts) clicks through it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackStandIn, type SlackStandIn } from '../../../../devkit/slack-standin/index.js';
import type { WebMessage } from '../../../../devkit/slack-standin/web/channel-html.js';

let slack: SlackStandIn | undefined;

afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

async function start(): Promise<SlackStandIn> {
  slack = await startSlackStandIn({ botToken: 'xoxb-web', signingSecret: 's' });
  return slack;
}

const post = async (s: SlackStandIn, action: string, body: unknown, type = 'application/json') => {
  const response = await fetch(`${s.webUrl}web/${action}`, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const state = async (s: SlackStandIn, user: string) =>
  (await (await fetch(`${s.webUrl}web/state?user=${user}&channel=C0INCIDENT`)).json()) as { version: number; user: string; users: Array<{ id: string }>; channelHtml: string; modalHtml: string };

describe('the stand-in web view over HTTP', () => {
  it('serves the page with a CSP that allows no inline script, and its script', async () => {
    const s = await start();
    expect(s.webUrl).toBe(`http://127.0.0.1:${s.port}/`);
    const page = await fetch(s.webUrl);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect(await page.text()).toContain('<script src="/web/app.js" defer></script>');
    const script = await fetch(`${s.webUrl}web/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain("new EventSource('/web/events')");
    expect((await fetch(`${s.webUrl}nope`)).status).toBe(404);
  });

  it('shows each user the channel with their own ephemerals only', async () => {
    const s = await start();
    const t = s.transcript;
    t.addMessage({ channel: 'C0INCIDENT', ts: s.workspace.nextTs(), user: 'U0ALICE', text: 'for everyone', postedAt: new Date(), via: 'slack' });
    t.addMessage({ channel: 'C0INCIDENT', ts: s.workspace.nextTs(), user: 'U0RECOVERBOT', botId: 'B0RECOVERBOT', text: 'just for bob', visibleTo: 'U0BOB', postedAt: new Date(), via: 'web_api' });
    const alice = await state(s, 'U0ALICE');
    const bob = await state(s, 'U0BOB');
    expect(alice.users.map((u) => u.id)).toEqual(['U0ALICE', 'U0BOB']);
    expect(alice.channelHtml).toContain('for everyone');
    expect(alice.channelHtml).not.toContain('just for bob');
    expect(bob.channelHtml).toContain('just for bob');
    expect(bob.channelHtml).toContain('Only visible to you');
    // An unknown user falls back to the first person in the workspace.
    expect((await state(s, 'U0NOBODY')).user).toBe('U0ALICE');
  });

  it('announces every change over server-sent events', async () => {
    const s = await start();
    const controller = new AbortController();
    const response = await fetch(`${s.webUrl}web/events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    const next = async (pattern: RegExp) => {
      while (!pattern.test(received)) received += decoder.decode((await reader.read()).value);
    };
    await next(/data: 0\n\n/);
    s.transcript.addMessage({ channel: 'C0INCIDENT', ts: s.workspace.nextTs(), user: 'U0ALICE', text: 'hello', postedAt: new Date(), via: 'slack' });
    await next(/data: 1\n\n/);
    controller.abort();
  });

  it('serves an uploaded image by file id, and nothing else', async () => {
    const s = await start();
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const message: WebMessage = s.transcript.addMessage({ channel: 'C0INCIDENT', ts: s.workspace.nextTs(), user: 'U0RECOVERBOT', botId: 'B0RECOVERBOT', text: '', postedAt: new Date(), via: 'web_api' });
    // As files.completeUploadExternal leaves a shared file on its message.
    message.files = [{ id: 'F0CHART', name: 'rto.png', title: 'RTO trend', mimetype: 'image/png', altText: 'RTO of the last 8 drills', bytes: png }, { id: 'F0SVG', name: 'x.svg', mimetype: 'image/svg+xml', bytes: Buffer.from('<svg/>') }];
    expect((await state(s, 'U0ALICE')).channelHtml).toContain('<img src="/web/files/F0CHART" alt="RTO of the last 8 drills">');
    const image = await fetch(`${s.webUrl}web/files/F0CHART`);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await image.arrayBuffer())).toEqual(png);
    const svg = await fetch(`${s.webUrl}web/files/F0SVG`);
    expect(svg.headers.get('content-type')).toBe('application/octet-stream');
    expect(svg.headers.get('content-disposition')).toBe('attachment');
    expect((await fetch(`${s.webUrl}web/files/F0NONE`)).status).toBe(404);
  });

  it('refuses what a cross-site form could send, and says why an action cannot be done', async () => {
    const s = await start();
    expect(await post(s, 'command', 'user=U0ALICE&channel=C0INCIDENT&line=/recover', 'application/x-www-form-urlencoded')).toEqual({ status: 415, body: { ok: false, error: 'send JSON (content-type: application/json)' } });
    const hidden = s.transcript.addMessage({
      channel: 'C0INCIDENT', ts: s.workspace.nextTs(), user: 'U0RECOVERBOT', botId: 'B0RECOVERBOT', text: 'x', visibleTo: 'U0BOB', postedAt: new Date(), via: 'web_api',
      blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'go', text: { type: 'plain_text', text: 'Go' } }] }],
    });
    const click = await post(s, 'click', { user: 'U0ALICE', actionId: 'go', channel: 'C0INCIDENT', messageTs: hidden.ts });
    expect(click).toEqual({ status: 400, body: { ok: false, error: `U0ALICE cannot see a message ${hidden.ts} in C0INCIDENT` } });
    expect(await post(s, 'command', { user: 'U0ALICE', channel: 'C0INCIDENT', line: 'hello' })).toMatchObject({ status: 400, body: { error: expect.stringContaining('type a slash command') } });
    expect(await post(s, 'close', { user: 'U0ALICE', viewId: 'V0NONE' })).toEqual({ status: 400, body: { ok: false, error: 'U0ALICE has no open view V0NONE' } });
  });
});
