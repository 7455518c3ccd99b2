/** Default rates from the runner's start-up probe, and the range shown until a pool has history (pure). */
import { describe, expect, it } from 'vitest';
import { calibratedRates, decodeRate, MIN_DECODE_SHARE, probeWindow, REFERENCE, uncertaintyRange, withCalibration, type ProbeResult } from '../../../src/estimate/calibrate.js';
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

describe('decodeRate: pg_waldump less the start of a process', () => {
  it.each<[string, number, number, number, number | null]>([
    ['a run of 0.3 s of which 0.1 s was starting: 48 MB over 0.2 s', 48e6, 0.3, 0.1, 240e6],
    ['no start-up measured: the whole run', 48e6, 0.3, 0, 160e6],
    ['a start-up slower than the run: at most down to its floor share', 48e6, 0.2, 0.5, 48e6 / (0.2 * MIN_DECODE_SHARE)],
    ['an unreadable start-up figure counts as none', 48e6, 0.3, Number.NaN, 160e6],
    ['no bytes: not measured', 0, 0.3, 0.1, null],
    ['no time: not measured', 48e6, 0, 0, null],
  ])('%s', (_name, bytes, run, spawn, expected) => {
    const got = decodeRate(bytes, run, spawn);
    if (expected === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(expected, -3);
  });
});

describe('probeWindow: the consecutive segments the probe decodes', () => {
  const seg = (name: string, size: number) => ({ name, size });
  it.each<[string, ReturnType<typeof seg>[], number, string[]]>([
    ['the fullest run of consecutive segments, in order', [seg('000000010000000000000002', 1), seg('000000010000000000000003', 5), seg('000000010000000000000004', 5), seg('000000010000000000000005', 5)], 3, ['000000010000000000000003', '000000010000000000000004', '000000010000000000000005']],
    ['a gap ends a window', [seg('000000010000000000000002', 5), seg('000000010000000000000004', 5), seg('000000010000000000000005', 5)], 3, ['000000010000000000000004', '000000010000000000000005']],
    ['a timeline switch ends a window', [seg('000000010000000000000004', 5), seg('000000020000000000000005', 5), seg('000000020000000000000006', 1)], 3, ['000000020000000000000005', '000000020000000000000006']],
    ['across a log boundary (…000000FF then …0100000000)', [seg('0000000100000000000000FF', 5), seg('000000010000000100000000', 5)], 3, ['0000000100000000000000FF', '000000010000000100000000']],
    ['history, backup label and partial files are no segments', [seg('00000002.history', 99), seg('000000010000000000000002.00000028.backup', 99), seg('000000010000000000000003.partial', 99), seg('000000010000000000000007', 2)], 3, ['000000010000000000000007']],
    ['listed out of order: sorted first', [seg('000000010000000000000009', 4), seg('000000010000000000000008', 4)], 3, ['000000010000000000000008', '000000010000000000000009']],
    ['at most max', [seg('000000010000000000000001', 4), seg('000000010000000000000002', 4), seg('000000010000000000000003', 4)], 2, ['000000010000000000000001', '000000010000000000000002']],
    ['nothing to decode', [seg('00000002.history', 1)], 3, []],
  ])('%s', (_name, listed, max, names) => expect(probeWindow(listed, max).map((s) => s.name)).toEqual(names));
});
