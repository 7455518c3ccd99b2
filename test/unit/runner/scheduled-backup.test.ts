import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { configuredSchedule } from '../../../src/runner/scheduled-backup.js';

describe('configuredSchedule', () => {
  it('is null without RECOVER_BACKUP_SCHEDULE, the schedule with it and a source', () => {
    expect(configuredSchedule(loadConfig({}))).toBeNull();
    expect(configuredSchedule(loadConfig({ RECOVER_BACKUP_SCHEDULE: '0 2 * * *', RECOVER_SOURCE_URL: 'postgres://postgres@/postgres?host=/var/run/postgresql' }))?.text).toBe('0 2 * * *');
  });

  it('refuses a schedule without RECOVER_SOURCE_URL (the runner would fail every slot), naming both', () => {
    expect(() => configuredSchedule(loadConfig({ RECOVER_BACKUP_SCHEDULE: '0 2 * * *' }))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('RECOVER_BACKUP_SCHEDULE needs RECOVER_SOURCE_URL') }));
  });
});
