import type { webApi } from '@slack/bolt';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { findMarked, mayHavePosted, POST_EVENT_TYPE, PostsOnce } from '../../../src/slack/io/posts-once.js';
import type { Logger } from '../../../src/types.js';

const platform = (error: string) => Object.assign(new Error(error), { code: 'slack_webapi_platform_error', data: { ok: false, error } });

describe('mayHavePosted: after which failures the message may exist (look before posting again)', () => {
  it.each([
    ['a timeout or reset (request error)', Object.assign(new Error('aborted'), { code: 'slack_webapi_request_error' }), true],
    ['an HTTP 5xx', Object.assign(new Error('503'), { code: 'slack_webapi_http_error', statusCode: 503 }), true],
    ['Slack failing internally', platform('internal_error'), true],
    ['a 429 (not processed)', Object.assign(new Error('429'), { code: 'slack_webapi_rate_limited_error', retryAfter: 1 }), false],
    ['a refusal (invalid_blocks)', platform('invalid_blocks'), false],
    ['not in the channel', platform('not_in_channel'), false],
  ])('%s -> %s', (_name, error, expected) => {
    expect(mayHavePosted(error)).toBe(expected);
  });
});

describe('findMarked: our message with the key, the earliest if several', () => {
  const self = { userId: 'U0BOT', botId: 'B0BOT' };
  const mark = (key: string) => ({ event_type: POST_EVENT_TYPE, event_payload: { key } });
  it.each([
    ['none marked', [{ ts: '1.1', bot_id: 'B0BOT' }], undefined],
    ['another key', [{ ts: '1.1', bot_id: 'B0BOT', metadata: mark('k2') }], undefined],
    ['another app with our key', [{ ts: '1.1', bot_id: 'B0OTHER', user: 'U0OTHER', metadata: mark('k') }], undefined],
    ['another event type', [{ ts: '1.1', bot_id: 'B0BOT', metadata: { event_type: 'x', event_payload: { key: 'k' } } }], undefined],
    ['ours by bot id', [{ ts: '1.2', bot_id: 'B0BOT', metadata: mark('k') }], '1.2'],
    ['ours by user', [{ ts: '1.3', user: 'U0BOT', metadata: mark('k') }], '1.3'],
    ['two copies: the earliest', [{ ts: '2.5', bot_id: 'B0BOT', metadata: mark('k') }, { ts: '2.25', bot_id: 'B0BOT', metadata: mark('k') }], '2.25'],
  ])('%s', (_name, messages, expected) => {
    expect(findMarked(messages, 'k', self)).toBe(expected);
  });
});

/** A fake Web API: each send may make the message and then fail as scripted; look-ups read what was made. */
function fakeSlack(script: Array<'ok' | 'timeout-made' | 'timeout-lost' | '429' | 'invalid_blocks'>, lookup: 'ok' | 'missing_scope' = 'ok') {
  const made: Array<{ ts: string; bot_id: string; thread_ts?: string; metadata: { event_type: string; event_payload: Record<string, unknown> } }> = [];
  const calls: string[] = [];
  let n = 0;
  const writer = {
    chat: {
      postMessage: async (args: { thread_ts?: string; metadata: { event_type: string; event_payload: Record<string, unknown> } }) => {
        calls.push('post');
        const step = script[n++] ?? 'ok';
        if (step === '429') throw Object.assign(new Error('429'), { code: 'slack_webapi_rate_limited_error', retryAfter: 0 });
        if (step === 'invalid_blocks') throw platform('invalid_blocks');
        if (step === 'timeout-lost') throw Object.assign(new Error('The operation was aborted due to timeout'), { code: 'slack_webapi_request_error' });
        const ts = `100.${String(made.length + 1).padStart(6, '0')}`;
        made.push({ ts, bot_id: 'B0BOT', ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}), metadata: args.metadata });
        if (step === 'timeout-made') throw Object.assign(new Error('The operation was aborted due to timeout'), { code: 'slack_webapi_request_error' });
        return { ok: true, ts };
      },
    },
  };
  const read = async (args: { include_all_metadata?: boolean }) => {
    calls.push('lookup');
    if (lookup === 'missing_scope') throw platform('missing_scope');
    expect(args.include_all_metadata).toBe(true);
    return { ok: true, messages: made, response_metadata: { next_cursor: '' } };
  };
  const reader = { auth: { test: async () => ({ ok: true, user_id: 'U0BOT', bot_id: 'B0BOT' }) }, conversations: { replies: read, history: read } };
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
  const posts = new PostsOnce({
    writer: writer as unknown as webApi.WebClient, reader: reader as unknown as webApi.WebClient, control: null as unknown as pg.Pool,
    log: log as unknown as Logger, wait: async () => undefined,
  });
  return { posts, made, calls };
}

describe('PostsOnce: look before posting again', () => {
  const message = { text: 'Step done: Replay WAL', blocks: [] };
  it.each([
    ['answered', ['ok'], 1, ['post']],
    ['made, answered too late: found, not posted again', ['timeout-made'], 1, ['post', 'lookup']],
    ['lost on the way: posted again once', ['timeout-lost', 'ok'], 1, ['post', 'lookup', 'post']],
    ['made late twice over: still one', ['timeout-lost', 'timeout-made'], 1, ['post', 'lookup', 'post', 'lookup']],
    ['a 429 is sent again without a look', ['429', 'ok'], 1, ['post', 'post']],
  ] as const)('%s', async (_name, script, messages, calls) => {
    const slack = fakeSlack([...script]);
    const ts = await slack.posts.post('C1', message, '99.000001');
    expect(slack.made).toHaveLength(messages);
    expect(ts).toBe(slack.made[0]!.ts);
    expect(slack.calls).toEqual(calls);
  });

  it('gives up at once on a refusal, and after 4 attempts when Slack never answers', async () => {
    const refused = fakeSlack(['invalid_blocks']);
    await expect(refused.posts.post('C1', message)).rejects.toMatchObject({ code: 'SLACK_API_ERROR' });
    expect(refused.calls).toEqual(['post']);
    const silent = fakeSlack(['timeout-lost', 'timeout-lost', 'timeout-lost', 'timeout-lost']);
    await expect(silent.posts.post('C1', message)).rejects.toMatchObject({ code: 'SLACK_API_ERROR' });
    expect(silent.calls.filter((c) => c === 'post')).toHaveLength(4);
  });

  it('posts again as before when it may not read the history (no channels:history scope)', async () => {
    const slack = fakeSlack(['timeout-lost', 'ok'], 'missing_scope');
    await slack.posts.post('C1', message);
    expect(slack.calls).toEqual(['post', 'lookup', 'post']);
  });
});
