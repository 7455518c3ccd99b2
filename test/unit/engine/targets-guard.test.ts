/**
 * The target guard's pure decision (src/engine/targets/guard-sql.ts): which relations rows,
 * table and locate may act on, and which databases database (copy and swap) and --db may name,
 * as tables of cases; then properties over random facts: a system schema, an oid initdb made,
 * an extension's member, a relation without rows of its own, template0/template1/postgres or a
 * template are never allowed, and an ordinary user table or database always is.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { exitCodeFor } from '../../../src/errors.js';
import {
  classifyDatabase, classifyRelation, classifySchema, FIRST_NORMAL_OBJECT_ID, isSystemSchema, SYSTEM_DATABASES,
  type DatabaseGuardFacts, type DatabaseUse, type RelationFacts, type RelationUse,
} from '../../../src/engine/targets/guard-sql.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const table = (over: Partial<RelationFacts> = {}): RelationFacts => ({ oid: '16390', schema: 'public', name: 'orders', kind: 'r', persistence: 'p', extension: null, ...over });
const database = (over: Partial<DatabaseGuardFacts> = {}): DatabaseGuardFacts => ({ oid: '16384', name: 'shop', isTemplate: false, allowConnections: true, ...over });

describe('relations', () => {
  test.each<[string, RelationFacts, RegExp | null]>([
    ['an ordinary table', table(), null],
    ['a partitioned table (rows go through it to its partitions)', table({ kind: 'p' }), null],
    ['an unlogged table', table({ persistence: 'u' }), null],
    ['a table in a schema named like a catalog but quoted: "PG_CATALOG"', table({ schema: 'PG_CATALOG' }), null],
    ['pg_catalog.pg_database (the reported deletion of databases)', table({ oid: '1262', schema: 'pg_catalog', name: 'pg_database' }), /refuses pg_catalog\.pg_database: it is in pg_catalog, a PostgreSQL system schema/],
    ['pg_catalog.pg_authid (a role deleted)', table({ oid: '1260', schema: 'pg_catalog', name: 'pg_authid' }), /pg_authid: it is in pg_catalog/],
    ['information_schema', table({ oid: '13400', schema: 'information_schema', name: 'sql_features' }), /information_schema, a PostgreSQL system schema/],
    ['a TOAST table', table({ oid: '2619', schema: 'pg_toast', name: 'pg_toast_2619', kind: 't' }), /pg_toast/],
    ['a session\'s temporary table', table({ schema: 'pg_temp_3', persistence: 't' }), /pg_temp_3/],
    ['a temporary table\'s TOAST', table({ schema: 'pg_toast_temp_3' }), /pg_toast_temp_3/],
    ['an object initdb made in public (oid below FirstNormalObjectId)', table({ oid: '16383' }), /system object \(oid 16383, below 16384/],
    ['an extension\'s table', table({ extension: 'postgis', name: 'spatial_ref_sys' }), /belongs to the extension postgis/],
    ['a view', table({ kind: 'v' }), /is a view/],
    ['a materialized view', table({ kind: 'm' }), /materialized view/],
    ['a foreign table', table({ kind: 'f' }), /foreign table/],
    ['a sequence', table({ kind: 'S' }), /a sequence/],
    ['an index', table({ kind: 'i' }), /an index/],
    ['a composite type', table({ kind: 'c' }), /composite type/],
    ['a temporary table outside pg_temp (persistence t)', table({ persistence: 't' }), /temporary table/],
  ])('%s', (_name, facts, refused) => {
    const error = classifyRelation(facts, 'table');
    if (refused === null) return expect(error).toBeNull();
    expect(error?.code).toBe('TARGET_NOT_ALLOWED');
    expect(exitCodeFor(error!.code)).toBe(3);
    expect(error!.message).toMatch(refused);
    // names what is allowed instead, and that nothing happened
    expect(error!.message).toMatch(/Only ordinary user tables .* are allowed; nothing was restored or written\./);
    expect(error!.hint).toBeTruthy();
  });

  test('the message names what was asked and what it resolved to, and the command', () => {
    expect(classifyRelation(table({ oid: '1260', schema: 'pg_catalog', name: 'pg_authid' }), 'rows', 'PG_AUTHID')!.message).toMatch(/^\/recover rows refuses PG_AUTHID \(pg_catalog\.pg_authid\): /);
    expect(classifyRelation(table({ oid: '1259', schema: 'pg_catalog', name: 'pg_class' }), 'locate', 'pg_catalog.pg_class')!.message).toMatch(/^\/recover locate refuses pg_catalog\.pg_class: /);
    expect(classifyRelation(table({ kind: 'v', schema: 'My App', name: 'v' }), 'write', 'x')!.message).toMatch(/^recover-bot refuses x \("My App"\.v\): it is a view/);
  });

  test.each([
    ['pg_catalog', true], ['information_schema', true], ['pg_toast', true], ['pg_temp_1', true], ['pg_toast_temp_12', true],
    ['public', false], ['PG_CATALOG', false], ['pg_temp', false], ['pg_temp_x', false], ['app', false], ['pg_catalog ', false],
  ])('system schema %j: %s', (name, system) => {
    expect(isSystemSchema(name)).toBe(system);
  });

  test('a name production does not resolve (dropped): refused only when it names a system schema', () => {
    expect(classifySchema(null, 'table', 'gone')).toBeNull();
    expect(classifySchema({ oid: '2200', name: 'public' }, 'table', 'public.gone')).toBeNull();
    expect(classifySchema({ oid: '16500', name: 'app' }, 'table', 'app.gone')).toBeNull();
    const refused = classifySchema({ oid: '11', name: 'pg_catalog' }, 'table', 'PG_CATALOG.pg_nothing');
    expect(refused?.code).toBe('TARGET_NOT_ALLOWED');
    expect(refused!.message).toMatch(/^\/recover table refuses PG_CATALOG\.pg_nothing: it names pg_catalog/);
  });
});

describe('databases', () => {
  test.each<[string, string, DatabaseGuardFacts | null, DatabaseUse, RegExp | null]>([
    ['--db of a user database', 'shop', database(), 'tables', null],
    ['--db postgres (its own tables are user tables)', 'postgres', database({ oid: '5', name: 'postgres' }), 'tables', null],
    ['--db of no database (the connection reports it: DATABASE_NOT_FOUND)', 'nosuchdb', null, 'tables', null],
    ['--db template1', 'template1', database({ oid: '1', name: 'template1', isTemplate: true }), 'tables', /template1 is a template database/],
    ['--db of a database refusing connections', 'old', database({ name: 'old', allowConnections: false }), 'tables', /does not allow connections/],
    ['database: a user database', 'shop', database(), 'database', null],
    ['database: a dropped user database (restored from the backup)', 'gone', null, 'database', null],
    ['database template1', 'template1', database({ oid: '1', name: 'template1', isTemplate: true }), 'database', /will not restore template1: template1 is the template/],
    ['database template0', 'template0', database({ oid: '4', name: 'template0', isTemplate: true, allowConnections: false }), 'database', /will not restore template0/],
    ['database postgres', 'postgres', database({ oid: '5', name: 'postgres' }), 'database', /will not restore postgres: postgres is the maintenance database/],
    ['database postgres, even re-created (high oid)', 'postgres', database({ oid: '20000', name: 'postgres' }), 'database', /will not restore postgres/],
    ['database of a user template', 'tmpl', database({ name: 'tmpl', isTemplate: true }), 'database', /tmpl is a template database/],
    ['database of one initdb made under another name', 'renamed1', database({ oid: '1', name: 'renamed1' }), 'database', /created by initdb \(oid 1/],
    ['swap: a user database', 'shop', database(), 'swap', null],
    ['swap: a missing database (the swap says so itself)', 'gone', null, 'swap', null],
    ['swap template1 (left a template1 that is no template)', 'template1', database({ oid: '1', name: 'template1', isTemplate: true }), 'swap', /will not swap template1: .*datistemplate = false.*permission denied to copy database template1/],
    ['swap postgres', 'postgres', database({ oid: '5', name: 'postgres' }), 'swap', /will not swap postgres/],
    ['swap a database refusing connections (the swap would allow them)', 'old', database({ name: 'old', allowConnections: false }), 'swap', /does not allow connections/],
  ])('%s', (_name, name, facts, use, refused) => {
    const error = classifyDatabase(name, facts, use);
    if (refused === null) return expect(error).toBeNull();
    expect(error?.code).toBe('TARGET_NOT_ALLOWED');
    expect(exitCodeFor(error!.code)).toBe(3);
    expect(error!.message).toMatch(refused);
    expect(error!.hint).toBeTruthy();
  });

  test('template1 and postgres: says why and what to do instead', () => {
    expect(classifyDatabase('template1', database({ oid: '1', name: 'template1', isTemplate: true }), 'swap')!.hint).toMatch(/\/recover pitr/);
    expect(classifyDatabase('postgres', database({ oid: '5', name: 'postgres' }), 'swap')!.hint).toMatch(/\/recover table … --db postgres/);
  });
});

describe('properties over random facts', () => {
  const kinds = fc.constantFrom('r', 'p', 'v', 'm', 'f', 'S', 'i', 'I', 't', 'c', 'x');
  const systemSchemas = fc.oneof(fc.constantFrom('pg_catalog', 'information_schema', 'pg_toast'), fc.nat(99999).map((n) => `pg_temp_${n}`), fc.nat(99999).map((n) => `pg_toast_temp_${n}`));
  const userSchemas = fc.oneof(fc.constantFrom('public', 'app', 'PG_CATALOG', 'Pg_Toast', 'pg_temp', 'information_schema2', 'pg_catalog.x', ' pg_catalog'), fc.string({ minLength: 1, maxLength: 20 })).filter((s) => !isSystemSchema(s));
  const relations = fc.record({
    oid: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 20000 })).map(String),
    schema: fc.oneof(systemSchemas, userSchemas),
    name: fc.string({ maxLength: 20 }),
    kind: kinds,
    persistence: fc.constantFrom('p', 'u', 't'),
    extension: fc.option(fc.constantFrom('postgis', 'hstore', 'x'), { nil: null }),
  });
  const uses = fc.constantFrom<RelationUse>('rows', 'table', 'locate', 'write');

  test('a relation is allowed exactly when it is an ordinary user table', () => {
    fc.assert(
      fc.property(relations, uses, fc.string(), (facts, use, asked) => {
        const error = classifyRelation(facts, use, asked);
        const ordinary = !isSystemSchema(facts.schema) && Number(facts.oid) >= FIRST_NORMAL_OBJECT_ID && facts.extension === null && (facts.kind === 'r' || facts.kind === 'p') && facts.persistence !== 't';
        expect(error === null).toBe(ordinary);
        if (error) {
          expect(error.code).toBe('TARGET_NOT_ALLOWED');
          expect(exitCodeFor(error.code)).toBe(3);
          expect(error.message).toContain(asked);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('never a system schema, a low oid, an extension\'s table, whatever else the facts say', () => {
    fc.assert(
      fc.property(relations, uses, fc.constantFrom('schema', 'oid', 'extension'), (facts, use, spoil) => {
        const spoiled = spoil === 'schema' ? { ...facts, schema: 'pg_catalog' } : spoil === 'oid' ? { ...facts, oid: String(Number(facts.oid) % FIRST_NORMAL_OBJECT_ID) } : { ...facts, extension: 'ext' };
        expect(classifyRelation(spoiled, use)?.code).toBe('TARGET_NOT_ALLOWED');
      }),
      { numRuns: RUNS },
    );
  });

  const databases = fc.record({
    oid: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 20000 })).map(String),
    name: fc.oneof(fc.constantFrom(...SYSTEM_DATABASES, 'shop', 'Template1', 'postgres2'), fc.string({ minLength: 1, maxLength: 12 })),
    isTemplate: fc.boolean(),
    allowConnections: fc.boolean(),
  });

  test('database and swap: never template0, template1, postgres, a template or one initdb made', () => {
    fc.assert(
      fc.property(fc.option(databases, { nil: null }), fc.constantFrom<DatabaseUse>('database', 'swap'), fc.option(fc.constantFrom(...SYSTEM_DATABASES), { nil: null }), (facts, use, systemName) => {
        const name = systemName ?? facts?.name ?? 'gone';
        const error = classifyDatabase(name, facts ? { ...facts, name } : null, use);
        const forbidden = SYSTEM_DATABASES.includes(name) || (facts !== null && (facts.isTemplate || Number(facts.oid) < FIRST_NORMAL_OBJECT_ID || (use === 'swap' && !facts.allowConnections)));
        expect(error === null).toBe(!forbidden);
        if (error) expect(error.code).toBe('TARGET_NOT_ALLOWED');
      }),
      { numRuns: RUNS },
    );
  });

  test('--db: never a template nor a database refusing connections (a missing one is left to the connection)', () => {
    fc.assert(
      fc.property(fc.option(databases, { nil: null }), (facts) => {
        const error = classifyDatabase(facts?.name ?? 'gone', facts, 'tables');
        if (facts === null) {
          expect(error).toBeNull();
          return;
        }
        expect(error === null).toBe(!facts.isTemplate && facts.allowConnections);
        if (error) expect(exitCodeFor(error.code)).toBe(3);
      }),
      { numRuns: RUNS },
    );
  });
});
