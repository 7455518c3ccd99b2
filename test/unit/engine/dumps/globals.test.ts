/** The run's globals.sql cut down for a target, and what stands in a dumpall's way (pure). */
import { describe, expect, test } from 'vitest';
import { dumpallConflicts, restoredName } from '../../../../src/engine/dumps/dumpall.js';
import { globalsStatements, parseGlobals, statementHead, unquoteIdent } from '../../../../src/engine/dumps/globals.js';

const GLOBALS = `\\restrict V0PaiQuJYgFIx9QZGAZ1rtI0fIsKCCfQs9f6cpjPKYoWVlp3M7UbpFAa4i7vgxW

--
-- PostgreSQL database cluster dump
--

SET default_transaction_read_only = off;

CREATE ROLE app_owner;
ALTER ROLE app_owner WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE "Odd ""Role""";
ALTER ROLE "Odd ""Role""" WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:secret';
COMMENT ON ROLE "Odd ""Role""" IS 'two
lines';
CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;
ALTER ROLE app_owner SET search_path TO 'app';

GRANT app_owner TO "Odd ""Role""" GRANTED BY postgres;

CREATE TABLESPACE fast OWNER postgres LOCATION '/srv/fast';

\\unrestrict V0PaiQuJYgFIx9QZGAZ1rtI0fIsKCCfQs9f6cpjPKYoWVlp3M7UbpFAa4i7vgxW
`;

describe('globals.sql', () => {
  test('roles and tablespaces it creates, names unquoted', () => {
    expect(parseGlobals(GLOBALS)).toEqual({ roles: ['app_owner', 'Odd "Role"', 'postgres'], tablespaces: ['fast'] });
    expect(unquoteIdent('"a""b"')).toBe('a"b');
    expect(unquoteIdent('plain')).toBe('plain');
  });
  test.each([
    ['an empty target: every statement, comments and blank lines aside', [], [], 11],
    ['postgres exists: its CREATE and ALTER dropped', ['postgres'], [], 9],
    ['every role and the tablespace exist: only the session SET and the membership GRANT', ['postgres', 'app_owner', 'Odd "Role"'], ['fast'], 2],
  ])('%s', (_what, roles, tablespaces, count) => {
    const statements = globalsStatements(GLOBALS, { roles: new Set(roles), tablespaces: new Set(tablespaces) });
    expect(statements).toHaveLength(count);
    expect(statements.every((statement) => statement.endsWith(';'))).toBe(true);
    for (const role of roles) expect(statements.filter((s) => s.startsWith('CREATE ROLE') || s.startsWith('ALTER ROLE')).join('\n')).not.toContain(role === 'Odd "Role"' ? '"Odd ""Role"""' : `ROLE ${role} `);
  });
  test('a comment over two lines is one statement; an existing role\'s password is never sent', () => {
    const fresh = globalsStatements(GLOBALS, { roles: new Set(), tablespaces: new Set() });
    expect(fresh).toContain(`COMMENT ON ROLE "Odd ""Role""" IS 'two\nlines';`);
    const kept = globalsStatements(GLOBALS, { roles: new Set(['Odd "Role"']), tablespaces: new Set() });
    expect(kept.join('\n')).not.toContain('SCRAM');
  });
  test('a statement is named by its first words only (no password in an error)', () => {
    expect(statementHead(`ALTER ROLE x WITH LOGIN PASSWORD 'secret';`)).toBe('ALTER ROLE x');
  });
});

describe('dumpall conflicts', () => {
  const globals = { roles: ['app_owner', 'app_reader', 'postgres'], tablespaces: [] };
  const target = { databases: ['postgres', 'app', 'template0'], roles: ['postgres', 'app_reader'], tablespaces: ['pg_default'], self: 'postgres' };
  test.each([
    ['no suffix: the existing database and role, never the restoring superuser', null, { databases: ['app'], roles: ['app_reader'] }],
    ['a suffix: new names, existing roles kept', '_r', { databases: [], roles: [] }],
  ])('%s', (_what, suffix, expected) => {
    expect(dumpallConflicts(['app', 'shop'], globals, target, suffix)).toEqual(expected);
  });
  test('names', () => {
    expect(restoredName('app', null)).toBe('app');
    expect(restoredName('app', '_restored')).toBe('app_restored');
  });
});
