/**
 * `recover setup-sql`: the roles text. What each part holds, that names are quoted and checked
 * (they also land in comments, where a newline would end the comment), that no password is
 * ever printed, and that every control-DB table is covered. Applying it to a real cluster is
 * test/integration/cli/setup-sql.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BOT_SEQUENCES, BOT_WRITES, controlTables, setupSql } from '../../../src/cli/setup-sql.js';
import { MIGRATIONS } from '../../../src/control/migrations.js';
import { runCli } from '../../support/run-cli.js';

/** The statements of a text (comment lines dropped). */
const statements = (sql: string): string[] => sql.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('--'));

describe('setupSql', () => {
  it('production: a non-superuser with what each command needs, the table owner only when named', () => {
    const sql = setupSql({}, ['production']);
    expect(statements(sql)[0]).toBe('CREATE ROLE "recover_runner" LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS CREATEDB REPLICATION;');
    for (const grant of ['pg_backup_start(text, boolean)', 'pg_backup_stop(boolean)', 'pg_switch_wal()', 'pg_reload_conf()']) {
      expect(sql).toContain(`GRANT EXECUTE ON FUNCTION ${grant} TO "recover_runner";`);
    }
    for (const role of ['pg_read_all_settings', 'pg_read_all_stats', 'pg_read_all_data', 'pg_signal_backend']) expect(sql).toContain(`GRANT ${role} TO "recover_runner";`);
    expect(sql).toContain('--   host replication recover_runner 10.0.0.5/32 scram-sha-256');
    expect(statements(sql).some((line) => line.startsWith('GRANT "'))).toBe(false);
    expect(setupSql({ tablesOwner: 'app_owner' }, ['production'])).toContain('GRANT "app_owner" TO "recover_runner";');
    expect(setupSql({ tablesOwner: 'app_owner' })).not.toMatch(/(?<!NO)SUPERUSER/);
  });

  it('control: two roles, the database owned by the runners\' role, closed to others', () => {
    expect(statements(setupSql({}, ['control']))).toEqual([
      'CREATE ROLE "recover_runner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;',
      'CREATE ROLE "recover_bot" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;',
      'CREATE DATABASE "recover" OWNER "recover_runner";',
      'REVOKE ALL ON DATABASE "recover" FROM PUBLIC;',
      'GRANT CONNECT ON DATABASE "recover" TO "recover_bot";',
    ]);
  });

  it('control-grants: the bot reads every table the migrations create and writes only its own', () => {
    const tables = controlTables();
    const created = MIGRATIONS.flatMap((m) => [...m.sql.matchAll(/CREATE TABLE (\w+)/g)].map((x) => x[1]!));
    expect(tables).toEqual(['schema_migrations', ...created]);
    for (const table of Object.keys(BOT_WRITES)) expect(tables).toContain(table);
    for (const table of Object.keys(BOT_SEQUENCES)) expect(tables).toContain(table);
    const sql = setupSql({}, ['control-grants']);
    expect(sql).toContain(`GRANT SELECT ON ${tables.map((t) => `"${t}"`).join(', ')} TO "recover_bot";`);
    expect(sql).toContain('GRANT INSERT ON "audit_log" TO "recover_bot";');
    // Never: a copy record (the runner's alone), step checkpoints, plans (the runner plans), DDL.
    for (const table of ['database_copies', 'step_checkpoints', 'plans', 'measured_rates']) expect(sql).not.toMatch(new RegExp(`GRANT (INSERT|UPDATE|DELETE)[^;]* ON "${table}"`));
    expect(sql).not.toMatch(/GRANT (CREATE|ALL)/);
  });

  it('quotes names for SQL, and refuses names that could leave a comment or a pg_hba line', () => {
    const sql = setupSql({ productionRole: 'Recover-Runner', botRole: 'bot$1' });
    expect(sql).toContain('CREATE ROLE "Recover-Runner" LOGIN');
    expect(sql).toContain('\\password "Recover-Runner"');
    expect(sql).toContain('GRANT CONNECT ON DATABASE "recover" TO "bot$1";');
    for (const bad of ['x\nDROP DATABASE prod; --', 'a"b', 'a b', '', 'x'.repeat(64)]) {
      expect(() => setupSql({ botRole: bad }), JSON.stringify(bad)).toThrow(/--bot-role must be a plain name/);
    }
    expect(() => setupSql({ runnerAddress: '0.0.0.0/0 trust\nlocal all all' })).toThrow(/--runner-address/);
    expect(() => setupSql({ botRole: 'same', controlRunnerRole: 'same' })).toThrow(/different control-DB roles/);
  });

  it('never prints a password', () => {
    const sql = setupSql({ tablesOwner: 'app_owner' });
    expect(sql).not.toMatch(/\bPASSWORD\b/);
    expect(sql.match(/\\password/g)?.length).toBeGreaterThanOrEqual(3);
  });
});

describe('recover setup-sql', () => {
  it('prints all three parts, or the one asked for; an unknown part is bad input', async () => {
    const all = await runCli(['setup-sql', '--tables-owner', 'app_owner'], {});
    expect(all.code).toBe(0);
    expect(all.stdout).toBe(setupSql({ tablesOwner: 'app_owner' }));
    const one = await runCli(['setup-sql', '--part', 'control', '--control-database', 'rb_control'], {});
    expect(one.stdout).toContain('CREATE DATABASE "rb_control" OWNER "recover_runner";');
    expect(one.stdout).not.toContain('pg_backup_start');
    const bad = await runCli(['setup-sql', '--part', 'everything'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--part must be one of production, control, control-grants');
  });
});
