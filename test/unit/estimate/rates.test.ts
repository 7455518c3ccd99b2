/** Measured rates: medians of the newest samples per phase, the defaults, and a restore's two estimates (tables). */
import { describe, expect, it } from 'vitest';
import { aggregateRates, DEFAULT_RATES, estimateBasis, estimatedSeconds, median, phaseEstimate, REPLAY_WARMUP, type PhaseSample } from '../../../src/estimate/rates.js';
import { replayBytes, restoreEstimates } from '../../../src/estimate/restore.js';

const replay = (bytesPerSecond: number, startupSeconds = 1, tailSeconds = 2): PhaseSample => ({ phase: 'replay-wal', bytes: 1e9, seconds: 10, bytesPerSecond, startupSeconds, tailSeconds, profile: null });
const base = (bytesPerSecond: number): PhaseSample => ({ phase: 'restore-base-backup', bytes: 1e9, seconds: 10, bytesPerSecond, startupSeconds: 0, tailSeconds: 0, profile: null });

describe('median', () => {
  it.each<[number[], number]>([
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
  ])('%j → %d', (values, expected) => expect(median(values)).toBe(expected));
  it('is NaN for nothing', () => expect(median([])).toBeNaN());
});

describe('aggregateRates (samples newest first)', () => {
  it.each<[string, PhaseSample[], ReturnType<typeof aggregateRates>]>([
    ['no samples: nothing measured', [], {}],
    ['one replay sample', [replay(50e6)], { 'replay-wal': { bytesPerSecond: 50e6, startupSeconds: 1, tailSeconds: 2, samples: 1 } }],
    [
      'the median of each figure, per phase',
      [replay(50e6, 1, 9), base(70e6), replay(90e6, 3, 1), replay(60e6, 2, 2)],
      {
        'replay-wal': { bytesPerSecond: 60e6, startupSeconds: 2, tailSeconds: 2, samples: 3 },
        'restore-base-backup': { bytesPerSecond: 70e6, startupSeconds: 0, tailSeconds: 0, samples: 1 },
      },
    ],
    [
      'only the newest five count: an old slow run is forgotten',
      [replay(100e6), replay(100e6), replay(110e6), replay(90e6), replay(100e6), replay(1e6), replay(1e6), replay(1e6)],
      { 'replay-wal': { bytesPerSecond: 100e6, startupSeconds: 1, tailSeconds: 2, samples: 5 } },
    ],
    ['unusable samples are skipped', [replay(0), replay(Number.NaN), replay(40e6, -1), replay(30e6)], { 'replay-wal': { bytesPerSecond: 30e6, startupSeconds: 1, tailSeconds: 2, samples: 1 } }],
  ])('%s', (_name, samples, expected) => {
    expect(aggregateRates(samples)).toEqual(expected);
  });

  it('the median profile of the samples that have one, with the median bytes of those samples', () => {
    const shaped = (bytes: number, first: number | null): PhaseSample => ({ ...replay(50e6), bytes, profile: [first, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95] });
    const rates = aggregateRates([shaped(1e9, 0.2), replay(60e6), shaped(3e9, null), shaped(2e9, 0.1)]);
    expect(rates['replay-wal']!.profile).toEqual({ shares: [0.15, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95], bytes: 2e9 });
    expect(rates['replay-wal']!.samples).toBe(4);
  });
});

