/** Default rates from the runner's start-up probe, and the range shown until a pool has history (pure). */
import { describe, expect, it } from 'vitest';
import { calibratedRates, REFERENCE, uncertaintyRange, withCalibration, type ProbeResult } from '../../../src/estimate/calibrate.js';
import { DEFAULT_RATES, phaseEstimate } from '../../../src/estimate/rates.js';

const reference: ProbeResult = { ...REFERENCE.probe, seconds: 1 };
const base = REFERENCE.rates['restore-base-backup'];
const replay = REFERENCE.rates['replay-wal'];

describe('calibratedRates', () => {
  it.each<[string, Partial<ProbeResult>, number | undefined, number | undefined]>([
    ['the reference machine gets the reference rates', {}, base, replay],
    ['pg_waldump twice as fast: replay twice as fast, base unchanged', { walDecodeBytesPerSecond: REFERENCE.probe.walDecodeBytesPerSecond * 2 }, base, replay * 2],
    ['a disk at half speed bounds the base restore', { diskWriteBytesPerSecond: REFERENCE.probe.diskWriteBytesPerSecond / 2 }, base / 2, replay],
    ['a download at a quarter, the disk at half: the slower bounds it', { downloadBytesPerSecond: REFERENCE.probe.downloadBytesPerSecond / 4, diskWriteBytesPerSecond: REFERENCE.probe.diskWriteBytesPerSecond / 2 }, base / 4, replay],
    ['no WAL archived yet: the base from the disk alone, replay unknown', { downloadBytesPerSecond: null, walDecodeBytesPerSecond: null }, base, undefined],
    ['nothing measured', { diskWriteBytesPerSecond: null, downloadBytesPerSecond: null, walDecodeBytesPerSecond: null }, undefined, undefined],
    ['nonsense figures are not measurements', { diskWriteBytesPerSecond: Number.NaN, downloadBytesPerSecond: 0, walDecodeBytesPerSecond: -5 }, undefined, undefined],
  ])('%s', (_name, probe, baseRate, replayRate) => {
    const rates = calibratedRates({ ...reference, ...probe });
    expect(rates['restore-base-backup']?.bytesPerSecond).toBe(baseRate);
    expect(rates['replay-wal']?.bytesPerSecond).toBe(replayRate);
    for (const rate of Object.values(rates)) expect(rate).toMatchObject({ samples: 0, probed: true });
  });

  it("keeps the defaults' start-up and tail", () => {
    const rates = calibratedRates(reference);
    expect(rates['replay-wal']).toMatchObject({ startupSeconds: DEFAULT_RATES['replay-wal'].startupSeconds, tailSeconds: DEFAULT_RATES['replay-wal'].tailSeconds });
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
    ['probed', calibratedRates(reference), true],
    ['defaults', {}, false],
    ['measured (a stray flag does not count)', { 'replay-wal': { bytesPerSecond: 1e8, startupSeconds: 0, tailSeconds: 0, samples: 2, probed: true } }, false],
  ])('%s', (_name, rates, probed) => expect(phaseEstimate('replay-wal', 1e9, rates).probed === true).toBe(probed));
});

describe('uncertaintyRange', () => {
  it.each([
    [240, true, 120, 480],
    [240, false, 80, 720],
    [1, true, 1, 2],
  ])('%d s (probed %s): %d–%d s', (seconds, probed, low, high) => expect(uncertaintyRange(seconds, probed)).toEqual({ low, high }));
});
