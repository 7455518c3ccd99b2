import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { acksAtOnce, parseBody, verifySignature } from '../../../src/slack/io/fast-ack-receiver.js';

const secret = 'signing-secret';
const sign = (timestamp: number, body: string) => `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;

describe('verifySignature', () => {
  const body = 'command=%2Frecover&text=help';
  const now = 1_700_000_000;
  test.each([
    ['a correct signature', { 'x-slack-signature': sign(now, body), 'x-slack-request-timestamp': String(now) }, true],
    ['a signature over other bytes', { 'x-slack-signature': sign(now, `${body}x`), 'x-slack-request-timestamp': String(now) }, false],
    ['a timestamp older than 5 minutes', { 'x-slack-signature': sign(now - 301, body), 'x-slack-request-timestamp': String(now - 301) }, false],
    ['a timestamp from the future', { 'x-slack-signature': sign(now + 301, body), 'x-slack-request-timestamp': String(now + 301) }, false],
    ['missing headers', {}, false],
    ['a truncated signature', { 'x-slack-signature': sign(now, body).slice(0, 20), 'x-slack-request-timestamp': String(now) }, false],
  ])('%s', (_name, headers, ok) => {
    expect(verifySignature(secret, headers, body, now)).toBe(ok);
  });
});

describe('which requests are acknowledged before Bolt runs', () => {
  test('slash commands and button clicks at once; modal submissions wait for their ack body', () => {
    expect(acksAtOnce(parseBody('command=%2Frecover&text=status', 'application/x-www-form-urlencoded'))).toBe(true);
    expect(acksAtOnce(parseBody(`payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions' }))}`, 'application/x-www-form-urlencoded'))).toBe(true);
    expect(acksAtOnce(parseBody(`payload=${encodeURIComponent(JSON.stringify({ type: 'view_submission' }))}`, 'application/x-www-form-urlencoded'))).toBe(false);
    expect(parseBody('{"type":"url_verification","challenge":"c"}', 'application/json')).toEqual({ type: 'url_verification', challenge: 'c' });
  });
});
