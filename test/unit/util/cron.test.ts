import { describe, expect, it } from 'vitest';
import { latestSlot, nextSlot, parseCron, type CronSchedule } from '../../../src/util/cron.js';
import { loadConfig } from '../../../src/config.js';

const utc = (text: string) => new Date(`${text}Z`);
const schedule = (text: string): CronSchedule => {
  const parsed = parseCron(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};

describe('parseCron: which minutes are slots (UTC)', () => {
  it.each<[string, string, boolean]>([
    ['0 2 * * *', '2025-01-15T02:00', true],
    ['0 2 * * *', '2025-01-15T02:01', false],
    ['0 2 * * *', '2025-01-15T03:00', false],
    ['@daily', '2025-01-15T00:00', true],
    ['@hourly', '2025-01-15T13:00', true],
    ['@weekly', '2025-01-19T00:00', true], // a Sunday
    ['*/15 * * * *', '2025-01-15T10:45', true],
    ['*/15 * * * *', '2025-01-15T10:50', false],
    ['30 */6 * * *', '2025-01-15T18:30', true],
    ['30 */6 * * *', '2025-01-15T19:30', false],
    ['0 1-3,22 * * *', '2025-01-15T22:00', true],
    ['0 1-5/2 * * *', '2025-01-15T03:00', true],
    ['0 1-5/2 * * *', '2025-01-15T04:00', false],
    ['5/20 * * * *', '2025-01-15T10:45', true],
    ['0 0 * * 7', '2025-01-19T00:00', true], // 7 is Sunday too
    ['0 0 * * 1-5', '2025-01-18T00:00', false], // Saturday
    ['0 0 1 * *', '2025-02-01T00:00', true],
    ['0 0 1 6 *', '2025-02-01T00:00', false],
    // Both day fields restricted: either matches (Vixie cron).
    ['0 0 13 * 5', '2025-01-17T00:00', true], // a Friday
    ['0 0 13 * 5', '2025-01-13T00:00', true],
    ['0 0 13 * 5', '2025-01-14T00:00', false],
  ])('%s at %s → %s', (text, time, expected) => {
    expect(schedule(text).matches(utc(time))).toBe(expected);
  });

  it.each([
    ['0 2 * *', /expected 5 fields/],
    ['60 * * * *', /minute "60" is outside 0-59/],
    ['0 24 * * *', /hour "24" is outside 0-23/],
    ['0 0 0 * *', /day of month "0" is outside 1-31/],
    ['0 0 * 13 *', /month "13" is outside 1-12/],
    ['0 0 * * MON', /day of week "MON" is not/],
    ['*/0 * * * *', /step must be at least 1/],
    ['5-1 * * * *', /outside/],
    ['*-5 * * * *', /takes no range/],
    ['@reboot', /expected 5 fields/],
  ])('refuses %s', (text, message) => {
    expect(parseCron(text)).toMatch(message);
  });
});

describe('latestSlot / nextSlot', () => {
  const daily = schedule('0 2 * * *');
  it.each<[string, string, string | null]>([
    ['2025-01-15T01:00', '2025-01-15T02:30', '2025-01-15T02:00'],
    ['2025-01-15T02:00', '2025-01-15T02:30', null], // the lower bound is excluded: that slot was handled
    ['2025-01-14T00:00', '2025-01-15T02:00:59', '2025-01-15T02:00'],
    ['2025-01-15T03:00', '2025-01-15T04:00', null],
  ])('after %s up to %s → %s', (after, upTo, expected) => {
    expect(latestSlot(daily, utc(after), utc(upTo))?.toISOString() ?? null).toBe(expected === null ? null : utc(expected).toISOString());
  });

  it('the next slot, and none for a date that never comes', () => {
    expect(nextSlot(daily, utc('2025-01-15T02:00'))?.toISOString()).toBe('2025-01-16T02:00:00.000Z');
    expect(nextSlot(schedule('0 0 31 2 *'), utc('2025-01-15T02:00'))).toBeNull();
  });
});

describe('configuration', () => {
  it('reads the schedule and the retention policy, and names what is wrong', () => {
    const config = loadConfig({ RECOVER_BACKUP_SCHEDULE: ' 0 2 * * * ', RECOVER_RETENTION_FULL: '7', RECOVER_RETENTION_DAYS: '14' });
    expect(config.backupSchedule).toBe('0 2 * * *');
    expect(config.retention).toEqual({ full: 7, days: 14 });
    expect(loadConfig({}).retention).toEqual({});
    expect(() => loadConfig({ RECOVER_BACKUP_SCHEDULE: '0 25 * * *' })).toThrow(/RECOVER_BACKUP_SCHEDULE: hour "25" is outside 0-23/);
    expect(() => loadConfig({ RECOVER_RETENTION_FULL: '0' })).toThrow(/RECOVER_RETENTION_FULL/);
  });
});
