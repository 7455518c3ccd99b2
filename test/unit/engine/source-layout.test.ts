/** Where a cluster keeps its configuration, and a side instance's own files (issue 19 item 1): pure parts as tables. */
import { describe, expect, test } from 'vitest';
import { configFileOutside, controlParameters, sideConfFiles, sourceLayoutFromRows } from '../../../src/engine/source-layout.js';

describe('sourceLayoutFromRows', () => {
  test.each([
    [
      "Debian's packages: files under /etc, carried settings kept, empty ones and others left out",
      [
        { name: 'data_directory', setting: '/var/lib/postgresql/15/main' },
        { name: 'config_file', setting: '/etc/postgresql/15/main/postgresql.conf' },
        { name: 'hba_file', setting: '/etc/postgresql/15/main/pg_hba.conf' },
        { name: 'ident_file', setting: '/etc/postgresql/15/main/pg_ident.conf' },
        { name: 'shared_preload_libraries', setting: 'pg_stat_statements' },
        { name: 'timezone', setting: 'Etc/UTC' },
        { name: 'lc_time', setting: '' },
        { name: 'port', setting: '5432' },
      ],
      {
        dataDirectory: '/var/lib/postgresql/15/main',
        configFile: '/etc/postgresql/15/main/postgresql.conf',
        hbaFile: '/etc/postgresql/15/main/pg_hba.conf',
        identFile: '/etc/postgresql/15/main/pg_ident.conf',
        settings: { shared_preload_libraries: 'pg_stat_statements', timezone: 'Etc/UTC' },
      },
    ],
    ['a role without pg_read_all_settings sees no file settings', [{ name: 'timezone', setting: 'UTC' }], { settings: { timezone: 'UTC' } }],
    ['nothing readable', [], {}],
  ])('%s', (_name, rows, expected) => {
    expect(sourceLayoutFromRows(rows)).toEqual(expected);
  });
});

describe('configFileOutside', () => {
  test.each([
    ['initdb layout', { configFile: '/srv/pg/data/postgresql.conf' }, '/srv/pg/data', undefined],
    ['initdb layout, data dir given with a trailing slash', { configFile: '/srv/pg/data/postgresql.conf' }, '/srv/pg/data/', undefined],
    ["Debian's layout", { configFile: '/etc/postgresql/15/main/postgresql.conf' }, '/var/lib/postgresql/15/main', '/etc/postgresql/15/main/postgresql.conf'],
    ['another name inside the data directory', { configFile: '/srv/pg/data/prod.conf' }, '/srv/pg/data', '/srv/pg/data/prod.conf'],
    ['not known (old manifest, production down)', undefined, '/srv/pg/data', undefined],
    ['not readable', {}, '/srv/pg/data', undefined],
  ])('%s', (_name, layout, dataDir, expected) => {
    expect(configFileOutside(layout, dataDir)).toBe(expected);
  });
});

test('controlParameters: what hot standby replay needs at least, under the server names', () => {
  const controldata = [
    'pg_control version number:            1300',
    'wal_level setting:                    replica',
    'max_connections setting:              250',
    'max_worker_processes setting:         8',
    'max_wal_senders setting:              10',
    'max_prepared_xacts setting:           5',
    'max_locks_per_xact setting:           128',
    'track_commit_timestamp setting:       off',
  ].join('\n');
  expect(controlParameters(controldata)).toEqual({ max_connections: '250', max_worker_processes: '8', max_wal_senders: '10', max_prepared_transactions: '5', max_locks_per_transaction: '128' });
  expect(controlParameters('')).toEqual({});
});

test("sideConfFiles: minimal files of its own, never the source's paths; local socket trust only", () => {
  const files = sideConfFiles({ control: { max_connections: '250' }, carried: { timezone: 'Etc/UTC', shared_preload_libraries: 'pg_stat_statements', port: '5432', hba_file: '/etc/x' } });
  expect(files['postgresql.conf']).toContain("timezone = 'Etc/UTC'");
  expect(files['postgresql.conf']).toContain("shared_preload_libraries = 'pg_stat_statements'");
  expect(files['postgresql.conf']).toContain('max_connections = 250');
  expect(files['postgresql.conf']).not.toMatch(/port|hba_file|\/etc\//);
  expect(files['pg_hba.conf'].split('\n').filter((line) => line && !line.startsWith('#'))).toEqual(['local all all trust', 'host all all 127.0.0.1/32 md5']);
  expect(files['pg_ident.conf'].split('\n').filter((line) => line && !line.startsWith('#'))).toEqual([]);
});
