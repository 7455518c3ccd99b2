/** Time profiles of a phase: crossings of each tenth, shares, medians, interpolation, size rule (tables). */
import { describe, expect, it } from 'vitest';
import { extendCrossings, PROFILE_SIZE_RATIO, profileApplies, profileOf, shareAt, type Profile } from '../../../src/estimate/profile.js';
import { medianProfile } from '../../../src/estimate/rates.js';

describe('extendCrossings', () => {
  it.each<[string, (number | null)[], { at: number; done: number } | null, { at: number; done: number }, number | null, (number | null)[]]>([
    ['no tenth passed yet', [], { at: 0, done: 0 }, { at: 10, done: 50 }, 1000, []],
    ['one tenth passed: the time interpolated on the line', [], { at: 0, done: 0 }, { at: 10, done: 200 }, 1000, [5, 10]],
    ['several tenths in one step', [5], { at: 10, done: 150 }, { at: 20, done: 450 }, 1000, [5, 10 + 50 / 30, 10 + 150 / 30, 10 + 250 / 30]],
    ['exactly on a tenth', [], { at: 0, done: 0 }, { at: 4, done: 100 }, 1000, [4]],
    ['the first progress beyond tenths: those are unknown', [], null, { at: 7, done: 350 }, 1000, [null, null, null]],
    ['the total reached: nine tenths at most (the end is the last byte)', [1, 2, 3, 4, 5, 6, 7], { at: 8, done: 750 }, { at: 10, done: 1000 }, 1000, [1, 2, 3, 4, 5, 6, 7, 8.4, 9.2]],
    ['an unknown total: nothing to measure against', [], { at: 0, done: 0 }, { at: 10, done: 500 }, null, []],
    ['already complete: unchanged', [1, 2, 3, 4, 5, 6, 7, 8, 9], { at: 9, done: 900 }, { at: 10, done: 1000 }, 1000, [1, 2, 3, 4, 5, 6, 7, 8, 9]],
  ])('%s', (_name, crossings, previous, point, total, expected) => {
    const result = extendCrossings(crossings, previous, point, total);
    expect(result.length).toBe(expected.length);
    result.forEach((value, i) => (expected[i] === null ? expect(value).toBeNull() : expect(value).toBeCloseTo(expected[i]!, 9)));
  });
});

describe('profileOf', () => {
  it('shares of the time from the start to the last byte, 3 digits', () => {
    expect(profileOf([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000], 0, 9000)).toEqual([0.111, 0.222, 0.333, 0.444, 0.556, 0.667, 0.778, 0.889, 1]);
  });
  it('keeps unknown tenths as null', () => {
    expect(profileOf([null, null, 3000, 4000, 5000, 6000, 7000, 8000, 9000], 0, 10000)).toEqual([null, null, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  });
  it.each<[string, (number | null)[], number, number]>([
    ['fewer than nine tenths passed (replay stopped early)', [1000, 2000, 3000], 0, 4000],
    ['every tenth unknown', Array(9).fill(null), 0, 4000],
    ['no time between start and last byte', [0, 0, 0, 0, 0, 0, 0, 0, 0], 0, 0],
  ])('is null when %s', (_name, crossings, startedAt, endedAt) => expect(profileOf(crossings, startedAt, endedAt)).toBeNull());
});

describe('medianProfile', () => {
  it.each<[string, Profile[], Profile | null]>([
    ['none', [], null],
    ['one', [[0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]], [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]],
    [
      'per tenth, over the profiles that know it',
      [
        [null, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95],
        [0.2, 0.2, 0.5, 0.5, 0.6, 0.7, 0.8, 0.9, 0.97],
        [0.1, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 0.96],
      ],
      [0.15, 0.3, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 0.96],
    ],
    ['a malformed one is ignored', [[0.5, 0.6], [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]], [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]],
  ])('%s', (_name, profiles, expected) => expect(medianProfile(profiles)).toEqual(expected));
});

describe('shareAt', () => {
  const profile: Profile = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
  it.each<[number, number | null]>([
    [0.05, null],
    [0.1, 0.2],
    [0.15, 0.25],
    [0.9, 0.95],
    [0.95, 0.975],
    [1, 1],
    [1.2, null],
  ])('at %d → %s', (fraction, share) => (share === null ? expect(shareAt(profile, fraction)).toBeNull() : expect(shareAt(profile, fraction)).toBeCloseTo(share, 9)));
  it('is null where a neighbouring tenth is unknown', () => {
    expect(shareAt([null, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95], 0.15)).toBeNull();
    expect(shareAt([null, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95], 0.25)).toBeCloseTo(0.35, 9);
  });
});

describe('profileApplies', () => {
  it.each<[number, number, boolean]>([
    [1000, 1000, true],
    [1000 * PROFILE_SIZE_RATIO, 1000, true],
    [1000 * PROFILE_SIZE_RATIO + 1, 1000, false],
    [1000, 1000 * PROFILE_SIZE_RATIO, true],
    [999, 1000 * PROFILE_SIZE_RATIO, false],
    [0, 1000, false],
  ])('%d bytes, profile of %d bytes → %s', (bytes, profileBytes, applies) => expect(profileApplies(bytes, profileBytes)).toBe(applies));
});
