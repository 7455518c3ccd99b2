/** The integrity checker's SQL builders and its configuration file's schema (pure). */
import { describe, expect, it } from 'vitest';
import { checksFor, IntegrityConfigError, parseIntegrityConfig } from '../../../src/config.js';
import { orphanRowsSql, quoteLiteral, ruleTimeoutSql, ruleViolationsSql, sequencePositionSql, timeoutSql } from '../../../src/engine/integrity/sql.js';

const squash = (sql: string) => sql.replace(/\s+/g, ' ').trim();

describe('SQL builders', () => {
  it.each([
    [
      'one-column relation',
      orphanRowsSql({ child: 'workflow_executions', columns: ['workflow_id'], parent: 'workflows', parentColumns: ['id'] }),
      `WITH orphans AS ( SELECT 'workflow_id=' || coalesce(c."workflow_id"::text, 'NULL') AS key FROM "workflow_executions" c WHERE c."workflow_id" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "workflows" p WHERE p."id" = c."workflow_id")) SELECT (SELECT count(*) FROM orphans)::bigint AS orphans, ARRAY(SELECT DISTINCT key FROM orphans ORDER BY key LIMIT $1) AS examples`,
    ],
    [
      'two columns, schemas and hostile names quoted',
      orphanRowsSql({ child: 'app.li"nes', columns: ['order_id', "x'y"], parent: 'app.orders', parentColumns: ['id', 'Tenant'] }),
      `WITH orphans AS ( SELECT 'order_id=' || coalesce(c."order_id"::text, 'NULL') || ', ' || 'x''y=' || coalesce(c."x'y"::text, 'NULL') AS key FROM "app"."li""nes" c WHERE c."order_id" IS NOT NULL AND c."x'y" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "app"."orders" p WHERE p."id" = c."order_id" AND p."Tenant" = c."x'y")) SELECT (SELECT count(*) FROM orphans)::bigint AS orphans, ARRAY(SELECT DISTINCT key FROM orphans ORDER BY key LIMIT $1) AS examples`,
    ],
    [
      'sequence position',
      sequencePositionSql('public.t_id_seq', 'T', 'id'),
      `SELECT s.last_value::text AS last_value, s.is_called, m.max::text AS max, (m.max IS NOT NULL AND (m.max > s.last_value OR (NOT s.is_called AND m.max >= s.last_value))) AS behind FROM "public"."t_id_seq" s, (SELECT max("id")::numeric AS max FROM "T") m`,
    ],
    [
      'rule wrapper',
      ruleViolationsSql('SELECT id FROM w WHERE a > b'),
      `WITH violations AS (SELECT id FROM w WHERE a > b ) SELECT (SELECT count(*) FROM violations)::bigint AS violations, ARRAY(SELECT row_to_json(v)::text FROM (SELECT * FROM violations LIMIT $1) v) AS examples`,
    ],
    ['rule timeout', ruleTimeoutSql(1500), 'SET LOCAL statement_timeout = 1500'],
    ['literal', quoteLiteral("it's"), "'it''s'"],
  ])('%s', (_, sql, expected) => {
    expect(squash(sql)).toBe(expected);
  });

  it('refuses what it cannot build', () => {
    expect(() => orphanRowsSql({ child: 'a', columns: ['x'], parent: 'b', parentColumns: ['y', 'z'] })).toThrow(/matching column lists/);
    expect(() => orphanRowsSql({ child: 'a.b.c', columns: ['x'], parent: 'b', parentColumns: ['y'] })).toThrow(/not a table name/);
    expect(() => ruleTimeoutSql(0)).toThrow(/not a timeout/);
    expect(() => ruleTimeoutSql(1.5)).toThrow(/not a timeout/);
  });
});

describe('the checker configuration file', () => {
  const parse = (value: unknown) => parseIntegrityConfig(JSON.stringify(value));
  const problem = (value: unknown): string => {
    try {
      parse(value);
    } catch (error) {
      expect(error).toBeInstanceOf(IntegrityConfigError);
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('fills defaults and merges the * entry with the database entry', () => {
    const config = parse({
      databases: {
        '*': { criticalTables: ['users'], rules: [{ name: 'r', sql: ' SELECT 1 WHERE false ;\n' }] },
        app: { criticalTables: ['users', 'app.orders'], amcheckTables: ['app.orders'] },
      },
    });
    expect(config).toMatchObject({ ruleTimeoutMs: 60_000, orphanExamples: 5, createAmcheckOnProduction: false });
    expect(checksFor(config, 'app')).toEqual({ criticalTables: ['users', 'app.orders'], relations: [], rules: [{ name: 'r', sql: 'SELECT 1 WHERE false' }], amcheckTables: ['app.orders'] });
    expect(checksFor(config, 'other')).toEqual({ criticalTables: ['users'], relations: [], rules: [{ name: 'r', sql: 'SELECT 1 WHERE false' }] });
    expect(checksFor(parse({}), 'x')).toEqual({ criticalTables: [], relations: [], rules: [] });
  });

  it.each([
    [{ databases: { app: { criticalTables: ['a.b.c'] } } }, 'databases.app.criticalTables.0: expected a table name'],
    [{ databases: { app: { relations: [{ child: 'c', columns: ['x'], parent: 'p', parentColumns: ['id', 'y'] }] } } }, 'databases.app.relations.0.parentColumns: columns and parentColumns must have the same length'],
    [{ databases: { app: { relations: [{ child: 'c', columns: [], parent: 'p', parentColumns: [] }] } } }, 'databases.app.relations.0.columns:'],
    [{ databases: { app: { rules: [{ name: 'r', sql: 'DELETE FROM t' }] } } }, 'databases.app.rules.0.sql: expected a query starting with SELECT'],
    [{ databases: { app: { rules: [{ name: 'r', sql: 'SELECT 1; DROP TABLE t' }] } } }, 'databases.app.rules.0.sql: expected one SELECT statement (no ;)'],
    [{ databases: { app: { rules: [{ sql: 'SELECT 1' }] } } }, 'databases.app.rules.0.name:'],
    [{ databases: { app: { criticalTable: ['t'] } } }, 'databases.app: Unrecognized key: "criticalTable"'],
    [{ ruleTimeoutMs: 5 }, 'ruleTimeoutMs:'],
    [{ createAmcheckOnProduction: 'yes' }, 'createAmcheckOnProduction:'],
  ])('%j → names the field', (value, expected) => {
    expect(problem(value)).toContain(expected);
  });

  it('says when the file is not JSON', () => {
    expect(() => parseIntegrityConfig('criticalTables: [users]', 'file x.yaml')).toThrow(/^file x\.yaml is not valid JSON/);
  });
});

describe('every check bounded', () => {
  it('timeoutSql sets the session statement_timeout, refusing anything but a positive integer', () => {
    expect(timeoutSql(60_000)).toBe('SET statement_timeout = 60000');
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => timeoutSql(bad)).toThrow(/not a timeout/);
  });
});
