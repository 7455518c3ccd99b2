import { describe, expect, it } from 'vitest';
import {
  connectionArgs,
  initdbArgs,
  parseBasebackupLog,
  pgBasebackupArgs,
  pgCtlStartArgs,
  pgCtlStopArgs,
  tarCreateArgs,
  tarExtractArgs,
} from '../../../src/engine/pg-args.js';

const BIN = '/usr/lib/postgresql/15/bin';

describe('argument lists', () => {
  it.each<[string, [string, string[]], [string, string[]]]>([
    [
      'pg_basebackup: no --dbname, tar to stdout, fetch WAL, uncompressed (the runner cuts and compresses it)',
      pgBasebackupArgs(BIN, { host: '/var/run/postgresql', port: 5432, user: 'postgres', dbname: 'app' }, 'recover-bot 20250115T100000Z'),
      [
        `${BIN}/pg_basebackup`,
        [
          '--host', '/var/run/postgresql', '--port', '5432', '--username', 'postgres',
          '--pgdata', '-', '--format', 'tar', '--wal-method', 'fetch', '--compress', 'none',
          '--checkpoint', 'fast', '--manifest-checksums', 'CRC32C', '--label', 'recover-bot 20250115T100000Z',
          '--no-password', '--verbose',
        ],
      ],
    ],
    [
      'pg_basebackup: the formatVersion 1 layout, client gzip level 1',
      pgBasebackupArgs(BIN, { host: 'db', port: 5433, user: 'backup' }, 'old', 'gzip'),
      [
        `${BIN}/pg_basebackup`,
        [
          '--host', 'db', '--port', '5433', '--username', 'backup',
          '--pgdata', '-', '--format', 'tar', '--wal-method', 'fetch', '--compress', 'client-gzip:1',
          '--checkpoint', 'fast', '--manifest-checksums', 'CRC32C', '--label', 'old',
          '--no-password', '--verbose',
        ],
      ],
    ],
    [
      'pg_ctl start',
      pgCtlStartArgs(`${BIN}/`, '/restores/p/data', '/restores/p/server.log', 600),
      [`${BIN}/pg_ctl`, ['start', '--pgdata', '/restores/p/data', '--log', '/restores/p/server.log', '--wait', '--timeout', '600', '--silent']],
    ],
    [
      "pg_ctl start with a postgresql.conf outside the data directory (Debian's layout), quoted for pg_ctl's shell",
      pgCtlStartArgs(BIN, '/var/lib/postgresql/15/main', '/x/server.log', 60, "/etc/postgresql/15/it's/postgresql.conf"),
      [`${BIN}/pg_ctl`, ['start', '--pgdata', '/var/lib/postgresql/15/main', '--log', '/x/server.log', '--wait', '--timeout', '60', '--silent', '--options', `-c config_file='/etc/postgresql/15/it'\\''s/postgresql.conf'`]],
    ],
    [
      'pg_ctl stop immediate',
      pgCtlStopArgs(BIN, '/data', 'immediate', 60),
      [`${BIN}/pg_ctl`, ['stop', '--pgdata', '/data', '--mode', 'immediate', '--wait', '--timeout', '60', '--silent']],
    ],
    [
      'pg_ctl stop fast',
      pgCtlStopArgs(BIN, '/data', 'fast', 5),
      [`${BIN}/pg_ctl`, ['stop', '--pgdata', '/data', '--mode', 'fast', '--wait', '--timeout', '5', '--silent']],
    ],
    [
      'initdb',
      initdbArgs(BIN, '/tmp/d'),
      [`${BIN}/initdb`, ['--pgdata', '/tmp/d', '--auth', 'trust', '--username', 'postgres', '--encoding', 'UTF8', '--no-instructions']],
    ],
    ['tar with gzip', tarExtractArgs('/d', 'gzip'), ['tar', ['--extract', '--gzip', '--file', '-', '--directory', '/d', '--no-same-owner']]],
    ['tar with lz4 frames (lz4 -d)', tarExtractArgs('/d', 'lz4'), ['tar', ['--extract', '--use-compress-program=lz4', '--file', '-', '--directory', '/d', '--no-same-owner']]],
    ['tar with a zstd part (zstd -d)', tarExtractArgs('/d', 'zstd'), ['tar', ['--extract', '--zstd', '--file', '-', '--directory', '/d', '--no-same-owner']]],
    ['tar without compression', tarExtractArgs('/d', 'none'), ['tar', ['--extract', '--file', '-', '--directory', '/d', '--no-same-owner']]],
    ['GNU tar when asked for', tarExtractArgs('/d', 'zstd', 'gnu'), ['tar', ['--extract', '--zstd', '--file', '-', '--directory', '/d', '--no-same-owner']]],
    // bsdtar recognises zstd, LZ4 frames and gzip from the stream itself.
    ['bsdtar, a zstd part', tarExtractArgs('/d', 'zstd', 'bsdtar'), ['bsdtar', ['-x', '-p', '-f', '-', '-C', '/d', '--no-same-owner']]],
    ['bsdtar, an lz4 part', tarExtractArgs('/d', 'lz4', 'bsdtar'), ['bsdtar', ['-x', '-p', '-f', '-', '-C', '/d', '--no-same-owner']]],
    // File-level backups: NUL-separated names on stdin, each entry alone, compressed by bsdtar itself at level 1.
    [
      'bsdtar creating a zstd part',
      tarCreateArgs('/var/lib/postgresql/15/main', 'zstd'),
      ['bsdtar', ['-c', '-f', '-', '-n', '--null', '-T', '-', '-C', '/var/lib/postgresql/15/main', '--no-xattrs', '--no-acls', '--no-fflags', '--zstd', '--options', 'zstd:compression-level=1']],
    ],
    [
      'bsdtar creating an lz4 part',
      tarCreateArgs('/d', 'lz4'),
      ['bsdtar', ['-c', '-f', '-', '-n', '--null', '-T', '-', '-C', '/d', '--no-xattrs', '--no-acls', '--no-fflags', '--lz4', '--options', 'lz4:compression-level=1']],
    ],
  ])('%s', (_name, actual, expected) => {
    expect(actual).toEqual(expected);
  });

  it.each([
    [{ host: 'db', port: 6543, user: 'u' }, ['--host', 'db', '--port', '6543', '--username', 'u']],
    [{ host: 'db', port: 5432, user: 'u', dbname: 'app' }, ['--host', 'db', '--port', '5432', '--username', 'u', '--dbname', 'app']],
    [{ host: 'db', port: 5432, user: 'u', dbname: '' }, ['--host', 'db', '--port', '5432', '--username', 'u']],
  ])('connectionArgs(%o)', (conn, expected) => {
    expect(connectionArgs(conn)).toEqual(expected);
  });

  it('a label with spaces or quotes stays one argument', () => {
    const [, args] = pgBasebackupArgs(BIN, { host: 'h', port: 1, user: 'u' }, `it's "a" label; rm -rf /`);
    expect(args[args.indexOf('--label') + 1]).toBe(`it's "a" label; rm -rf /`);
  });
});

