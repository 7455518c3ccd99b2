/**
 * Slack's request signing (v0): what Slack sends with every slash command and interaction,
 * and what Bolt checks. The stand-in signs with it; `verifySlackRequest` lets tests and the
 * security suite reason about the same rule without Bolt.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack rejects requests whose timestamp is more than five minutes from now. */
export const MAX_REQUEST_AGE_SECONDS = 5 * 60;

export function slackSignature(signingSecret: string, timestampSeconds: number, rawBody: string): string {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${rawBody}`).digest('hex');
  return `v0=${digest}`;
}

export function signedHeaders(signingSecret: string, timestampSeconds: number, rawBody: string): Record<string, string> {
  return {
    'x-slack-signature': slackSignature(signingSecret, timestampSeconds, rawBody),
    'x-slack-request-timestamp': String(timestampSeconds),
  };
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing_headers' | 'stale_timestamp' | 'bad_signature' };

export function verifySlackRequest(input: {
  signingSecret: string;
  signature: string | undefined;
  timestamp: string | undefined;
  rawBody: string;
  nowSeconds: number;
}): VerifyResult {
  const { signingSecret, signature, timestamp, rawBody, nowSeconds } = input;
  if (!signature || !timestamp) return { ok: false, reason: 'missing_headers' };
  const sentAt = Number(timestamp);
  if (!Number.isInteger(sentAt) || Math.abs(nowSeconds - sentAt) > MAX_REQUEST_AGE_SECONDS) {
    return { ok: false, reason: 'stale_timestamp' };
  }
  const expected = Buffer.from(slackSignature(signingSecret, sentAt, rawBody));
  const received = Buffer.from(signature);
  // Length first: timingSafeEqual throws on unequal lengths, and a length leak reveals nothing.
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) {
    return { ok: false, reason: 'bad_signature' };
  }
  return { ok: true };
}

/** A signature that is well-formed but wrong, for tests that the bot rejects forgeries. */
export function forgedSignature(signingSecret: string, timestampSeconds: number, rawBody: string): string {
  return slackSignature(`${signingSecret}-not-the-secret`, timestampSeconds, rawBody);
}
