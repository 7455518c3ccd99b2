import { describe, expect, it } from 'vitest';
import { findMarked, mayHavePosted, POST_EVENT_TYPE } from '../../../src/slack/io/posts-once.js';

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