describe('parseBasebackupLog', () => {
  const verbose = [
    'pg_basebackup: initiating base backup, waiting for checkpoint to complete',
    'pg_basebackup: checkpoint completed',
    'pg_basebackup: write-ahead log start point: 0/2000028 on timeline 1',
    'pg_basebackup: write-ahead log end point: 0/2000138',
    'pg_basebackup: syncing data to disk ...',
    'pg_basebackup: renaming backup_manifest.tmp to backup_manifest',
    'pg_basebackup: base backup completed',
    '',
  ].join('\n');

  it.each([
    ['a complete run', verbose, { startLsn: '0/2000028', stopLsn: '0/2000138', timeline: 1 }],
    [
      'timeline 12 and high LSNs',
      'pg_basebackup: write-ahead log start point: 1A/B3000060 on timeline 12\npg_basebackup: write-ahead log end point: 1A/B4000100\n',
      { startLsn: '1A/B3000060', stopLsn: '1A/B4000100', timeline: 12 },
    ],
    ['lowercase hex', 'pg_basebackup: write-ahead log start point: 0/a000028 on timeline 3\n', { startLsn: '0/a000028', timeline: 3 }],
    [
      'interrupted before the end point',
      'pg_basebackup: checkpoint completed\npg_basebackup: write-ahead log start point: 0/5000028 on timeline 2\npg_basebackup: error: could not read COPY data: server closed the connection\n',
      { startLsn: '0/5000028', timeline: 2 },
    ],
    ['nothing useful', 'pg_basebackup: error: connection to server failed: FATAL:  password authentication failed\n', {}],
    ['empty', '', {}],
  ])('%s', (_name, stderr, expected) => {
    expect(parseBasebackupLog(stderr)).toEqual(expected);
  });
});
