/** The time left in a phase from its progress (table): history before the window, then blended, then observed. */
import { describe, expect, it } from 'vitest';
import { errorPercent, phaseEta, type PhaseProgress } from '../../../src/estimate/eta.js';
import type { StepEstimate } from '../../../src/types.js';

const history: StepEstimate = { bytes: 1000, bytesPerSecond: 10, startupSeconds: 5, tailSeconds: 3, samples: 4 };
const at = (seconds: number) => 1_700_000_000_000 + seconds * 1000;
const progress = (first: [number, number] | null, last: [number, number] | null, total: number | null = 1000): PhaseProgress => ({
  total,
  startedAt: at(0),
  first: first ? { at: at(first[0]), done: first[1] } : null,
  last: last ? { at: at(last[0]), done: last[1] } : null,
});

describe('phaseEta', () => {
  it.each<[string, PhaseProgress, StepEstimate | null, number | undefined, { remainingSeconds: number; basis: string; bytesPerSecond: number | null } | null]>([
    ['no progress yet: the plan estimate minus the time elapsed', progress(null, null), history, at(30), { remainingSeconds: 5 + 100 + 3 - 30, basis: 'history', bytesPerSecond: null }],
    ['no progress and no estimate: unknown', progress(null, null), null, at(30), null],
    ['a single event: the history rate for the bytes left, plus the tail', progress([6, 0], [6, 0]), history, undefined, { remainingSeconds: 100 + 3, basis: 'history', bytesPerSecond: 10 }],
    ['a window under 2 s is not a rate yet: nothing done since the start either', progress([6, 0], [7.5, 0]), history, undefined, { remainingSeconds: 100 + 3, basis: 'history', bytesPerSecond: 10 }],
    // no window yet: 30 bytes over 7.5 s since the start less 5 s of start-up = 12 B/s, 3 % done → weight 0.06
    ['a window under 2 s: the rate since the start, less the start-up', progress([6, 0], [7.5, 30]), history, undefined, { remainingSeconds: 970 * (0.06 / 12 + 0.94 / 10) + 3, basis: 'blended', bytesPerSecond: 970 / (970 * (0.06 / 12 + 0.94 / 10)) }],
    // replay's first event at 20 % (the server accepted connections only then), 15 s after the start: 200 / (15 − 5) = 20 B/s, weight 0.4
    ['a first event at 20 %: the rate since the start, weighing 0.4', progress([15, 200], [15, 200]), history, undefined, { remainingSeconds: 800 * (0.4 / 20 + 0.6 / 10) + 3, basis: 'blended', bytesPerSecond: 12.5 }],
    // observed 20 B/s, 5 % done → weight 0.1: 950 × (0.1/20 + 0.9/10) = 90.25
    ['5 % done: a tenth observed', progress([6, 0], [8.5, 50]), history, undefined, { remainingSeconds: 90.25 + 3, basis: 'blended', bytesPerSecond: 950 / 90.25 }],
    // the first tenth of a replay ran ~2.5x slower than the rest in bench:pitr (this session): 10 % done weighs 0.2
    ['10 % done: a fifth observed', progress([6, 0], [11, 100]), history, undefined, { remainingSeconds: 81 + 3, basis: 'blended', bytesPerSecond: 900 / 81 }],
    ['half done: the observed rate alone', progress([6, 0], [31, 500]), history, undefined, { remainingSeconds: 25 + 3, basis: 'observed', bytesPerSecond: 20 }],
    ['the window starts at the first event, whatever was done before it', progress([10, 400], [20, 600]), history, undefined, { remainingSeconds: 20 + 3, basis: 'observed', bytesPerSecond: 20 }],
    ['no history: the observed rate as soon as there is one, no tail', progress([6, 0], [8, 10]), null, undefined, { remainingSeconds: 198, basis: 'observed', bytesPerSecond: 5 }],
    ['no history: the rate since the start, start-up included', progress([6, 0], [6, 10]), null, undefined, { remainingSeconds: 990 * 0.6, basis: 'observed', bytesPerSecond: 10 / 6 }],
    ['no history and nothing moved: unknown', progress([6, 0], [6, 0]), null, undefined, null],
    ['all bytes done: only the tail is left', progress([6, 0], [56, 1000]), history, undefined, { remainingSeconds: 3, basis: 'observed', bytesPerSecond: 20 }],
    ['unknown total: the estimate bytes stand in', progress([6, 0], [16, 200], null), history, undefined, { remainingSeconds: 64 + 3, basis: 'blended', bytesPerSecond: 12.5 }],
  ])('%s', (_name, input, expected, asOf, result) => {
    const eta = phaseEta(input, expected, asOf);
    if (result === null) return expect(eta).toBeNull();
    expect(eta!.basis).toBe(result.basis);
    expect(eta!.remainingSeconds).toBeCloseTo(result.remainingSeconds, 9);
    if (result.bytesPerSecond === null) expect(eta!.bytesPerSecond).toBeNull();
    else expect(eta!.bytesPerSecond).toBeCloseTo(result.bytesPerSecond, 9);
  });

  describe('not yet measured, with a warm-up (replay: the first 100 bytes run 2x slower here)', () => {
    const unmeasured: StepEstimate = { ...history, samples: 0, warmup: { bytes: 100, pace: 2 } };
    it.each<[string, PhaseProgress, StepEstimate, { remainingSeconds: number; basis: string; bytesPerSecond: number } | null]>([
      // 50 bytes in 10 s inside the warm-up: 100 weighted bytes, 10/s after it; left: 50 x 2 + 900 = 1000 weighted → 100 s
      ['inside the warm-up: its bytes count twice, seen and left', progress([6, 0], [16, 50]), unmeasured, { remainingSeconds: 100 + 3, basis: 'warmup', bytesPerSecond: 950 / 100 }],
      // 150 bytes in 10 s: 200 + 50 = 250 weighted, 25/s; left 850 → 34 s
      ['past the warm-up: only its part of the window counts twice', progress([6, 0], [16, 150]), unmeasured, { remainingSeconds: 34 + 3, basis: 'warmup', bytesPerSecond: 850 / 34 }],
      // the window from 200 to 400 in 10 s is all after it: 20/s, plain
      ['a window after the warm-up: the plain rate', progress([6, 200], [16, 400]), unmeasured, { remainingSeconds: 30 + 3, basis: 'warmup', bytesPerSecond: 20 }],
      // 30 bytes in 1.5 s: 60 weighted, 40/s; a 1 s window is enough (a tenth of a small replay passes in 2 s)
      ['a 1.5 s window is enough', progress([6, 0], [7.5, 30]), unmeasured, { remainingSeconds: (70 * 2 + 900) / 40 + 3, basis: 'warmup', bytesPerSecond: 970 / ((70 * 2 + 900) / 40) }],
    ])('%s', (_name, input, expected, result) => {
      const eta = phaseEta(input, expected);
      expect(eta!.basis).toBe(result!.basis);
      expect(eta!.remainingSeconds).toBeCloseTo(result!.remainingSeconds, 9);
      expect(eta!.bytesPerSecond).toBeCloseTo(result!.bytesPerSecond, 9);
    });

    it.each<[string, PhaseProgress, StepEstimate]>([
      ['a window under 1 s', progress([6, 0], [6.5, 30]), unmeasured],
      ['a measured rate (samples): the history blend', progress([6, 0], [16, 50]), { ...unmeasured, samples: 2 }],
      ['no warm-up in the estimate', progress([6, 0], [16, 50]), { ...history, samples: 0 }],
    ])('not used with %s', (_name, input, expected) => {
      expect(phaseEta(input, expected)!.basis).not.toBe('warmup');
    });
  });

  describe('with a measured profile', () => {
    // Past phases: the first tenth took a fifth of the time to the last byte (a slow start), then evenly.
    const profile = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
    const shaped: StepEstimate = { ...history, profile };
    it.each<[string, PhaseProgress, number, string]>([
      // 20 % after 9 s: the profile says that is 0.3 of the way, so 21 s of transfer left, plus the tail
      ["20 % done: this run's time so far, scaled by the profile", progress([6, 40], [9, 200]), 21 + 3, 'profile'],
      // the same fraction reached twice as fast: half the time left, whatever the history's rate said
      ['a faster run: proportionally less left', progress([3, 40], [4.5, 200]), 10.5 + 3, 'profile'],
      // 10 % after 8 s: 32 s by the profile, 90 s at the plan's 10 B/s; the pace so far rests on a few seconds yet, half each
      ["10 % done: half the profile's estimate, half the plan's rate", progress([6, 40], [8, 100]), (32 + 90) / 2 + 3, 'profile'],
      // 15 %: three quarters profile (0.25 share after 10 s: 30 s), a quarter plan (85 s)
      ['15 % done: three quarters the profile', progress([6, 40], [10, 150]), 0.75 * 30 + 0.25 * 85 + 3, 'profile'],
      // 25 %: halfway between the 20 % and 30 % shares (0.35), after 14 s: 14 / 0.35 = 40 s in all
      ['between tenths: the share is interpolated', progress([6, 40], [14, 250]), 26 + 3, 'profile'],
      // 95 %: between 90 % (0.95) and the end (1): 0.975 of the time after 39 s
      ['past 90 %: interpolated towards the end', progress([6, 40], [39, 950]), 39 / 0.975 - 39 + 3, 'profile'],
      ['all done: only the tail', progress([6, 40], [50, 1000]), 3, 'profile'],
      // below the first tenth the profile knows nothing: the rates, as without one (5 % done, 20 B/s observed, weight 0.1)
      ['under 10 %: rates, as without a profile', progress([6, 0], [8.5, 50]), 90.25 + 3, 'blended'],
    ])('%s', (_name, input, remaining, basis) => {
      const eta = phaseEta(input, shaped);
      expect(eta!.basis).toBe(basis);
      expect(eta!.remainingSeconds).toBeCloseTo(remaining, 9);
    });

    it.each<[string, (number | null)[]]>([
      ['the tenth is unknown (passed before the first progress in the past)', [null, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]],
      ['the next tenth is unknown', [0.2, null, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]],
      ['a decreasing profile (unreadable)', [0.3, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]],
      ['a share of zero', [0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]],
    ])('falls back to the rates when %s', (_name, shares) => {
      const eta = phaseEta(progress([6, 0], [11, 100]), { ...history, profile: shares });
      expect(eta).toEqual(phaseEta(progress([6, 0], [11, 100]), history));
    });

    it('without the start time the profile cannot be used', () => {
      const input = { ...progress([6, 0], [11, 100]), startedAt: null };
      expect(phaseEta(input, shaped)!.basis).not.toBe('profile');
    });
  });

  it('never goes below zero before the first progress', () => {
    expect(phaseEta(progress(null, null), history, at(500))!.remainingSeconds).toBe(0);
  });
});

describe('errorPercent', () => {
  it.each<[number, number, number]>([
    [12, 10, 20],
    [8, 10, -20],
    [10, 10, 0],
  ])('estimated %d, actual %d → %d %', (estimated, actual, percent) => expect(errorPercent(estimated, actual)).toBeCloseTo(percent, 9));
  it('is NaN without an actual duration', () => expect(errorPercent(1, 0)).toBeNaN());
});
