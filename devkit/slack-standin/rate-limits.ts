/**
 * HTTP 429s the way Slack sends them: either forced for the next N calls of a method (to test
 * the bot's retry path deterministically) or from a sliding-window budget per method (to
 * test that the bot's throttling really stays under Slack's limits).
 */
import type { Clock, RateBudget } from './types.js';

/**
 * Budgets close to Slack's published ones. chat.postMessage is "about 1 per second per
 * channel, short bursts allowed": modelled as 3 per 3 seconds so a status message plus its
 * first thread reply do not trip it, while a flood does.
 */
export const REALISTIC_BUDGETS: Readonly<Record<string, RateBudget>> = {
  'chat.update': { limit: 50, windowSeconds: 60, per: 'workspace' },
  'chat.postMessage': { limit: 3, windowSeconds: 3, per: 'channel' },
};

export interface ForcedLimit {
  count: number;
  retryAfterSeconds: number;
}

export type RateDecision = { limited: false } | { limited: true; retryAfterSeconds: number; reason: 'forced' | 'budget' };

export class RateLimiter {
  private readonly forced = new Map<string, ForcedLimit>();
  private readonly budgets = new Map<string, RateBudget>();
  private readonly windows = new Map<string, number[]>();

  constructor(private readonly clock: Clock, budgets: Record<string, RateBudget> = {}) {
    for (const [method, budget] of Object.entries(budgets)) this.budgets.set(method, budget);
  }

  /** The next `count` calls of `method` answer 429 with `Retry-After: retryAfterSeconds`. */
  force(method: string, limit: ForcedLimit): void {
    if (!Number.isInteger(limit.count) || limit.count < 1) throw new Error(`rateLimit count must be a positive integer, got ${limit.count}`);
    this.forced.set(method, { ...limit });
  }

  setBudget(method: string, budget: RateBudget | undefined): void {
    if (budget === undefined) this.budgets.delete(method);
    else this.budgets.set(method, budget);
    this.windows.clear();
  }

  /** Decides one call; calls that are let through count against the budget. */
  check(method: string, channel: string | undefined): RateDecision {
    const forced = this.forced.get(method);
    if (forced) {
      forced.count -= 1;
      if (forced.count <= 0) this.forced.delete(method);
      return { limited: true, retryAfterSeconds: forced.retryAfterSeconds, reason: 'forced' };
    }
    const budget = this.budgets.get(method);
    if (!budget) return { limited: false };
    const key = budget.per === 'channel' ? `${method}:${channel ?? ''}` : method;
    const now = this.clock.now().getTime();
    const windowMs = budget.windowSeconds * 1000;
    const recent = (this.windows.get(key) ?? []).filter((at) => now - at < windowMs);
    if (recent.length >= budget.limit) {
      this.windows.set(key, recent);
      const oldest = recent[0] ?? now;
      return { limited: true, retryAfterSeconds: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)), reason: 'budget' };
    }
    recent.push(now);
    this.windows.set(key, recent);
    return { limited: false };
  }
}
