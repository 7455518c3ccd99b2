import { describe, expect, it } from 'vitest';
import { TRIGGER_TTL_MS, TriggerRegistry } from '../../../../devkit/slack-standin/trigger-ids.js';

function manualClock(start = Date.UTC(2024, 4, 1, 10, 0, 0)) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

describe('TriggerRegistry', () => {
  it('grants a fresh trigger once, to the user it was issued for', () => {
    const clock = manualClock();
    const triggers = new TriggerRegistry(clock);
    const id = triggers.issue('U1', 'C1');
    expect(id).toMatch(/^\d+\.\d+\.[0-9a-f]+$/);
    const first = triggers.consume(id);
    expect(first).toMatchObject({ ok: true, grant: { user: 'U1', channel: 'C1' } });
    expect(triggers.consume(id)).toEqual({ ok: false, error: 'invalid_trigger_id' });
  });

  it('is valid for exactly 3 seconds', () => {
    const clock = manualClock();
    const triggers = new TriggerRegistry(clock);
    const atLimit = triggers.issue('U1');
    const late = triggers.issue('U1');
    clock.advance(TRIGGER_TTL_MS);
    expect(triggers.consume(atLimit).ok).toBe(true);
    clock.advance(1);
    expect(triggers.consume(late)).toEqual({ ok: false, error: 'expired_trigger_id' });
    // Still expired (not "used") when tried again: the first attempt did not consume it.
    expect(triggers.consume(late)).toEqual({ ok: false, error: 'expired_trigger_id' });
  });

  it('rejects ids it never issued', () => {
    const triggers = new TriggerRegistry(manualClock());
    expect(triggers.consume('123.456.abc')).toEqual({ ok: false, error: 'invalid_trigger_id' });
    expect(triggers.consume('')).toEqual({ ok: false, error: 'invalid_trigger_id' });
  });

  it('issues distinct ids', () => {
    const triggers = new TriggerRegistry(manualClock());
    const ids = new Set(Array.from({ length: 50 }, () => triggers.issue('U1')));
    expect(ids.size).toBe(50);
  });
});
