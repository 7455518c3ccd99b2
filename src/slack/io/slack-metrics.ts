/**
 * Slack's 429s for /metrics: every Web API client the bot uses tells (its `rate_limited` event,
 * emitted for each 429 even though the clients hand 429s back to the caller, app-options.ts).
 */
import { webApi } from '@slack/bolt';
import type { Metrics } from '../../metrics/registry.js';

/** `https://slack.com/api/chat.update` or `chat.update` → `chat.update`. */
export function apiMethodOf(url: unknown): string {
  const method = typeof url === 'string' ? url.split('?')[0]!.split('/').pop() : undefined;
  return method && /^[\w.]{1,60}$/.test(method) ? method : 'unknown';
}

export function countRateLimits(metrics: Pick<Metrics, 'slackRateLimited'>, ...clients: webApi.WebClient[]): void {
  for (const client of clients) {
    client.on(webApi.WebClientEvent.RATE_LIMITED, (_seconds: number, request: { url?: unknown } | undefined) => metrics.slackRateLimited.inc({ method: apiMethodOf(request?.url) }));
  }
}
