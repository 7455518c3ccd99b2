import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { RecoverError } from '../../../src/errors.js';
import { afterRemoval } from '../../../src/engine/partial-upload.js';
import { configuredDumpSchedule } from '../../../src/runner/scheduled-dump.js';

const source = { RECOVER_SOURCE_URL: 'postgres://postgres@/postgres?host=/var/run/postgresql' };

describe('configuredDumpSchedule', () => {
  it('is null without RECOVER_DUMP_SCHEDULE, the schedule with it and a source', () => {
    expect(configuredDumpSchedule(loadConfig(source))).toBeNull();
    expect(configuredDumpSchedule(loadConfig({ ...source, RECOVER_DUMP_SCHEDULE: ' 30 1 * * * ' }))?.text).toBe('30 1 * * *');
  });

  it.each([
    ['no RECOVER_SOURCE_URL', { RECOVER_DUMP_SCHEDULE: '0 2 * * *' }, 'RECOVER_DUMP_SCHEDULE needs RECOVER_SOURCE_URL'],
    ['the dumps container is the base backups one', { ...source, RECOVER_DUMP_SCHEDULE: '0 2 * * *', RECOVER_CONTAINER_DUMPS: 'pg-backups', RECOVER_CONTAINER_BACKUPS: 'pg-backups' }, 'the same as the base backups container (pg-backups)'],
    ['the dumps container is the WAL one', { ...source, RECOVER_DUMP_SCHEDULE: '0 2 * * *', RECOVER_CONTAINER_DUMPS: 'pg-wal', RECOVER_CONTAINER_WAL: 'pg-wal' }, 'the same as the WAL container (pg-wal)'],
  ])('refuses a schedule that cannot run: %s', (_name, env, message) => {
    expect(() => configuredDumpSchedule(loadConfig(env))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(message) }));
  });

  it('an invalid expression is refused at load, naming the setting', () => {
    expect(() => loadConfig({ RECOVER_DUMP_SCHEDULE: '61 * * * *' })).toThrow(/RECOVER_DUMP_SCHEDULE: minute "61" is outside 0-59/);
  });

  it('reads dump retention like base backup retention', () => {
    expect(loadConfig({ RECOVER_DUMP_RETENTION_COUNT: '7', RECOVER_DUMP_RETENTION_DAYS: '30' }).dumpRetention).toEqual({ count: 7, days: 30 });
    expect(loadConfig({}).dumpRetention).toEqual({});
    expect(() => loadConfig({ RECOVER_DUMP_RETENTION_COUNT: '0' })).toThrow(/RECOVER_DUMP_RETENTION_COUNT/);
  });
});

describe('afterRemoval (a failed upload and what its cleanup did)', () => {
  const failure = new RecoverError('STORAGE_ERROR', 'The store refused files/3001.dat.gz.', { hint: 'Check the storage account.' });
  it.each([
    ['nothing was stored', { removed: 0, failure: null }, 'The store refused files/3001.dat.gz.', 'Check the storage account.'],
    ['all removed', { removed: 3, failure: null }, 'The store refused files/3001.dat.gz.', 'Check the storage account. The partial upload dumps/app/20250115020000/ was deleted.'],
    ['removal failed too', { removed: 1, failure: new RecoverError('STORAGE_ERROR', 'storage unreachable') }, 'The store refused files/3001.dat.gz. Its partial upload dumps/app/20250115020000/ could not be removed (storage unreachable); it has no manifest, so it is never listed as usable or restored, and the cleanup removes it.', 'Check the storage account.'],
  ])('%s', (_name, removal, message, hint) => {
    const error = afterRemoval(failure, removal, { where: 'dumps/app/20250115020000/', cleanedBy: 'the cleanup' });
    expect([error.code, error.message, error.hint]).toEqual(['STORAGE_ERROR', message, hint]);
  });
});
