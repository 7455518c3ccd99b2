/** A foreign pg_dumpall file read as psql reads it, its database names rewritten, psql's arguments (pure). */
import { describe, expect, test } from 'vitest';
import { compressionOf, FOREIGN_DUMPALL_PATH } from '../../../../src/engine/dumps/dumpall-blob.js';
import { conninfoDbname, copyRowCheck, foreignContents, psqlLoadArgs, refusalError, tooLongNames } from '../../../../src/engine/dumps/dumpall-foreign.js';
import { connectTarget, databaseReference, readDumpall, renameDatabaseIn } from '../../../../src/engine/dumps/dumpall-plain.js';
import { PsqlLexer } from '../../../../src/engine/dumps/psql-lexer.js';

const HEADER = '--\n-- PostgreSQL database cluster dump\n--\n\n\\restrict abc\nSET standard_conforming_strings = on;\n';
const file = (...lines: string[]) => `${HEADER}${lines.join('\n')}\n`;
const lex = (text: string) => {
  const lexer = new PsqlLexer();
  const events = text.split('\n').flatMap((line) => lexer.push(line));
  lexer.end();
  return { events, refusals: lexer.refusals.map((r) => `${r.line}:${r.command}`) };
};

describe('psql lexer: meta-commands wherever psql would see one', () => {
  test.each([
    ['whole line', 'SELECT 1;\n\\! touch /tmp/x', ['2:\\!']],
    ['after a statement on its line', 'SELECT 1; \\! touch /tmp/x', ['1:\\!']],
    ['inside a statement', "SELECT 1\n  \\o /tmp/out\n;", ['2:\\o']],
    ['\\copy program', "\\copy t to program 'touch /tmp/x'", ['1:\\copy']],
    ['\\include', '\\i /etc/passwd', ['1:\\i']],
    ['\\connect with a second command after \\\\', '\\connect app \\\\ \\! id', ['1:\\connect']],
    ['in a standard string: not one', "SELECT 'a\\! b';", []],
    ["in an E string, after \\': not one", "SELECT E'it\\'s \\! x';", []],
    ["after a standard string ending in a backslash: one", "SELECT 'a\\' \\! x';", ['1:\\!']],
    ['in a quoted identifier: not one', 'SELECT 1 AS "x\\!";', []],
    ['in a dollar quote over lines: not one', 'CREATE FUNCTION f() RETURNS int AS $body$\n\\! id\nSELECT 1;\n$body$ LANGUAGE sql;', []],
    ['in a line comment: not one', 'SELECT 1; -- \\! id', []],
    ['in a nested block comment: not one', 'SELECT /* a /* \\! */ \\! */ 1;', []],
    ['COPY data lines: not one', 'COPY t (a) FROM stdin;\n\\!\n\\N\n\\.\n\\! id', ['5:\\!']],
    ['allowed ones', '\\connect app\n\\restrict k\n\\unrestrict k\n\\encoding SQL_ASCII\n\\connect -reuse-previous=on "dbname=\'a\\\\b\'"', []],
  ])('%s', (_name, text, refusals) => {
    expect(lex(text).refusals).toEqual(refusals);
  });

  test('statements end at ; outside quotes and parentheses; COPY rows are counted as data', () => {
    const { events } = lex("CREATE RULE r AS ON INSERT TO t DO (SELECT 1; SELECT 2);\nSELECT ';' AS x; SELECT 2;\nCOPY public.t (a) FROM stdin;\n1\n\\.");
    expect(events.map((e) => (e.kind === 'statement' ? e.text : e.kind))).toEqual(['CREATE RULE r AS ON INSERT TO t DO (SELECT 1; SELECT 2);', "SELECT ';' AS x;", 'SELECT 2;', 'COPY public.t (a) FROM stdin;', 'copy-row', 'copy-end']);
  });

  test('a script ending inside a string or COPY data is refused', () => {
    expect(lex("SELECT 'open").refusals).toEqual(['1:(unterminated statement)']);
    expect(lex('COPY t FROM stdin;\n1').refusals).toEqual(['2:(COPY data)']);
  });
});

