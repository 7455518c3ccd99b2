/**
 * The single outbound scheduler for `chat.update`, shared by every job and message: Slack
 * allows about 50 updates a minute per workspace, whatever the number of jobs.
 *
 * - Coalescing: one slot per message (channel + ts). Setting a new state replaces the one
 *   waiting, so only the newest state is ever sent; stale intermediate states are dropped.
 * - Budget: a sliding window (at most `limit` sends completed in any `windowMs`) for the hard
 *   limit, plus a token bucket (`burst`, refilled at limit/window) so a busy job spreads its
 *   updates instead of spending the whole minute in its first second.
 * - Fairness: the message whose state has waited longest goes first; interactive messages
 *   (approvals, plan previews) get a higher priority than progress.
 * - 429: the whole scheduler pauses for Retry-After (the limit is per workspace) and the
 *   message keeps its slot, so it converges to its final state. Other transient failures
 *   retry with backoff; permanent ones (message_not_found, invalid_blocks…) are handed to
 *   `onGiveUp` so the caller can say so in the channel.
 * One send at a time: at 50/min, concurrency buys nothing and would blur the window.
 */
import type { Block } from '../views/common.js';
import { isPermanentSlackError, rateLimitSeconds } from './slack-errors.js';

export interface OutboundUpdate {
  channel: string;
  ts: string;
  text: string;
  blocks?: Block[];
}

export interface SchedulerTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface UpdateBudget {
  limit: number;
  windowMs: number;
  /** Sends allowed back to back before pacing starts; default min(5, limit). */
  burst?: number;
}

export const DEFAULT_UPDATE_BUDGET: UpdateBudget = { limit: 50, windowMs: 60_000 };

export interface SchedulerOptions {
  send(update: OutboundUpdate): Promise<void>;
  budget?: UpdateBudget;
  timers?: SchedulerTimers;
  /** Attempts per state for transient, non-429 failures. */
  maxAttempts?: number;
  onGiveUp?(update: OutboundUpdate, error: unknown): void;
  /** An update to be sent again: after a 429, or a transient failure (/metrics). */
  onRetry?(reason: 'rate_limited' | 'error'): void;
}

interface Slot {
  update: OutboundUpdate;
  priority: number;
  seq: number;
  attempts: number;
  notBefore: number;
}

const realTimers: SchedulerTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Extra wait beyond the window edge: Slack counts a call when it receives it, we when it returns. */
const WINDOW_MARGIN_MS = 50;

export class UpdateScheduler {
  private readonly slots = new Map<string, Slot>();
  private readonly sentAt: number[] = [];
  private readonly timers: SchedulerTimers;
  private readonly budget: Required<UpdateBudget>;
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = 0;
  private seq = 0;
  private inFlight: string | null = null;
  private timer: unknown = null;
  private timerAt = Infinity;
  private stopped = false;
  private waiters: Array<() => void> = [];
  readonly stats = { sent: 0, superseded: 0, rateLimited: 0, failed: 0, gaveUp: 0 };

  constructor(private readonly options: SchedulerOptions) {
    this.timers = options.timers ?? realTimers;
    const budget = options.budget ?? DEFAULT_UPDATE_BUDGET;
    if (!(budget.limit >= 1) || !(budget.windowMs > 0)) throw new Error(`invalid chat.update budget ${JSON.stringify(budget)}`);
    this.budget = { ...budget, burst: Math.max(1, Math.min(budget.burst ?? 5, budget.limit)) };
    this.tokens = this.budget.burst;
    this.refilledAt = this.timers.now();
  }

  /** Makes `update` the state to show for its message; replaces any state not sent yet. */
  set(update: OutboundUpdate, priority = 0): void {
    if (this.stopped) return;
    const key = `${update.channel}:${update.ts}`;
    const waiting = this.slots.get(key);
    if (waiting) this.stats.superseded += 1;
    this.slots.set(key, {
      update,
      priority: Math.max(priority, waiting?.priority ?? priority),
      seq: waiting?.seq ?? ++this.seq,
      attempts: 0,
      notBefore: waiting?.notBefore ?? 0,
    });
    this.pump();
  }

  get pending(): number {
    return this.slots.size + (this.inFlight ? 1 : 0);
  }

