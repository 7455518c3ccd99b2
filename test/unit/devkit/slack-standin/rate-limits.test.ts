import { describe, expect, it } from 'vitest';
import { RateLimiter, REALISTIC_BUDGETS } from '../../../../devkit/slack-standin/rate-limits.js';

function manualClock(start = Date.UTC(2024, 4, 1, 10, 0, 0)) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

describe('RateLimiter', () => {
  it('answers exactly the next N calls of a method when forced, and only that method', () => {
    const limiter = new RateLimiter(manualClock());
    limiter.force('chat.update', { count: 2, retryAfterSeconds: 3 });
    expect(limiter.check('chat.postMessage', 'C1')).toEqual({ limited: false });
    expect(limiter.check('chat.update', 'C1')).toEqual({ limited: true, retryAfterSeconds: 3, reason: 'forced' });
    expect(limiter.check('chat.update', 'C1').limited).toBe(true);
    expect(limiter.check('chat.update', 'C1')).toEqual({ limited: false });
  });

  it('refuses a forced count that is not a positive integer', () => {
    expect(() => new RateLimiter(manualClock()).force('chat.update', { count: 0, retryAfterSeconds: 1 })).toThrow(/positive integer/);
  });

  it('keeps chat.update to 50 per minute per workspace, whatever the channel', () => {
    const clock = manualClock();
    const limiter = new RateLimiter(clock, REALISTIC_BUDGETS);
    for (let i = 0; i < 50; i += 1) {
      expect(limiter.check('chat.update', `C${i % 3}`).limited).toBe(false);
      clock.advance(100);
    }
    // 50 calls took 5 s; the first leaves the window 55 s from now.
    expect(limiter.check('chat.update', 'C9')).toEqual({ limited: true, retryAfterSeconds: 55, reason: 'budget' });
    clock.advance(55_000);
    expect(limiter.check('chat.update', 'C9').limited).toBe(false);
  });

  it('keys chat.postMessage per channel, allowing a short burst', () => {
    const clock = manualClock();
    const limiter = new RateLimiter(clock, REALISTIC_BUDGETS);
    for (let i = 0; i < 3; i += 1) expect(limiter.check('chat.postMessage', 'C1').limited).toBe(false);
    expect(limiter.check('chat.postMessage', 'C1')).toMatchObject({ limited: true, retryAfterSeconds: 3 });
    expect(limiter.check('chat.postMessage', 'C2').limited).toBe(false);
    clock.advance(3000);
    expect(limiter.check('chat.postMessage', 'C1').limited).toBe(false);
  });

  it('can change or drop a budget at run time', () => {
    const limiter = new RateLimiter(manualClock());
    limiter.setBudget('views.open', { limit: 1, windowSeconds: 10, per: 'workspace' });
    expect(limiter.check('views.open', undefined).limited).toBe(false);
    expect(limiter.check('views.open', undefined).limited).toBe(true);
    limiter.setBudget('views.open', undefined);
    expect(limiter.check('views.open', undefined).limited).toBe(false);
  });
});
