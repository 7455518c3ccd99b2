/** A phase's sample, measured from the engine's events (tables of event sequences). */
import { describe, expect, it } from 'vitest';
import { samplesOf } from '../../../src/estimate/observe.js';
import type { EngineEvent } from '../../../src/types.js';

const t = (seconds: number) => new Date(Date.UTC(2025, 0, 15, 14, 0, 0) + seconds * 1000).toISOString();
const started = (at: number, step = 'replay-wal'): EngineEvent => ({ type: 'step.started', at: t(at), step, title: step });
const progress = (at: number, done: number, total: number | null = 1000, step = 'replay-wal'): EngineEvent => ({ type: 'step.progress', at: t(at), step, done, total, unit: 'wal-bytes' });
const finished = (at: number, seconds: number, step = 'replay-wal'): EngineEvent => ({ type: 'step.finished', at: t(at), step, seconds });

describe('samplesOf', () => {
  it.each<[string, EngineEvent[], ReturnType<typeof samplesOf>]>([
    [
      'replay: start-up before the first byte, the rate over the window, the tail after the last advance, the profile from the first progress on',
      // server up after 4 s with 100 bytes replayed (at 50 B/s those took 2 s: start-up 2 s), then 50 B/s, stuck at 900 while promoting
      [started(0), progress(4, 100), progress(8, 300), progress(20, 900), progress(21, 900), progress(23, 900), finished(25, 25)],
      [{ phase: 'replay-wal', bytes: 900, seconds: 25, bytesPerSecond: 50, startupSeconds: 2, tailSeconds: 5, profile: [null, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] }],
    ],
    [
      'base restore: events every chunk, the last at the total',
      [started(0, 'restore-base-backup'), progress(1, 100, 400, 'restore-base-backup'), progress(4, 400, 400, 'restore-base-backup'), finished(4, 4, 'restore-base-backup')],
      [{ phase: 'restore-base-backup', bytes: 400, seconds: 4, bytesPerSecond: 100, startupSeconds: 0, tailSeconds: 0, profile: [null, null, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] }],
    ],
    [
      'too short for a window: all of its time counts as transfer',
      [started(0), progress(0.5, 600), finished(0.8, 0.8)],
      [{ phase: 'replay-wal', bytes: 600, seconds: 0.8, bytesPerSecond: 750, startupSeconds: 0, tailSeconds: 0, profile: null }],
    ],
    ['no progress at all: the total is unknown, nothing measured', [started(0), finished(3, 3)], []],
    ['a phase that did not finish (failed, cancelled) leaves no sample', [started(0), progress(2, 100), progress(9, 500)], []],
    ['other steps are not measured', [started(0, 'verify'), progress(1, 5, 10, 'verify'), finished(2, 2, 'verify')], []],
    [
      'two phases, one after the other',
      [
        started(0, 'restore-base-backup'), progress(1, 100, 200, 'restore-base-backup'), progress(3, 200, 200, 'restore-base-backup'), finished(3, 3, 'restore-base-backup'),
        started(4), progress(5, 0), progress(15, 1000), finished(16, 12),
      ],
      [
        { phase: 'restore-base-backup', bytes: 200, seconds: 3, bytesPerSecond: 50, startupSeconds: 0, tailSeconds: 0, profile: [null, null, null, null, null, 0.467, 0.6, 0.733, 0.867] },
        { phase: 'replay-wal', bytes: 1000, seconds: 12, bytesPerSecond: 100, startupSeconds: 1, tailSeconds: 1, profile: [0.182, 0.273, 0.364, 0.455, 0.545, 0.636, 0.727, 0.818, 0.909] },
      ],
    ],
  ])('%s', (_name, events, expected) => {
    expect(samplesOf(events)).toEqual(expected);
  });

  it('a replay reported often enough has a profile: when each tenth was passed, as a share of the time to the last byte', () => {
    // server up at 2 s with 50 bytes replayed; slow to 100 at 6 s, then 100 B/s to 1000 at 15 s; promoted at 17 s
    const events = [started(0), progress(2, 50), progress(6, 100), progress(9, 400), progress(12, 700), progress(15, 1000), progress(16, 1000), finished(17, 17)];
    const [sample] = samplesOf(events);
    expect(sample!.profile).toEqual([0.4, 0.467, 0.533, 0.6, 0.667, 0.733, 0.8, 0.867, 0.933]);
    expect(sample!.tailSeconds).toBe(2);
  });

  it('tenths passed before the first progress are unknown in the profile', () => {
    const [sample] = samplesOf([started(0), progress(3, 250), progress(10, 1000), finished(11, 11)]);
    // 30 % at 3 + 7 × 50 / 750 s of the 10 s to the last byte (the tail after it is not part of the profile)
    expect(sample!.profile).toEqual([null, null, 0.347, 0.44, 0.533, 0.627, 0.72, 0.813, 0.907]);
  });

  it('a replay that stopped before nine tenths of its total (a target inside the last WAL) has no profile', () => {
    const [sample] = samplesOf([started(0), progress(2, 100), progress(10, 850), finished(11, 11)]);
    expect(sample!.profile).toBeNull();
  });

  it('a sample explains the whole step: start-up + bytes / rate + tail = seconds', () => {
    const [sample] = samplesOf([started(0), progress(4, 100), progress(8, 300), progress(20, 900), finished(25, 25)]);
    expect(sample!.startupSeconds + sample!.bytes / sample!.bytesPerSecond + sample!.tailSeconds).toBeCloseTo(sample!.seconds, 9);
  });
});
