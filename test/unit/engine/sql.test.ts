import { describe, expect, it } from 'vitest';
import {
  archiverStatusSql,
  listDatabasesSql,
  listUserTablesSql,
  newestTimestampSql,
  qualifiedName,
  quoteIdent,
  replayStatusSql,
  rowCountSql,
  sourceFactsSql,
  localSourceSql,
  backupStartSql,
  backupStopSql,
  startupPidSql,
  switchWalSql,
  tableHashSql,
} from '../../../src/engine/sql.js';

describe('quoteIdent', () => {
  it.each([
    ['orders', '"orders"'],
    ['Orders', '"Orders"'],
    ['a"b', '"a""b"'],
    ['"', '""""'],
    ['x"; DROP TABLE users; --', '"x""; DROP TABLE users; --"'],
    ['with space', '"with space"'],
    ['a.b', '"a.b"'],
    ['', '""'],
  ])('%j → %s', (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });
});

describe('qualifiedName', () => {
  it.each([
    ['orders', '"orders"'],
    ['public.orders', '"public"."orders"'],
    ['Sales.Q1', '"Sales"."Q1"'],
    ['s"x.t"y', '"s""x"."t""y"'],
    ['x"; DROP TABLE users; --', '"x""; DROP TABLE users; --"'],
  ])('%j → %s', (name, quoted) => {
    expect(qualifiedName(name)).toBe(quoted);
  });

  it.each(['', '.', '.orders', 'public.', 'a..b', 'a.b.c', 'db.public.orders'])('refuses %j', (name) => {
    expect(() => qualifiedName(name)).toThrow(`not a table name: ${name}`);
  });
});

describe('builders', () => {
  it.each([
    [rowCountSql('public.orders'), 'SELECT count(*)::bigint AS rows FROM "public"."orders"'],
    [rowCountSql('a"b'), 'SELECT count(*)::bigint AS rows FROM "a""b"'],
    [newestTimestampSql('orders', 'created_at'), 'SELECT max("created_at")::text AS newest FROM "orders"'],
    [newestTimestampSql('s.t', 'x") FROM pg_authid --'), 'SELECT max("x"") FROM pg_authid --")::text AS newest FROM "s"."t"'],
    [
      tableHashSql('public.orders'),
      `SELECT count(*)::bigint AS rows, coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), md5('')) AS hash FROM "public"."orders" t`,
    ],
  ])('%s', (actual, expected) => {
    expect(actual).toBe(expected);
  });

  it('builders refuse names that are not tables', () => {
    expect(() => rowCountSql('a.b.c')).toThrow('not a table name');
    expect(() => tableHashSql('')).toThrow('not a table name');
    expect(() => newestTimestampSql('x.', 'c')).toThrow('not a table name');
  });

  it('catalog queries skip system schemas and templates', () => {
    expect(listUserTablesSql).toContain("c.relkind IN ('r', 'p')");
    expect(listUserTablesSql).toContain("NOT IN ('pg_catalog', 'information_schema')");
    expect(listUserTablesSql).toContain("NOT LIKE 'pg_toast%'");
    expect(listDatabasesSql).toBe('SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1');
  });
});

/** The output columns of a statement: its top-level `AS name` aliases, or the plain column list. */
function outputColumns(sql: string): string[] {
  const text = sql.replace(/--[^\n]*/g, '');
  const aliases = [...text.matchAll(/\bAS (\w+)(?=\s*(?:,|$|FROM\b))/g)].map((m) => m[1]!);
  if (aliases.length > 0) return aliases;
  const list = /^\s*SELECT (.+?)(?: FROM |$)/s.exec(text)?.[1] ?? '';
  return list.split(',').map((part) => part.trim());
}

describe('the queries recovery.ts and backup.ts run', () => {
  // Each row: the statement, the columns its caller reads, and fragments the caller relies on.
  it.each([
    [
      'replayStatusSql',
      replayStatusSql,
      ['in_recovery', 'replay_lsn', 'reached', 'pause_state', 'timeline'],
      [
        "COALESCE(pg_last_wal_replay_lsn(), '0/0')::text",
        // microseconds kept: the time reached is compared with targets to the microsecond
        `to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')`,
        // pg_walfile_name() fails during recovery: only used once promoted
        'CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())',
      ],
    ],
    ['startupPidSql', startupPidSql, ['pid'], ["FROM pg_stat_activity WHERE backend_type = 'startup'"]],
    [
      'sourceFactsSql',
      sourceFactsSql,
      ['system_identifier', 'server_version', 'server_version_num', 'wal_segment_size', 'next_xid', 'database_bytes', 'archive_mode', 'may_switch_wal'],
      ['FROM pg_control_system()', "current_setting('archive_mode')", "WHERE name = 'wal_segment_size'", "has_function_privilege('pg_switch_wal()', 'execute')"],
    ],
    [
      'localSourceSql',
      localSourceSql,
      ['data_directory', 'port', 'start_epoch', 'in_recovery', 'may_start_backup'],
      ["current_setting('data_directory')", 'pg_postmaster_start_time()', "has_function_privilege('pg_backup_start(text, boolean)', 'execute')"],
    ],
    // File-level backups: the label is a parameter, never spliced in; the server does not wait for the archive itself.
    ['backupStartSql', backupStartSql, ['lsn'], ['pg_backup_start($1, true)']],
    ['backupStopSql', backupStopSql, ['lsn', 'labelfile', 'spcmapfile'], ['FROM pg_backup_stop(false)']],
    ['archiverStatusSql', archiverStatusSql, ['last_archived_wal', 'last_failed_wal', 'failed_count'], ['FROM pg_stat_archiver']],
    ['switchWalSql', switchWalSql, ['pg_switch_wal()'], []],
  ])('%s returns what its caller reads', (_name, sql, columns, fragments) => {
    expect(outputColumns(sql)).toEqual(columns);
    for (const fragment of fragments) expect(sql).toContain(fragment);
  });

  it.each([
    ['replayStatusSql', replayStatusSql],
    ['startupPidSql', startupPidSql],
    ['sourceFactsSql', sourceFactsSql],
    ['localSourceSql', localSourceSql],
    ['archiverStatusSql', archiverStatusSql],
    ['switchWalSql', switchWalSql],
  ])('%s is one parameterless statement that changes no data', (_name, sql) => {
    const code = sql.replace(/--[^\n]*/g, '');
    expect(code.trim()).toMatch(/^SELECT /);
    expect(code).not.toMatch(/;|\$\d|\b(INSERT|UPDATE|DELETE|DROP|ALTER|CREATE|TRUNCATE)\b/i);
  });
});
