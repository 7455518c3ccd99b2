import { describe, expect, it } from 'vitest';
import { createStandInCore } from '../../../../devkit/slack-standin/core.js';
import type { SlackStandInOptions } from '../../../../devkit/slack-standin/types.js';

function manualClock(start = Date.UTC(2024, 4, 1, 10, 0, 0)) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

function setup(over: Partial<SlackStandInOptions> = {}) {
  const clock = manualClock();
  const core = createStandInCore({
    botToken: 'xoxb-good',
    signingSecret: 's',
    clock,
    channels: [
      { id: 'C1', name: 'incident' },
      { id: 'C2', name: 'archived', isArchived: true },
      { id: 'C3', name: 'elsewhere', botIsMember: false },
    ],
    usergroups: { S1: ['U0ALICE', 'U0BOB'] },
    ...over,
  });
  return { core, clock };
}

const modal = { type: 'modal', title: { type: 'plain_text', text: 'Approve' }, blocks: [] };
const errorOf = (body: Record<string, unknown>) => (body.ok ? 'ok' : String(body.error));

describe('Web API front door', () => {
  it('checks the token from the header or the body', () => {
    const { core } = setup();
    expect(core.webApi.call({ method: 'auth.test', params: {} }).body).toEqual({ ok: false, error: 'not_authed' });
    expect(core.webApi.call({ method: 'auth.test', params: {}, bearer: 'xoxb-bad' }).body.error).toBe('invalid_auth');
    expect(core.webApi.call({ method: 'auth.test', params: { token: 'xoxb-good' } }).body).toMatchObject({
      ok: true, user_id: 'U0RECOVERBOT', bot_id: 'B0RECOVERBOT', team_id: 'T0STANDIN',
    });
  });

  it('answers unknown methods and records them for unknownCalls()', () => {
    const { core } = setup();
    expect(core.call('chat.postMessageX', { channel: 'C1' }).body).toEqual({ ok: false, error: 'unknown_method' });
    core.call('chat.postMessage', { channel: 'C1', text: 'hi', thread_broadcast: 'true' });
    expect(core.webApi.unknownCalls().map((u) => [u.call.method, u.reason, u.unknownParams])).toEqual([
      ['chat.postMessageX', 'unknown_method', []],
      ['chat.postMessage', 'unknown_params', ['thread_broadcast']],
    ]);
    expect(core.transcript.calls.every((c) => !('token' in c.params))).toBe(true);
  });

  it('answers missing_scope with what was needed and provided', () => {
    const { core } = setup({ scopes: ['chat:write'] });
    expect(core.call('users.info', { user: 'U0ALICE' }).body).toEqual({
      ok: false, error: 'missing_scope', needed: 'users:read', provided: 'chat:write',
    });
  });

  it('answers invalid_arguments naming each missing required parameter', () => {
    const { core } = setup();
    const body = core.call('chat.update', { text: 'x' }).body;
    expect(body.error).toBe('invalid_arguments');
    expect(body.response_metadata).toEqual({ messages: ['[ERROR] missing required field: channel', '[ERROR] missing required field: ts'] });
  });

  it('answers 429 with Retry-After for forced limits, then recovers', () => {
    const { core } = setup();
    core.rateLimiter.force('chat.postMessage', { count: 2, retryAfterSeconds: 7 });
    const first = core.call('chat.postMessage', { channel: 'C1', text: 'a' });
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('7');
    expect(first.body).toEqual({ ok: false, error: 'ratelimited' });
    expect(core.call('chat.postMessage', { channel: 'C1', text: 'a' }).status).toBe(429);
    expect(core.call('chat.postMessage', { channel: 'C1', text: 'a' }).status).toBe(200);
    expect(core.transcript.messages('C1')).toHaveLength(1);
  });
});

