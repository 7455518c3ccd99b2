import { describe, expect, it } from 'vitest';
import { UpdateScheduler, type OutboundUpdate, type SchedulerTimers } from '../../../src/slack/io/scheduler.js';

/** Timers driven by the test: advance() fires what is due, in order, and lets promises settle. */
class FakeTimers implements SchedulerTimers {
  private time = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  now = (): number => this.time;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.pending.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };

  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await flush();
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].fn();
    }
    this.time = end;
    await flush();
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

const rateLimited = (retryAfter: number) => Object.assign(new Error('rate limited'), { code: 'slack_webapi_rate_limited_error', retryAfter });
const platform = (error: string) => Object.assign(new Error(`An API error occurred: ${error}`), { code: 'slack_webapi_platform_error', data: { ok: false, error } });

function setup(options: { limit?: number; windowMs?: number; burst?: number; fail?: (update: OutboundUpdate, n: number) => unknown } = {}) {
  const timers = new FakeTimers();
  const sent: Array<{ at: number; key: string; text: string }> = [];
  const gaveUp: Array<{ text: string; error: unknown }> = [];
  const retries: string[] = [];
  let calls = 0;
  const scheduler = new UpdateScheduler({
    timers,
    budget: { limit: options.limit ?? 50, windowMs: options.windowMs ?? 60_000, ...(options.burst ? { burst: options.burst } : {}) },
    send: async (update) => {
      calls += 1;
      const error = options.fail?.(update, calls);
      if (error) throw error;
      sent.push({ at: timers.now(), key: update.ts, text: update.text });
    },
    onGiveUp: (update, error) => gaveUp.push({ text: update.text, error }),
    onRetry: (reason) => retries.push(reason),
  });
  const set = (ts: string, text: string, priority = 0) => scheduler.set({ channel: 'C1', ts, text }, priority);
  return { timers, sent, gaveUp, retries, scheduler, set, calls: () => calls };
}

describe('UpdateScheduler', () => {
  it('sends the newest state of each message and drops the stale ones', async () => {
    const { timers, sent, set, scheduler } = setup({ limit: 10, windowMs: 10_000, burst: 1 });
    set('1.1', 'state 1');
    for (let i = 2; i <= 20; i++) set('1.1', `state ${i}`);
    await timers.advance(0);
    await timers.advance(60_000);
    expect(sent.map((s) => s.text)).toEqual(['state 1', 'state 20']);
    expect(scheduler.stats.superseded).toBe(18);
    expect(scheduler.pending).toBe(0);
  });

  it('never exceeds the budget in any window, and spreads sends after the burst', async () => {
    const { timers, sent, set } = setup({ limit: 5, windowMs: 10_000, burst: 2 });
    for (let i = 0; i < 12; i++) set(`${i}.0`, `message ${i}`);
    await timers.advance(60_000);
    expect(sent).toHaveLength(12);
    for (const first of sent) {
      const inWindow = sent.filter((s) => s.at >= first.at && s.at < first.at + 10_000);
      expect(inWindow.length).toBeLessThanOrEqual(5);
    }
    // Burst of 2 at once, then paced at one per windowMs/limit = 2 s.
    expect(sent[0]!.at).toBe(0);
    expect(sent[1]!.at).toBe(0);
    expect(sent[2]!.at).toBeGreaterThanOrEqual(2000);
  });

  it('is fair between messages: the one waiting longest goes first', async () => {
    const { timers, sent, set } = setup({ limit: 1, windowMs: 1000, burst: 1 });
    set('a', 'a1');
    set('b', 'b1');
    set('c', 'c1');
    set('a', 'a2');
    await timers.advance(10_000);
    expect(sent.map((s) => s.text)).toEqual(['a1', 'b1', 'c1', 'a2']);
  });

  it('puts interactive messages before progress', async () => {
    const { timers, sent, set } = setup({ limit: 1, windowMs: 1000, burst: 1 });
    set('p1', 'progress 1');
    set('p2', 'progress 2');
    set('ap', 'approval', 10);
    await timers.advance(10_000);
    expect(sent.map((s) => s.text)).toEqual(['progress 1', 'approval', 'progress 2']);
  });

  it('honours Retry-After: pauses everything, keeps the message, then sends its newest state', async () => {
    const { timers, sent, set, scheduler, retries } = setup({
      limit: 100,
      windowMs: 1000,
      burst: 10,
      fail: (_update, n) => (n === 1 ? rateLimited(3) : undefined),
    });
    set('s', 'v1');
    await timers.advance(0);
    expect(sent).toEqual([]);
    set('s', 'v2');
    set('other', 'o1');
    await timers.advance(2900);
    expect(sent).toEqual([]);
    await timers.advance(200);
    expect(sent.map((s) => s.text).sort()).toEqual(['o1', 'v2']);
    expect(sent.every((s) => s.at >= 3000)).toBe(true);
    expect(scheduler.stats.rateLimited).toBe(1);
    expect(retries).toEqual(['rate_limited']); // counted for /metrics
  });

  it('converges to the final state even when 429s keep coming', async () => {
    const { timers, sent, set } = setup({ limit: 50, windowMs: 60_000, fail: (_u, n) => (n <= 5 ? rateLimited(1) : undefined) });
    for (let i = 1; i <= 30; i++) {
      set('s', `v${i}`);
      await timers.advance(300);
    }
    await timers.advance(20_000);
    expect(sent.at(-1)?.text).toBe('v30');
  });

  it('retries transient failures with backoff and gives up on permanent ones', async () => {
    const transient = setup({ fail: (_u, n) => (n <= 2 ? platform('internal_error') : undefined) });
    transient.set('t', 'hello');
    await transient.timers.advance(0);
    expect(transient.sent).toEqual([]);
    await transient.timers.advance(5000);
    expect(transient.sent.map((s) => s.text)).toEqual(['hello']);
    expect(transient.gaveUp).toEqual([]);

    const permanent = setup({ fail: () => platform('message_not_found') });
    permanent.set('gone', 'final state');
    await permanent.timers.advance(10_000);
    expect(permanent.calls()).toBe(1);
    expect(permanent.gaveUp.map((g) => g.text)).toEqual(['final state']);
  });

  it('resolves idle() when everything is sent, and drops work after stop()', async () => {
    const { timers, set, scheduler, sent } = setup({ limit: 1, windowMs: 1000, burst: 1 });
    set('a', 'a');
    set('b', 'b');
    let idle = false;
    void scheduler.idle().then(() => {
      idle = true;
    });
    await timers.advance(0);
    expect(idle).toBe(false);
    await timers.advance(2000);
    expect(idle).toBe(true);
    scheduler.stop();
    set('c', 'c');
    await timers.advance(5000);
    expect(sent.map((s) => s.text)).toEqual(['a', 'b']);
  });

  it('refuses a nonsensical budget', () => {
    expect(() => new UpdateScheduler({ send: async () => undefined, budget: { limit: 0, windowMs: 1000 } })).toThrow(/invalid/);
  });
});
