/** Logical dumps' argument lists and the TOC reader (engine/dumps/args.ts), as tables. */
import { describe, expect, test } from 'vitest';
import { DEFAULT_LEVERS, loadRuns } from '../../../../src/engine/dumps/load.js';
import { pgDumpallGlobalsArgs, pgDumpArgs, pgRestoreListArgs, pgRestoreSectionArgs, restoreSessionPgOptions, tableDataEntries } from '../../../../src/engine/dumps/args.js';

const bin = '/usr/lib/postgresql/15/bin';
const conn = { host: '/run/pg', port: 5432, user: 'recover' };
const connWords = ['--host', '/run/pg', '--port', '5432', '--username', 'recover'];

describe('pg_dump / pg_dumpall', () => {
  test('pg_dump: directory format, jobs, the exported snapshot, no prompt', () => {
    expect(pgDumpArgs(bin, { ...conn, dbname: 'app' }, '/w/app', 4, '00000003-0000001B-1')).toEqual([
      `${bin}/pg_dump`,
      [...connWords, '--dbname', 'app', '--format', 'directory', '--jobs', '4', '--snapshot', '00000003-0000001B-1', '--file', '/w/app', '--no-password'],
    ]);
  });
  test('pg_dumpall: globals only, never a database name', () => {
    expect(pgDumpallGlobalsArgs(bin, { ...conn, dbname: 'app' }, '/w/globals.sql')).toEqual([`${bin}/pg_dumpall`, [...connWords, '--globals-only', '--file', '/w/globals.sql', '--no-password']]);
  });
});

describe('pg_restore by section', () => {
  test.each([
    ['pre-data', 4, false, ['--section', 'pre-data', '--exit-on-error', '--no-password']],
    ['data', 4, false, ['--section', 'data', '--jobs', '4', '--exit-on-error', '--no-password']],
    ['post-data', 2, false, ['--section', 'post-data', '--jobs', '2', '--exit-on-error', '--no-password']],
    ['data', 3, true, ['--section', 'data', '--jobs', '3', '--no-owner', '--no-acl', '--exit-on-error', '--no-password']],
    [['data', 'post-data'], 2, false, ['--section', 'data', '--section', 'post-data', '--jobs', '2', '--exit-on-error', '--no-password']],
  ] as const)('%s -j %i no-owner=%s', (section, jobs, noOwner, words) => {
    expect(pgRestoreSectionArgs(bin, { ...conn, dbname: 'app_back' }, '/w/files', section, jobs, noOwner)).toEqual([`${bin}/pg_restore`, [...connWords, '--dbname', 'app_back', ...words, '/w/files']]);
  });
  test('the listing reads the directory, no server', () => {
    expect(pgRestoreListArgs(bin, '/w/files')).toEqual([`${bin}/pg_restore`, ['--list', '/w/files']]);
  });
  test.each([
    [512, 2, '-c maintenance_work_mem=512MB -c max_parallel_maintenance_workers=2 -c synchronous_commit=off'],
    [1024, 1, '-c maintenance_work_mem=1024MB -c max_parallel_maintenance_workers=1 -c synchronous_commit=off'],
  ])('PGOPTIONS for the restore sessions: %i MB, %i workers', (mb, workers, text) => {
    expect(restoreSessionPgOptions(mb, workers)).toBe(text);
  });
});

test('TABLE DATA entries of a pg_restore -l listing, named as listTables names them', () => {
  const listing = [
    ';',
    '; Archive created at 2026-12-06 23:24:00 UTC',
    '215; 1259 16390 TABLE public customers app_owner',
    '3345; 0 16390 TABLE DATA public customers postgres',
    '3346; 0 16400 TABLE DATA sales orders app_owner',
    '3347; 0 0 SEQUENCE SET public customers_id_seq postgres',
    '3200; 2606 16395 CONSTRAINT public customers customers_pkey postgres',
  ].join('\n');
  expect(tableDataEntries(listing)).toEqual(['customers', 'sales.orders']);
});

describe('the load runs (engine/dumps/load.ts)', () => {
  const request = { dbname: 'app_back', jobs: 2, maintenanceWorkMemMb: 512 };
  const options = '-c maintenance_work_mem=512MB -c max_parallel_maintenance_workers=2 -c synchronous_commit=off';
  const serial = '-c maintenance_work_mem=512MB -c max_parallel_maintenance_workers=0 -c synchronous_commit=off';
  const levers = { pipelined: true, sessionSettings: true, walCompression: false, parallelWorkers: true, schemaRun: true, parallelLoader: false, split: false, splitKeys: true };
  test.each([
    [levers, [['restore-schema', ['pre-data'], options], ['restore-data', ['data', 'post-data'], options]]],
    [{ ...levers, pipelined: false }, [['restore-schema', ['pre-data'], options], ['restore-data', ['data'], options], ['restore-indexes', ['post-data'], options]]],
    [{ ...levers, sessionSettings: false }, [['restore-schema', ['pre-data'], null], ['restore-data', ['data', 'post-data'], null]]],
    [{ ...levers, parallelWorkers: false }, [['restore-schema', ['pre-data'], serial], ['restore-data', ['data', 'post-data'], serial]]],
    [{ ...levers, walCompression: true }, [['restore-schema', ['pre-data'], `${options} -c wal_compression=lz4`], ['restore-data', ['data', 'post-data'], `${options} -c wal_compression=lz4`]]],
    [{ ...levers, schemaRun: false }, [['restore-data', ['pre-data', 'data', 'post-data'], options]]],
    [{ ...levers, parallelLoader: true }, [['restore-schema', ['pre-data'], options], ['restore-data', ['data', 'post-data'], options]]],
    [{ ...levers, schemaRun: false, pipelined: false }, [['restore-schema', ['pre-data'], options], ['restore-data', ['data'], options], ['restore-indexes', ['post-data'], options]]],
  ])('%o', (given, runs) => {
    expect(loadRuns(request, given).map((run) => [run.kind, run.sections, run.pgOptions])).toEqual(runs);
  });
  test('the defaults are the levers that won in bench/dump.ts', () => {
    expect(DEFAULT_LEVERS).toEqual({ pipelined: true, sessionSettings: true, walCompression: false, parallelWorkers: true, schemaRun: true, parallelLoader: true, split: false, splitKeys: true });
  });
});
