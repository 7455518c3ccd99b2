import { describe, expect, it } from 'vitest';
import { listDatabasesSql, listUserTablesSql, newestTimestampSql, qualifiedName, quoteIdent, rowCountSql, tableHashSql } from '../../../src/engine/sql.js';

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
