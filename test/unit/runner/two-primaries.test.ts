import { describe, expect, it } from 'vitest';
import { twoPrimaries, twoPrimariesText, type PrimaryProbe } from '../../../src/runner/two-primaries.js';

const p = (writable: boolean | null, timeline: number | null = writable ? 1 : null): PrimaryProbe => ({ side: 'production', label: 'prod:5432', writable, timeline });
const d = (writable: boolean | null, timeline: number | null = writable ? 2 : null): PrimaryProbe => ({ side: 'dr', label: 'dr:5432', writable, timeline });

describe('two-primaries watchdog', () => {
  it.each([
    ['production primary, DR standby', p(true), d(false), 'ok', null],
    ['after failover, the old primary down', p(null), d(true), 'ok', null],
    ['after failover, the old primary back as a standby', p(false), d(true), 'ok', null],
    ['after failover, the old primary back WRITABLE (timeline 1 vs 2)', p(true, 1), d(true, 2), 'failing', 'production'],
    ['after a failback, DR came back writable on the older timeline', p(true, 3), d(true, 2), 'failing', 'dr'],
    ['the same timeline: production (the fence hook\'s target)', p(true, 1), d(true, 1), 'failing', 'production'],
  ] as const)('%s → %s, fence %s', (_name, production, dr, state, fence) => {
    expect(twoPrimaries(production, dr)).toMatchObject({ state, fence });
  });

  it('the alert names both servers, what the fence did and the way back; the recovery is one line', () => {
    const verdict = twoPrimaries(p(true, 1), d(true, 2));
    const text = twoPrimariesText('alert', 'aiagent_prod', verdict, 'Fenced with RECOVER_FAILOVER_FENCE_COMMAND.');
    expect(text).toContain('TWO PRIMARIES');
    expect(text).toContain('prod:5432 (production, timeline 1) accepts writes beside dr:5432 (timeline 2)');
    expect(text).toContain('Fenced with RECOVER_FAILOVER_FENCE_COMMAND.');
    expect(text).toContain('/recover failback');
    expect(twoPrimariesText('recovered', 'aiagent_prod', verdict, '')).toMatch(/only one server accepts writes again/);
  });
});