describe('pg_dumpall file: what it holds', () => {
  const text = file(
    'CREATE ROLE app_owner;', 'ALTER ROLE app_owner WITH NOLOGIN;', 'CREATE ROLE "we""ird";', '\\unrestrict abc',
    '\\connect template1', 'SET row_security = off;',
    'CREATE DATABASE app WITH TEMPLATE = template0 ENCODING = \'UTF8\';', 'ALTER DATABASE app OWNER TO app_owner;',
    '\\connect app', 'COMMENT ON DATABASE app IS \'x\';', 'ALTER ROLE app_owner IN DATABASE app SET work_mem TO \'6MB\';',
    'CREATE TABLE public.t (id int);', 'COPY public.t (id) FROM stdin;', '1', '2', '\\.', 'COPY s."Odd ""T""" (id) FROM stdin;', '\\.',
    'INSERT INTO public.u VALUES (1);', 'REVOKE CONNECT,TEMPORARY ON DATABASE app FROM PUBLIC;',
    'CREATE DATABASE "h""; DROP x; --\'=\\" WITH TEMPLATE = template0;',
    '\\connect -reuse-previous=on "dbname=\'h""; DROP x; --\\\'=\\\\\'"', 'CREATE TABLE public.n (id int);',
    '\\connect postgres', 'SET row_security = off;',
  );
  const bodies: Record<string, string> = {};
  const dump = readDumpall(text, (db, chunk) => { bodies[db] = (bodies[db] ?? '') + chunk; });

  test('roles, databases (empty template1 and postgres left out), COPY rows, INSERT tables', () => {
    expect(dump.refusals).toEqual([]);
    const contents = foreignContents(dump, null);
    expect(contents.globals.roles).toEqual(['app_owner', 'we"ird']);
    expect(contents.databases.map((db) => db.database)).toEqual(['app', 'h"; DROP x; --\'=\\']);
    expect(contents.skipped).toEqual(['template1', 'postgres']);
    const app = dump.databases.find((db) => db.name === 'app')!;
    expect(app.copyRows).toEqual({ t: 2, 's.Odd "T"': 0 });
    expect(app.insertTables).toEqual(['u']);
    expect(app.databaseStatements).toEqual(['ALTER DATABASE app OWNER TO app_owner;', "COMMENT ON DATABASE app IS 'x';", "ALTER ROLE app_owner IN DATABASE app SET work_mem TO '6MB';", 'REVOKE CONNECT,TEMPORARY ON DATABASE app FROM PUBLIC;']);
    expect(bodies.app).toContain('COPY public.t (id) FROM stdin;\n1\n2\n\\.\n');
    expect(bodies.app).not.toMatch(/DATABASE|\\connect|\\unrestrict/);
    expect(bodies['h"; DROP x; --\'=\\']).toContain('CREATE TABLE public.n');
  });

  test('refusals name their line', () => {
    const refused = (body: string) => readDumpall(file('\\connect app', body)).refusals.map((r) => `${r.command}: ${r.why.split(' (')[0]!.split(';')[0]}`);
    expect(refused("COPY t FROM PROGRAM 'id';")).toEqual(['COPY: only COPY … FROM stdin is restored']);
    expect(refused("COPY t FROM '/etc/passwd';")).toEqual(['COPY: only COPY … FROM stdin is restored']);
    expect(refused('DROP DATABASE IF EXISTS app;')).toEqual(['DROP DATABASE: the file drops what exists']);
    expect(refused('SET standard_conforming_strings = off;')).toEqual(['(statement): it changes standard_conforming_strings']);
    expect(refused('ALTER DATABASE production SET x TO 1;')).toEqual(['(statement): it names database production, which this file does not hold']);
    expect(readDumpall('SELECT 1;\n\\! id\n').refusals.map((r) => r.command)).toEqual(['SELECT 1;', '(header)', '\\!']);
    expect(refused('ALTER SYSTEM SET archive_command = \'x\';')).toEqual(['ALTER SYSTEM: a database\'s part changes the whole server']);
    expect(refused('ALTER ROLE postgres PASSWORD \'x\';')).toEqual(['ALTER ROLE: a database\'s part changes the whole server']);
    expect(readDumpall(`${HEADER}CREATE TABLE public.x (id int);\nGRANT app TO bob;\n`).refusals.map((r) => `${r.command}: ${r.why.split(' pg_dumpall')[0]}`)).toEqual(['CREATE TABLE: before any \\connect']);
    expect(refusalError('a.sql', readDumpall(file('\\! id')))?.message).toMatch(/^a\.sql is refused, nothing was created: line 7: \\! \(psql would run a shell command/);
    expect(refusalError('a.sql', dump)).toBeNull();
  });
});

describe('database names rewritten', () => {
  test.each([
    ['CREATE DATABASE app WITH TEMPLATE = template0;', 'app_r', 'CREATE DATABASE "app_r" WITH TEMPLATE = template0;'],
    ['CREATE DATABASE "h""; x" WITH OWNER = a;', 'h"; x_r', 'CREATE DATABASE "h""; x_r" WITH OWNER = a;'],
    ['ALTER DATABASE App OWNER TO app;', 'app_r', 'ALTER DATABASE "app_r" OWNER TO app;'],
    ['GRANT CONNECT ON DATABASE app TO app;', 'app_r', 'GRANT CONNECT ON DATABASE "app_r" TO app;'],
    ['ALTER ROLE "database" IN DATABASE app SET x TO 1;', 'app_r', 'ALTER ROLE "database" IN DATABASE "app_r" SET x TO 1;'],
    ['CREATE TABLE app (id int);', 'app_r', 'CREATE TABLE app (id int);'],
  ])('%s', (statement, newName, expected) => {
    expect(renameDatabaseIn(statement, newName)).toBe(expected);
  });

  test('databaseReference folds unquoted names', () => {
    expect(databaseReference('ALTER DATABASE App SET x TO 1;')?.name).toBe('app');
  });

  test.each([
    ['app', 'app'],
    ['-reuse-previous=on "dbname=\'my db""x\'"', 'my db"x'],
    ['-reuse-previous=on "dbname=\'it\\\'s \\\\ here\'"', "it's \\ here"],
    ['app other', null],
    ['"app"', null],
    ['-reuse-previous=on "dbname=\'a\' host=evil"', null],
  ])('\\connect %s', (args, expected) => {
    expect(connectTarget(args)).toBe(expected);
  });

  test('psql gets the new name as one conninfo value, never a shell string', () => {
    expect(conninfoDbname("it's a=b \\")).toBe("dbname='it\\'s a=b \\\\'");
    expect(psqlLoadArgs('/pg/bin', { host: '/run', port: 5433, user: 'postgres' }, 'x', '/w/database-1.sql')).toEqual(['/pg/bin/psql', ['--no-psqlrc', '--no-password', '--set', 'ON_ERROR_STOP=1', '--single-transaction', '--quiet', '--output', '/dev/null', '--host', '/run', '--port', '5433', '--username', 'postgres', '--dbname', "dbname='x'", '--file', '/w/database-1.sql']]);
    expect(tooLongNames(['a'.repeat(63), `${'é'.repeat(32)}`])).toEqual([`${'é'.repeat(32)}`]);
  });

  test.each([
    ['legacy/cluster.sql', true, 'none'], ['legacy/cluster.sql.gz', true, 'gzip'], ['a/b.sql.zst', true, 'zstd'],
    ['../etc/x.sql', false, 'none'], ['/abs.sql', false, 'none'], ['legacy/app.dump', false, 'none'],
  ])('blob path %s', (path, ok, compression) => {
    expect([FOREIGN_DUMPALL_PATH.test(path), compressionOf(path)]).toEqual([ok, compression]);
  });

  test('row counts against COPY lines', () => {
    expect(copyRowCheck([['t', 2]], new Map([['t', 2]]), ['u'])).toMatchObject({ ok: true, tables: 1, rows: 2, message: expect.stringContaining('not counted (loaded by INSERT): u') });
    expect(copyRowCheck([['t', 2]], new Map([['t', 1]]), [])).toMatchObject({ ok: false, message: expect.stringContaining('t: 1 in the copy, 2 in the file') });
  });
});
