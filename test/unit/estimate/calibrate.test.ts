/** Default rates from the runner's start-up probe, and the range shown until a pool has history (pure). */
import { describe, expect, it } from 'vitest';
import { calibratedRates, REFERENCE, uncertaintyRange, withCalibration, type ProbeResult } from '../../../src/estimate/calibrate.js';
import { DEFAULT_RATES, phaseEstimate } from '../../../src/estimate/rates.js';

const reference: ProbeResult = { ...REFERENCE.probe, walDecodeBytesPerSecond: 80e6, seconds: 1 };
const base = REFERENCE.rates['restore-base-backup'];

describe('calibratedRates', () => {
  it.each<[string, Partial<ProbeResult>, number | undefined]>([
    ['the reference machine gets the reference rate', {}, base],
    ['a disk at half speed bounds the base restore', { diskWriteBytesPerSecond: REFERENCE.probe.diskWriteBytesPerSecond / 2 }, base / 2],
    ['a download at a quarter, the disk at half: the slower bounds it', { downloadBytesPerSecond: REFERENCE.probe.downloadBytesPerSecond / 4, diskWriteBytesPerSecond: REFERENCE.probe.diskWriteBytesPerSecond / 2 }, base / 4],
    ['no WAL archived yet: the base from the disk alone', { downloadBytesPerSecond: null, walDecodeBytesPerSecond: null }, base],
    ['nothing measured', { diskWriteBytesPerSecond: null, downloadBytesPerSecond: null, walDecodeBytesPerSecond: null }, undefined],
    ['nonsense figures are not measurements', { diskWriteBytesPerSecond: Number.NaN, downloadBytesPerSecond: 0, walDecodeBytesPerSecond: -5 }, undefined],
  ])('%s', (_name, probe, baseRate) => {
    const rates = calibratedRates({ ...reference, ...probe });
    expect(rates['restore-base-backup']?.bytesPerSecond).toBe(baseRate);
    for (const rate of Object.values(rates)) expect(rate).toMatchObject({ samples: 0, probed: true });
  });

  // pg_waldump's figure is no measure of replay (decoding is not its bottleneck; under load the figure times the
  // scheduler): whatever it says, replay stays on the defaults until the pool has measured one.
  it.each([1e6, 79e6, 1051e6])('replay is not scaled by a decoding figure of %d B/s', (walDecodeBytesPerSecond) => {
    const rates = calibratedRates({ ...reference, walDecodeBytesPerSecond });
    expect(rates['replay-wal']).toBeUndefined();
    expect(phaseEstimate('replay-wal', 1e9, rates)).toMatchObject({ bytesPerSecond: DEFAULT_RATES['replay-wal'].bytesPerSecond, samples: 0 });
    expect(phaseEstimate('replay-wal', 1e9, rates).probed).toBeUndefined();
  });

  it("keeps the defaults' start-up and tail", () => {
    const rates = calibratedRates(reference);
    expect(rates['restore-base-backup']).toMatchObject({ startupSeconds: DEFAULT_RATES['restore-base-backup'].startupSeconds, tailSeconds: DEFAULT_RATES['restore-base-backup'].tailSeconds });
  });
});

describe('withCalibration', () => {
  const measured = { 'replay-wal': { bytesPerSecond: 123e6, startupSeconds: 1, tailSeconds: 1, samples: 3 } };
  it('a measured phase keeps its history; an unmeasured one takes the probe', () => {
    const rates = withCalibration(measured, calibratedRates(reference));
    expect(rates['replay-wal']).toBe(measured['replay-wal']);
    expect(rates['restore-base-backup']).toMatchObject({ bytesPerSecond: base, probed: true });
  });
  it('without a probe, the measured rates as they were', () => expect(withCalibration(measured, undefined)).toEqual(measured));
});

describe('phaseEstimate carries where its rate came from', () => {
  it.each<[string, Parameters<typeof phaseEstimate>[2], boolean]>([
    ['probed (the base)', calibratedRates(reference), true],
    ['defaults', {}, false],
    ['measured (a stray flag does not count)', { 'restore-base-backup': { bytesPerSecond: 1e8, startupSeconds: 0, tailSeconds: 0, samples: 2, probed: true } }, false],
  ])('%s', (_name, rates, probed) => expect(phaseEstimate('restore-base-backup', 1e9, rates).probed === true).toBe(probed));
});

describe('uncertaintyRange', () => {
  it.each([
    [240, true, 120, 480],
    [240, false, 80, 720],
    [1, true, 1, 2],
  ])('%d s (probed %s): %d–%d s', (seconds, probed, low, high) => expect(uncertaintyRange(seconds, probed)).toEqual({ low, high }));
});