describe('phaseEstimate and estimatedSeconds', () => {
  it.each<[string, Parameters<typeof phaseEstimate>, number, number]>([
    ['replay with no history: the defaults (100 MB/s + 3 s + 2 s)', ['replay-wal', 1e9, undefined], 15, 0],
    ['base with no history: the defaults (80 MB/s + 2 s)', ['restore-base-backup', 800e6, {}], 12, 0],
    ['replay at a measured rate', ['replay-wal', 1e9, { 'replay-wal': { bytesPerSecond: 20e6, startupSeconds: 1.26, tailSeconds: 3, samples: 4 } }], 55, 4],
    ['nothing to move: the overheads, at least 1 s', ['restore-base-backup', 0, { 'restore-base-backup': { bytesPerSecond: 1e6, startupSeconds: 0, tailSeconds: 0, samples: 2 } }], 1, 2],
  ])('%s', (_name, args, seconds, samples) => {
    const estimate = phaseEstimate(...args);
    expect(estimatedSeconds(estimate)).toBe(seconds);
    expect(estimate.samples).toBe(samples);
  });

  it('keeps the figures short (plans are hashed after a jsonb round trip)', () => {
    const estimate = phaseEstimate('replay-wal', 123456789.4, { 'replay-wal': { bytesPerSecond: 12345678.9, startupSeconds: 1.2345, tailSeconds: 0.06, samples: 3 } });
    expect(estimate).toEqual({ bytes: 123456789, bytesPerSecond: 12345679, startupSeconds: 1.2, tailSeconds: 0.1, samples: 3 });
    expect(JSON.parse(JSON.stringify(estimate))).toEqual(estimate);
  });

  it.each<[string, number, boolean]>([
    ['the same size', 2e9, true],
    ['a third larger', 2.6e9, true],
    ['twice as large: the profile may not hold, rates alone', 4e9, false],
    ['half as large', 1e9, false],
  ])('carries the measured profile for a phase of %s', (_name, bytes, carried) => {
    const shares = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
    const estimate = phaseEstimate('replay-wal', bytes, { 'replay-wal': { bytesPerSecond: 20e6, startupSeconds: 1, tailSeconds: 3, samples: 4, profile: { shares, bytes: 2e9 } } });
    expect(estimate.profile).toEqual(carried ? shares : undefined);
    expect(JSON.parse(JSON.stringify(estimate))).toEqual(estimate);
  });

  it.each<[string, Parameters<typeof phaseEstimate>, boolean]>([
    ['replay on the defaults', ['replay-wal', 1e9, undefined], true],
    ["replay on the probe's rates (still not measured)", ['replay-wal', 1e9, { 'replay-wal': { ...DEFAULT_RATES['replay-wal'], probed: true } }], true],
    ['replay measured: its own profile and rate instead', ['replay-wal', 1e9, { 'replay-wal': { bytesPerSecond: 20e6, startupSeconds: 1, tailSeconds: 3, samples: 1 } }], false],
    ['a base backup: no warm-up modelled', ['restore-base-backup', 1e9, undefined], false],
  ])('carries the replay warm-up for %s', (_name, args, carried) => {
    const estimate = phaseEstimate(...args);
    expect(estimate.warmup).toEqual(carried ? REPLAY_WARMUP : undefined);
    expect(JSON.parse(JSON.stringify(estimate))).toEqual(estimate);
  });

  it('documents its defaults', () => {
    expect(DEFAULT_RATES['replay-wal'].bytesPerSecond).toBe(100e6);
    expect(DEFAULT_RATES['restore-base-backup'].bytesPerSecond).toBe(80e6);
  });

  it.each<[number, string]>([
    [0, 'not yet measured on this runner pool (default rates)'],
    [1, 'measured: median of the last restore on this runner pool'],
    [5, 'measured: median of the last 5 restores on this runner pool'],
  ])('basis of %d samples', (samples, text) => expect(estimateBasis(samples)).toBe(text));
});

describe('restoreEstimates', () => {
  const MiB16 = 16 * 1024 * 1024;
  const selection = {
    backup: { startLsn: '0/2000028', walSegmentSize: MiB16, files: [{ bytes: 300e6 }, { bytes: 100e6 }] },
    requiredSegments: ['000000010000000000000002', '000000010000000000000003', '000000010000000000000004'],
    walBytes: 3 * MiB16,
  } as unknown as Parameters<typeof restoreEstimates>[0];

  it('replay counts from the backup start LSN to the end of the last needed segment, as replay progress does', () => {
    expect(replayBytes(selection)).toBe(0x5000000 - 0x2000028);
  });

  it('base and replay from the same rates', () => {
    const rates = { 'replay-wal': { bytesPerSecond: 10e6, startupSeconds: 2, tailSeconds: 1, samples: 3 }, 'restore-base-backup': { bytesPerSecond: 100e6, startupSeconds: 0, tailSeconds: 0, samples: 3 } };
    const estimates = restoreEstimates(selection, rates);
    expect(estimates.base).toEqual({ seconds: 4, estimate: { bytes: 400e6, bytesPerSecond: 100e6, startupSeconds: 0, tailSeconds: 0, samples: 3 } });
    expect(estimates.replay.seconds).toBe(Math.ceil(2 + (0x5000000 - 0x2000028) / 10e6 + 1));
  });
});
