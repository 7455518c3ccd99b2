import { describe, expect, it, test } from 'vitest';
import { refusal } from '../../support/refusal.js';
import { exactTargetTime, parseTarget, parseTargetTime, timeTarget, type TargetOptions } from '../../../src/catalog/targets.js';


describe('parseTargetTime', () => {
  it.each([
    ['2025-01-15T14:29:59Z', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15T14:29:59z', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15t14:29:59Z', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15T14:29:59+00:00', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15T14:29:59+0000', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15T14:29:59+00', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15T19:59:59+0530', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15T19:59:59+05:30', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15T06:29:59-08', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15T06:29:59-08:00', '2025-01-15T14:29:59.000Z'],
    ['2025-01-14T20:59:59-1730', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15 14:29:59+00', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15 14:29:59 +00:00', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15 14:29:59 Z', '2025-01-15T14:29:59.000Z'],
    ['2025-01-15T14:29Z', '2025-01-15T14:29:00.000Z'],
    ['2025-01-15T14:29:59.5Z', '2025-01-15T14:29:59.500Z'],
    ['2025-01-15T14:29:59.123+01:00', '2025-01-15T13:29:59.123Z'],
    // Rounded UP to the millisecond: selection may only ask for more WAL, never less.
    ['2025-01-15T14:29:59.123456Z', '2025-01-15T14:29:59.124Z'],
    ['2025-01-15T14:29:59.123001Z', '2025-01-15T14:29:59.124Z'],
    ['2025-01-15T14:29:59.123000Z', '2025-01-15T14:29:59.123Z'],
    ['2025-01-15T14:29:59.999999Z', '2025-01-15T14:30:00.000Z'],
    ['  2025-01-15T14:29:59Z  ', '2025-01-15T14:29:59.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2025-01-01T00:30:00+01:00', '2024-12-31T23:30:00.000Z'],
  ])('%j is not before %s', (raw, iso) => {
    expect(parseTargetTime(raw).notBefore.toISOString()).toBe(iso);
  });

  // Issue 6 item 1: a JS Date keeps milliseconds; the target must keep every digit given.
  it.each([
    ['2025-01-15T14:29:10.120555+00', '2025-01-15T14:29:10.120555Z', '2025-01-15T14:29:10.120555Z', 1736951350120555n],
    ['2025-01-15 14:29:10.120555Z', '2025-01-15T14:29:10.120555Z', '2025-01-15T14:29:10.120555Z', 1736951350120555n],
    ['2025-01-15T14:29:10.000001z', '2025-01-15T14:29:10.000001Z', '2025-01-15T14:29:10.000001Z', 1736951350000001n],
    ['2025-01-15T19:59:10.120555+0530', '2025-01-15T19:59:10.120555+05:30', '2025-01-15T14:29:10.120555Z', 1736951350120555n],
    ['2025-01-15T06:29:10.5-08', '2025-01-15T06:29:10.5-08:00', '2025-01-15T14:29:10.5Z', 1736951350500000n],
    ['2025-01-15T14:29:10.120000+00:00', '2025-01-15T14:29:10.120000Z', '2025-01-15T14:29:10.12Z', 1736951350120000n],
    ['2025-01-15T14:29+00', '2025-01-15T14:29:00Z', '2025-01-15T14:29:00Z', 1736951340000000n],
    ['2025-01-01T00:00:00.000999+01:00', '2025-01-01T00:00:00.000999+01:00', '2024-12-31T23:00:00.000999Z', 1735686000000999n],
  ])('%j keeps its microseconds: %s', (raw, text, utc, micros) => {
    const exact = parseTargetTime(raw);
    expect(exact.text).toBe(text);
    expect(exact.utc).toBe(utc);
    expect(exact.epochMicros).toBe(micros);
    // Never earlier than the exact instant, and less than a millisecond later.
    const ms = BigInt(exact.notBefore.getTime()) * 1000n;
    expect(ms >= micros && ms - micros < 1000n).toBe(true);
  });

  it.each(['2025-01-15T14:29:59', '2025-01-15 14:29:59', '2025-01-15T14:29', '2025-01-15', '2025-01-15T14:29:59.123'])(
    'refuses the bare time %j with TARGET_NO_ZONE and an example',
    (raw) => {
      const error = refusal(() => parseTargetTime(raw));
      expect(error.code).toBe('TARGET_NO_ZONE');
      expect(error.message).toContain(`"${raw}"`);
      expect(error.message).toContain('no time zone');
      expect(error.hint).toContain('2025-01-15T14:29:59+00:00');
      expect(error.hint).toContain('2025-01-15T14:29:59Z');
    },
  );

  it.each([
    'yesterday',
    '',
    'now',
    '14:29:59Z',
    '2025/01/15 14:29:59Z',
    '15.01.2025 14:29',
    '2025-01-15T14:29:59 UTC',
    '2025-01-15T14:29:59+5',
    '2025-01-15T14:29:59.1234567Z',
    "2025-01-15T14:29:59Z'; DROP TABLE x; --",
    '2025-01-15T14:29:59Z\n2025-01-16T00:00:00Z',
  ])('refuses %j with BAD_INPUT', (raw) => {
    const error = refusal(() => parseTargetTime(raw));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.hint).toContain('2025-01-15T14:29:59+00:00');
  });

  it.each(['2025-13-01T00:00:00Z', '2025-00-10T00:00:00Z', '2025-01-32T00:00:00Z', '2025-01-15T14:60:00Z', '2025-01-15T25:00:00Z', '2025-01-15T14:29:59+24:00'])(
    'refuses the impossible time %j with BAD_INPUT',
    (raw) => {
      const error = refusal(() => parseTargetTime(raw));
      expect(error.code).toBe('BAD_INPUT');
      expect(error.message).toContain('not a valid calendar time');
    },
  );

  // BUG: parseTargetTime relies on `new Date(...)`, which rolls impossible days over into the
  // next month (2025-02-30 → 2025-03-02, 2025-04-31 → 2025-05-01, 2025-02-29 → 2025-03-01)
  // instead of refusing them; a typo silently becomes a different recovery target.
  test.each(['2025-02-30T12:00:00Z', '2025-04-31T12:00:00Z', '2025-02-29T12:00:00Z'])('refuses the non-existent date %j', (raw) => {
    expect(refusal(() => parseTargetTime(raw)).code).toBe('BAD_INPUT');
  });
});

describe('parseTarget', () => {
  it.each<[TargetOptions, unknown]>([
    [{ xid: '73519' }, { kind: 'xid', xid: '73519' }],
    [{ xid: '3' }, { kind: 'xid', xid: '3' }],
    // recovery_target_xid keeps the low 32 bits: an epoch-qualified xid (txid_current()) is read as its xid.
    [{ xid: String(2n ** 32n + 73519n) }, { kind: 'xid', xid: '4295040815' }],
    [{ xid: '18446744073709551615' }, { kind: 'xid', xid: '18446744073709551615' }],
    [{ lsn: '0/3000028' }, { kind: 'lsn', lsn: 0x3000028n }],
    [{ lsn: '16/b374d848' }, { kind: 'lsn', lsn: (0x16n << 32n) | 0xb374d848n }],
    [{ name: 'before_migration' }, { kind: 'name', name: 'before_migration' }],
    [{ name: 'deploy-2025.01.15@14:00' }, { kind: 'name', name: 'deploy-2025.01.15@14:00' }],
    [{ name: 'x'.repeat(63) }, { kind: 'name', name: 'x'.repeat(63) }],
    [{ immediate: true }, { kind: 'immediate' }],
    [{ latest: true }, { kind: 'latest' }],
    [{ latest: true, immediate: false }, { kind: 'latest' }],
    [{ at: '2025-01-15T14:29:59Z', xid: undefined }, { kind: 'time', time: new Date('2025-01-15T14:29:59Z'), raw: '2025-01-15T14:29:59Z' }],
    [{ at: '2025-01-15T14:29:10.120555+00' }, { kind: 'time', time: new Date('2025-01-15T14:29:10.121Z'), raw: '2025-01-15T14:29:10.120555Z' }],
  ])('%o', (options, expected) => {
    expect(parseTarget(options)).toEqual(expected);
  });

  it('keeps the time target exactly, normalised, with its offset', () => {
    expect(parseTarget({ at: '2025-01-15 19:59:59+0530' })).toEqual({ kind: 'time', time: new Date('2025-01-15T14:29:59Z'), raw: '2025-01-15T19:59:59+05:30' });
  });

  it('a target built from a Date alone (raw empty) is exact to its millisecond', () => {
    const time = new Date('2025-01-15T14:29:59.250Z');
    expect(exactTargetTime({ kind: 'time', time, raw: '' }).text).toBe('2025-01-15T14:29:59.250Z');
    expect(timeTarget('2025-01-15T14:29:59.250+00:00')).toEqual({ kind: 'time', time, raw: '2025-01-15T14:29:59.250Z' });
  });

  it.each<[TargetOptions, string]>([
    [{ at: '2025-01-15T14:29:59Z', xid: '5' }, '--at and --xid'],
    [{ lsn: '0/1', name: 'x' }, '--lsn and --name'],
    [{ immediate: true, latest: true }, '--immediate and --latest'],
    [{ at: '2025-01-15T14:29:59Z', xid: '5', latest: true }, '--at and --xid and --latest'],
    [{ xid: '', name: '' }, '--xid and --name'],
  ])('%j → TARGET_CONFLICT naming %s', (options, named) => {
    const error = refusal(() => parseTarget(options));
    expect(error.code).toBe('TARGET_CONFLICT');
    expect(error.message).toBe(`Give exactly one recovery target; got ${named}.`);
    expect(error.hint).toContain('--immediate');
  });

  it.each<TargetOptions>([{}, { immediate: false, latest: false }, { at: undefined }])('no target (%j) → BAD_INPUT', (options) => {
    const error = refusal(() => parseTarget(options));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toBe('No recovery target given.');
    expect(error.hint).toContain('--at');
  });

  it('a bare time through parseTarget is TARGET_NO_ZONE', () => {
    expect(refusal(() => parseTarget({ at: '2025-01-15 14:29' })).code).toBe('TARGET_NO_ZONE');
  });

  // 0-2 are never a transaction's; past 2^64-1 PostgreSQL refuses to start; 2^32 + 0..2 is 0..2 once cut to 32 bits.
  it.each(['', '-1', '12a', '1e5', ' 5', '0x10', '1'.repeat(21), '5; SELECT 1', '0', '2', '18446744073709551616', '99999999999999999999', '4294967296', '4294967298'])('refuses the xid %j', (xid) => {
    const error = refusal(() => parseTarget({ xid }));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.hint).toContain('--xid 73519');
  });

  it.each(['', '3000028', '0/', 'x/1', "0/1'", '0/1 OR 1=1'])('refuses the lsn %j', (lsn) => {
    const error = refusal(() => parseTarget({ lsn }));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toBe(`"${lsn}" is not an LSN.`);
    expect(error.hint).toContain('0/3000028');
  });

  it.each([
    '',
    "it's",
    'a"b',
    'point;drop',
    'line\nbreak',
    'trailing\n',
    'with space',
    "x'; SELECT pg_terminate_backend(1); --",
    '$(reboot)',
    'back\\slash',
    'x'.repeat(64),
    'dépôt',
  ])('refuses the restore point name %j', (name) => {
    const error = refusal(() => parseTarget({ name }));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.hint).toContain('1-63');
  });
});