describe('chat.*', () => {
  it.each([
    ['unknown channel', { channel: 'C404', text: 'x' }, 'channel_not_found'],
    ['archived channel', { channel: 'C2', text: 'x' }, 'is_archived'],
    ['channel without the bot', { channel: 'C3', text: 'x' }, 'not_in_channel'],
    ['no text nor blocks', { channel: 'C1' }, 'no_text'],
    ['blocks that are not JSON', { channel: 'C1', blocks: '[{' }, 'invalid_blocks'],
    ['form-encoded blocks', { channel: 'C1', blocks: '[{"type":"divider"}]' }, 'ok'],
    ['channel by name', { channel: '#incident', text: 'x' }, 'ok'],
  ])('chat.postMessage with %s → %s', (_name, params, expected) => {
    const { core } = setup();
    expect(errorOf(core.call('chat.postMessage', params).body)).toBe(expected);
  });

  it('updates only existing bot messages and keeps the edit history', () => {
    const { core, clock } = setup();
    const ts = String(core.call('chat.postMessage', { channel: 'C1', text: 'v1', blocks: [{ type: 'divider' }] }).body.ts);
    clock.advance(1000);
    expect(errorOf(core.call('chat.update', { channel: 'C1', ts, text: 'v2' }).body)).toBe('ok');
    const message = core.transcript.message('C1', ts);
    expect(message?.text).toBe('v2');
    expect(message?.blocks).toEqual([{ type: 'divider' }]);
    expect(message?.edits.map((e) => e.text)).toEqual(['v1']);
    expect(errorOf(core.call('chat.update', { channel: 'C1', ts: '1.000001', text: 'x' }).body)).toBe('message_not_found');
    const human = core.transcript.addMessage({ channel: 'C1', ts: '2.000001', user: 'U0ALICE', text: 'hi', postedAt: clock.now(), via: 'slack' });
    expect(errorOf(core.call('chat.update', { channel: 'C1', ts: human.ts, text: 'x' }).body)).toBe('cant_update_message');
  });

  it('threads replies and keeps ephemerals per user', () => {
    const { core } = setup();
    const ts = String(core.call('chat.postMessage', { channel: 'C1', text: 'status' }).body.ts);
    core.call('chat.postMessage', { channel: 'C1', text: 'step 1 done', thread_ts: ts });
    expect(errorOf(core.call('chat.postEphemeral', { channel: 'C1', user: 'U0BOB', text: 'only you' }).body)).toBe('ok');
    expect(errorOf(core.call('chat.postEphemeral', { channel: 'C1', user: 'U404', text: 'x' }).body)).toBe('user_not_in_channel');
    expect(core.transcript.messages('C1').map((m) => m.text)).toEqual(['status']);
    expect(core.transcript.thread('C1', ts).map((m) => m.text)).toEqual(['step 1 done']);
    expect(core.transcript.ephemerals('C1', 'U0BOB').map((m) => m.text)).toEqual(['only you']);
    expect(core.transcript.ephemerals('C1', 'U0ALICE')).toEqual([]);
    const reply = core.transcript.thread('C1', ts)[0];
    expect(core.call('chat.getPermalink', { channel: 'C1', message_ts: reply?.ts }).body.permalink).toBe(
      `https://standin.slack.com/archives/C1/p${reply?.ts.replace('.', '')}?thread_ts=${ts}&cid=C1`,
    );
  });
});

describe('views.*', () => {
  it('opens with a fresh trigger only: expired, reused and unknown triggers fail', () => {
    const { core, clock } = setup();
    const fresh = core.triggers.issue('U0ALICE');
    const stale = core.triggers.issue('U0ALICE');
    expect(errorOf(core.call('views.open', { trigger_id: fresh, view: JSON.stringify(modal) }).body)).toBe('ok');
    expect(errorOf(core.call('views.open', { trigger_id: fresh, view: modal }).body)).toBe('invalid_trigger_id');
    expect(errorOf(core.call('views.open', { trigger_id: 'nope', view: modal }).body)).toBe('invalid_trigger_id');
    clock.advance(3001);
    expect(errorOf(core.call('views.open', { trigger_id: stale, view: modal }).body)).toBe('expired_trigger_id');
    expect(core.transcript.views('U0ALICE').map((v) => v.status)).toEqual(['open']);
  });

  it('rejects invalid views with invalid_arguments and Slack-style messages', () => {
    const { core } = setup();
    const body = core.call('views.open', {
      trigger_id: core.triggers.issue('U0ALICE'),
      view: { ...modal, title: { type: 'plain_text', text: 'A title that is far too long' } },
    }).body;
    expect(body.error).toBe('invalid_arguments');
    expect(body.response_metadata).toEqual({ messages: ['[ERROR] must be less than 25 characters [json-pointer:/view/title/text]'] });
  });

  it('pushes at most 3 views and detects update races by hash', () => {
    const { core } = setup();
    const open = (method: string) => core.call(method, { trigger_id: core.triggers.issue('U0ALICE'), view: modal }).body;
    const root = open('views.open').view as { id: string; hash: string };
    expect(errorOf(open('views.push'))).toBe('ok');
    expect(errorOf(open('views.push'))).toBe('ok');
    expect(errorOf(open('views.push'))).toBe('push_limit_reached');
    const updated = core.call('views.update', { view_id: root.id, hash: root.hash, view: modal }).body;
    expect(errorOf(updated)).toBe('ok');
    expect(errorOf(core.call('views.update', { view_id: root.id, hash: root.hash, view: modal }).body)).toBe('hash_conflict');
    expect(errorOf(core.call('views.update', { view_id: 'V404', view: modal }).body)).toBe('not_found');
    expect(core.transcript.view(root.id)?.history).toHaveLength(2);
  });
});

describe('directory methods', () => {
  it.each([
    ['users.info', { user: 'U0ALICE' }, 'ok'],
    ['users.info', { user: 'U404' }, 'user_not_found'],
    ['usergroups.users.list', { usergroup: 'S1' }, 'ok'],
    ['usergroups.users.list', { usergroup: 'S404' }, 'no_such_subteam'],
    ['conversations.info', { channel: 'C1' }, 'ok'],
    ['conversations.info', { channel: 'C404' }, 'channel_not_found'],
  ])('%s %j → %s', (method, params, expected) => {
    const { core } = setup();
    expect(errorOf(core.call(method, params).body)).toBe(expected);
  });

  it('reports admins and usergroup members', () => {
    const { core } = setup();
    expect(core.call('users.info', { user: 'U0ALICE' }).body.user).toMatchObject({ id: 'U0ALICE', name: 'alice', is_admin: true });
    expect(core.call('usergroups.users.list', { usergroup: 'S1' }).body.users).toEqual(['U0ALICE', 'U0BOB']);
  });
});
