import { createHmac } from 'node:crypto';
import { isValidSlackRequest } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { forgedSignature, signedHeaders, slackSignature, verifySlackRequest } from '../../../../devkit/slack-standin/signing.js';

// The worked example from Slack's "Verifying requests from Slack" page.
const docs = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: 1531420618,
  body:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
    '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com' +
    '%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

describe('slackSignature', () => {
  it("reproduces the example in Slack's documentation", () => {
    expect(slackSignature(docs.secret, docs.timestamp, docs.body)).toBe(docs.signature);
  });

  it('matches an HMAC computed independently here', () => {
    const expected = `v0=${createHmac('sha256', 'shh').update('v0:1700000000:a=1&b=2').digest('hex')}`;
    expect(slackSignature('shh', 1_700_000_000, 'a=1&b=2')).toBe(expected);
  });

  it("is accepted by Bolt's own verifier, and a forged one is not", () => {
    const now = 1_700_000_000;
    const headers = signedHeaders('shh', now, 'x=1');
    const boltHeaders = { 'x-slack-signature': headers['x-slack-signature'] ?? '', 'x-slack-request-timestamp': now };
    expect(isValidSlackRequest({ signingSecret: 'shh', body: 'x=1', headers: boltHeaders, nowMilliseconds: now * 1000 })).toBe(true);
    const forged = { ...boltHeaders, 'x-slack-signature': forgedSignature('shh', now, 'x=1') };
    expect(isValidSlackRequest({ signingSecret: 'shh', body: 'x=1', headers: forged, nowMilliseconds: now * 1000 })).toBe(false);
  });
});

describe('verifySlackRequest', () => {
  const base = { signingSecret: docs.secret, rawBody: docs.body, signature: docs.signature, timestamp: String(docs.timestamp) };
  const cases: Array<[string, Partial<typeof base> & { nowSeconds: number }, string]> = [
    ['a correct request', { nowSeconds: docs.timestamp + 10 }, 'ok'],
    ['exactly 5 minutes old', { nowSeconds: docs.timestamp + 300 }, 'ok'],
    ['older than 5 minutes', { nowSeconds: docs.timestamp + 301 }, 'stale_timestamp'],
    ['from the future', { nowSeconds: docs.timestamp - 301 }, 'stale_timestamp'],
    ['a changed body', { rawBody: `${docs.body}&x=1`, nowSeconds: docs.timestamp }, 'bad_signature'],
    ['another secret', { signingSecret: 'other', nowSeconds: docs.timestamp }, 'bad_signature'],
    ['a truncated signature', { signature: docs.signature.slice(0, 20), nowSeconds: docs.timestamp }, 'bad_signature'],
    ['no signature', { signature: '', nowSeconds: docs.timestamp }, 'missing_headers'],
    ['a non-numeric timestamp', { timestamp: 'soon', nowSeconds: docs.timestamp }, 'stale_timestamp'],
  ];
  it.each(cases)('%s', (_name, over, expected) => {
    const result = verifySlackRequest({ ...base, ...over });
    expect(result.ok ? 'ok' : result.reason).toBe(expected);
  });
});