  /** Resolves once nothing waits or is being sent. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Waits up to `timeoutMs` for everything to be sent; true if it was. */
  async drain(timeoutMs: number): Promise<boolean> {
    let handle: unknown;
    const timeout = new Promise<boolean>((resolve) => {
      handle = this.timers.setTimeout(() => resolve(false), timeoutMs);
    });
    const done = await Promise.race([this.idle().then(() => true), timeout]);
    this.timers.clearTimeout(handle);
    return done;
  }

  stop(): void {
    this.stopped = true;
    this.slots.clear();
    this.disarm();
    this.settle();
  }

  private refill(now: number): void {
    const rate = this.budget.limit / this.budget.windowMs;
    this.tokens = Math.min(this.budget.burst, this.tokens + (now - this.refilledAt) * rate);
    this.refilledAt = now;
  }

  /** Milliseconds until the budget allows one more send (0 = now). */
  private budgetWait(now: number): number {
    while (this.sentAt.length > 0 && this.sentAt[0]! + this.budget.windowMs + WINDOW_MARGIN_MS <= now) this.sentAt.shift();
    this.refill(now);
    const windowWait = this.sentAt.length >= this.budget.limit ? this.sentAt[0]! + this.budget.windowMs + WINDOW_MARGIN_MS - now : 0;
    const tokenWait = this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * this.budget.windowMs) / this.budget.limit);
    return Math.max(0, this.pausedUntil - now, windowWait, tokenWait);
  }

  private pick(now: number): [string, Slot] | undefined {
    let best: [string, Slot] | undefined;
    for (const entry of this.slots) {
      const slot = entry[1];
      if (slot.notBefore > now) continue;
      if (!best || slot.priority > best[1].priority || (slot.priority === best[1].priority && slot.seq < best[1].seq)) best = entry;
    }
    return best;
  }

  private pump(): void {
    if (this.inFlight !== null) return;
    if (this.stopped || this.slots.size === 0) return this.settle();
    const now = this.timers.now();
    const wait = this.budgetWait(now);
    const next = wait === 0 ? this.pick(now) : undefined;
    if (!next) {
      const ready = Math.min(...[...this.slots.values()].map((s) => s.notBefore));
      return this.arm(Math.max(wait, ready - now, 1));
    }
    const [key, slot] = next;
    this.slots.delete(key);
    this.inFlight = key;
    this.tokens -= 1;
    this.options.send(slot.update).then(
      () => this.finished(key, slot, null),
      (error: unknown) => this.finished(key, slot, error ?? new Error('chat.update failed')),
    );
  }

  private finished(key: string, slot: Slot, error: unknown): void {
    const now = this.timers.now();
    this.inFlight = null;
    const retryAfter = error === null ? undefined : rateLimitSeconds(error);
    if (error === null) {
      this.sentAt.push(now);
      this.stats.sent += 1;
    } else if (retryAfter !== undefined) {
      // Slack did not count it; nobody may send until the pause is over. Keep the slot.
      this.stats.rateLimited += 1;
      this.tokens += 1;
      this.pausedUntil = Math.max(this.pausedUntil, now + retryAfter * 1000);
      if (!this.slots.has(key)) this.slots.set(key, slot);
      this.options.onRetry?.('rate_limited');
    } else {
      this.sentAt.push(now);
      this.stats.failed += 1;
      const attempts = slot.attempts + 1;
      const newer = this.slots.has(key);
      if (!newer && (isPermanentSlackError(error) || attempts >= (this.options.maxAttempts ?? 4))) {
        this.stats.gaveUp += 1;
        this.options.onGiveUp?.(slot.update, error);
      } else if (!newer) {
        this.slots.set(key, { ...slot, attempts, notBefore: now + Math.min(30_000, 1000 * 2 ** (attempts - 1)) });
        this.options.onRetry?.('error');
      }
    }
    this.pump();
  }

  private arm(ms: number): void {
    const at = this.timers.now() + ms;
    if (this.timer !== null && this.timerAt <= at) return;
    this.disarm();
    this.timerAt = at;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.pump();
    }, ms);
  }

  private disarm(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private settle(): void {
    if (this.pending > 0) return;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
