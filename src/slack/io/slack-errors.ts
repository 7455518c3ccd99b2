/**
 * Reading what went wrong in a Web API call, as @slack/web-api 8 reports it: platform errors
 * carry Slack's code in `data.error`; with `rejectRateLimitedCalls` a 429 becomes an error
 * with `retryAfter` seconds.
 */
import { RecoverError } from '../../errors.js';
import { redactText } from '../../log.js';

interface CodedError {
  code?: unknown;
  retryAfter?: unknown;
  data?: { error?: unknown };
}

/** Seconds to wait when the call was rate limited (HTTP 429), else undefined. */
export function rateLimitSeconds(error: unknown): number | undefined {
  const e = error as CodedError | null;
  if (e && e.code === 'slack_webapi_rate_limited_error') {
    return typeof e.retryAfter === 'number' && Number.isFinite(e.retryAfter) ? Math.max(0, e.retryAfter) : 1;
  }
  if (e?.data?.error === 'ratelimited' || e?.data?.error === 'rate_limited') return 1;
  return undefined;
}

/** Slack's error code (`message_not_found`, `invalid_blocks`…) of a platform error. */
export function slackErrorCode(error: unknown): string | undefined {
  const e = error as CodedError | null;
  return e && e.code === 'slack_webapi_platform_error' && typeof e.data?.error === 'string' ? e.data.error : undefined;
}

const TRANSIENT_CODES = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited', 'rate_limited']);

/** A platform error that will not go away by trying the same call again. */
export function isPermanentSlackError(error: unknown): boolean {
  const code = slackErrorCode(error);
  return code !== undefined && !TRANSIENT_CODES.has(code);
}

/** A Web API failure as a RecoverError fit for the channel (no tokens, no request bodies). */
export function slackFailure(what: string, error: unknown): RecoverError {
  const code = slackErrorCode(error);
  const wait = rateLimitSeconds(error);
  const reason = code ?? (wait !== undefined ? `rate limited (retry after ${wait} s)` : redactText(error instanceof Error ? error.message : String(error)));
  const notMember = code === 'not_in_channel' || code === 'channel_not_found';
  return new RecoverError('SLACK_API_ERROR', `Slack refused ${what}: ${reason}.`, {
    hint: notMember
      ? 'Invite the bot to this channel (`/invite @recover-bot`) and run the command again.'
      : 'Nothing was changed by this failure; `/recover status` shows where jobs stand.',
    cause: error,
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a Web API call, waiting out 429s (Retry-After) up to `attempts` times (`onRetry` before
 * each wait: /metrics counts them). Used for posts, which are few; updates go through the
 * UpdateScheduler instead.
 */
export async function withRateLimitRetry<T>(call: () => Promise<T>, attempts = 4, wait: (ms: number) => Promise<void> = sleep, onRetry?: () => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const seconds = rateLimitSeconds(error);
      if (seconds === undefined || attempt >= attempts) throw error;
      onRetry?.();
      await wait(Math.max(200, seconds * 1000));
    }
  }
}
