/** /recover database's pure builders: pg_dump / pg_restore argument lists and its SQL, as tables. */
import { describe, expect, test } from 'vitest';
import { pgDumpDirectoryArgs, pgRestoreDirectoryArgs } from '../../../src/engine/pg-args.js';
import { allowConnectionsSql, alterDatabaseSetSql, commentOnDatabaseSql, copyMarker, createDatabaseLikeSql, renameDatabaseSql } from '../../../src/engine/database/sql.js';

const BIN = '/usr/lib/postgresql/15/bin';

test.each<[string, [string, string[]], [string, string[]]]>([
  [
    'pg_dump: directory format, parallel, to a directory (pg_restore --jobs cannot read stdin)',
    pgDumpDirectoryArgs(BIN, { host: '/restores/d/run', port: 5433, user: 'postgres', dbname: 'app' }, '/restores/d/dump/app', 4),
    [`${BIN}/pg_dump`, ['--host', '/restores/d/run', '--port', '5433', '--username', 'postgres', '--dbname', 'app', '--format', 'directory', '--jobs', '4', '--file', '/restores/d/dump/app', '--no-password', '--verbose']],
  ],
  [
    'pg_restore: into the new database, parallel, owners kept, stop at the first error',
    pgRestoreDirectoryArgs(BIN, { host: 'db.internal', port: 5432, user: 'recover', dbname: 'app_restored_20250115143502' }, '/restores/d/dump/app', 2),
    [`${BIN}/pg_restore`, ['--host', 'db.internal', '--port', '5432', '--username', 'recover', '--dbname', 'app_restored_20250115143502', '--jobs', '2', '--exit-on-error', '--no-password', '--verbose', '/restores/d/dump/app']],
  ],
])('%s', (_, actual, expected) => {
  expect(actual).toEqual(expected);
});

describe('SQL', () => {
  const like = { owner: 'app"owner', encoding: 'UTF8', collate: "en_US.UTF-8", ctype: 'en_US.UTF-8', provider: 'c', icuLocale: null };
  test.each([
    ['create, libc', createDatabaseLikeSql('app_restored_1', like), `CREATE DATABASE "app_restored_1" WITH TEMPLATE template0 OWNER "app""owner" ENCODING 'UTF8' LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8' LOCALE_PROVIDER libc`],
    ['create, ICU', createDatabaseLikeSql('x', { ...like, owner: 'o', provider: 'i', icuLocale: "de-x-'q" }), `CREATE DATABASE "x" WITH TEMPLATE template0 OWNER "o" ENCODING 'UTF8' LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8' LOCALE_PROVIDER icu ICU_LOCALE 'de-x-''q'`],
    ['a database setting', alterDatabaseSetSql('a$b', 'search_path=app, public'), `ALTER DATABASE "a$b" SET search_path TO 'app, public'`],
    ['a dotted setting with a quote', alterDatabaseSetSql('a', "app.note=it's"), `ALTER DATABASE "a" SET app.note TO 'it''s'`],
    ['not a setting name', alterDatabaseSetSql('a', 'x; DROP=1'), null],
    ['no =', alterDatabaseSetSql('a', 'work_mem'), null],
    ['marker', commentOnDatabaseSql('app_restored_1', copyMarker('app', "2025-01-15 14:29:59+00")), `COMMENT ON DATABASE "app_restored_1" IS 'recover-bot: verified copy of app at 2025-01-15 14:29:59+00'`],
    ['refuse connections', allowConnectionsSql('App', false), 'ALTER DATABASE "App" ALLOW_CONNECTIONS false'],
    ['rename', renameDatabaseSql('app', 'app_before_20250115143502'), 'ALTER DATABASE "app" RENAME TO "app_before_20250115143502"'],
  ])('%s', (_, actual, expected) => {
    expect(actual).toBe(expected);
  });
});
