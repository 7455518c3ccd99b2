/**
 * /recover table for a table production no longer has (DROP TABLE … CASCADE, the most common
 * "whole table lost") and for a table without a primary key, against a sandbox whose only user
 * database is `shop` (no --db given: chosen at planning as locate does). missing-rows is refused
 * before anything is restored, offering as-new; the side copy is restored; as-new brings the
 * table back from the side copy's own definition — first beside (customers_back: indexes and
 * sequences renamed with it), then under its own name — columns, types, defaults, NOT NULL,
 * CHECK, primary key, unique constraint and index, its own sequence, every row; the foreign key
 * whose parent rows still exist is re-created and validated, the one pointing at a deleted parent
 * is not (listed with PostgreSQL's reason). A table without a primary key: as-new copies it,
 * missing-rows is refused. With a second user database, no --db is refused naming both.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { table } from '../../../commands/table.js';
import type { TableResult } from '../../../commands/table-view.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { rejection } from '../../support/refusal.js';

let sandbox: Sandbox;
const DB = 'shop';
const q = <T extends Record<string, unknown> = Record<string, unknown>>(text: string) => sandbox.query<T>(text, [], DB);
const hash = async (name: string, order = 'id') => (await q<{ h: string; n: number }>(`SELECT md5(string_agg(md5(t::text), '' ORDER BY t.${order})) AS h, count(*)::int AS n FROM ${name} t`))[0]!;
const base = (requestId: string) => ({ now: new Date(), production: { name: 'shop_prod' }, requestId });
const ctx = () => ({ engine: sandbox.context(), config: sandbox.config, cli: null });
const planOf = async (tokens: string[], requestId: string) => {
  const args = table.parse(tokens);
  return table.plan!(args, { ...(await table.gather!(ctx(), args)), ...base(requestId) });
};
const run = async (tokens: string[], requestId: string) => {
  const plan = await planOf(tokens, requestId);
  const result = (await table.run!({ ...ctx(), beforeDestructiveStep: async () => undefined }, table.paramsSchema!.parse(plan.params))) as TableResult;
  return { plan, result };
};
/** What a table is made of, names aside: columns with type, default, NOT NULL; constraints; indexes. */
const shape = async (name: string) => ({
  columns: await q(`SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull, pg_get_expr(d.adbin, d.adrelid) AS def FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE attrelid = '${name}'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`),
  constraints: (await q<{ c: string }>(`SELECT contype::text || ' ' || pg_get_constraintdef(oid) AS c FROM pg_constraint WHERE conrelid = '${name}'::regclass ORDER BY 1`)).map((r) => r.c),
  indexes: (await q<{ i: string }>(`SELECT regexp_replace(pg_get_indexdef(indexrelid), ' INDEX \\S+ ON \\S+', ' INDEX ON') AS i FROM pg_index WHERE indrelid = '${name}'::regclass ORDER BY 1`)).map((r) => r.i),
});

let instance: string;
let original: { h: string; n: number };
let originalShape: Awaited<ReturnType<typeof shape>>;
let logHash: { h: string; n: number };

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query(`CREATE DATABASE ${DB}`);
  await q(`CREATE TABLE regions (code text PRIMARY KEY); INSERT INTO regions VALUES ('eu'), ('us');
    CREATE TABLE parents (id int PRIMARY KEY); INSERT INTO parents SELECT generate_series(1, 5);
    CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL CHECK (name <> ''), tier int NOT NULL DEFAULT 1, email text UNIQUE,
      region text REFERENCES regions(code), parent int REFERENCES parents(id), created timestamptz DEFAULT now());
    CREATE INDEX customers_lower_name ON customers (lower(name)) WHERE tier > 0;
    INSERT INTO customers (name, email, region, parent) SELECT 'customer ' || g, 'c' || g || '@x', CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 1 + g % 5 FROM generate_series(1, 40) g;
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers(id)); INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;
    CREATE TABLE audit_log (at int, what text); INSERT INTO audit_log SELECT g, 'event ' || g FROM generate_series(1, 30) g;`);
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  original = await hash('customers');
  originalShape = await shape('customers');
  logHash = await hash('audit_log', 'at');
  const [{ at }] = (await q<{ at: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS at`)) as [{ at: string }];
  // The mistake: the table dropped (the orders' foreign key with it), the log emptied; then parent 3 goes away.
  await q(`DROP TABLE customers CASCADE; DELETE FROM audit_log; DELETE FROM parents WHERE id = 3`);
  await sandbox.switchAndArchive();

  // missing-rows of a table production no longer has: refused at planning, before anything is restored.
  const refused = await rejection(planOf(['customers', '--at', at, '--mode', 'missing-rows'], 'req-early'));
  expect(refused.message).toMatch(/^Production has no table customers \(dropped\?\): --mode missing-rows writes into the live table/);
  expect(refused.hint).toMatch(/^Bring it back with as-new, .*: \/recover table customers --at \S+ --mode as-new customers --db shop$/);

  const { plan, result } = await run(['customers', '--at', at], 'req-restore');
  expect(plan.facts.Table).toMatch(/^customers \(database shop\): production has no such table now \(dropped\?\)/);
  expect(plan.facts.Then).toMatch(/--mode as-new customers_restored --db shop \(or --mode as-new customers: its own name, nothing there to overwrite\)$/);
  const restored = (result as Extract<TableResult, { form: 'restore' }>).restored;
  expect(restored.comparison).toMatchObject({ basis: 'dropped', sideRows: 40, productionRows: 0, outgoing: [{ constraint: 'customers_parent_fkey', references: 'parents', unmatched: 8 }, { constraint: 'customers_region_fkey', references: 'regions', unmatched: 0 }] });
  instance = restored.instanceName;
}, 300_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

test('as-new beside, then under its own name: definition, rows and valid foreign keys back; the invalid one listed', async () => {
  const refusedFromCopy = await rejection(planOf(['customers', '--from-instance', instance, '--mode', 'replace'], 'req-replace'));
  expect(refusedFromCopy.hint).toContain(`recover table customers --from-instance ${instance} --mode as-new customers --db shop`);

  const beside = await run(['customers', '--from-instance', instance, '--mode', 'as-new', 'customers_back', '--keep-instance'], 'req-beside');
  expect(beside.plan.facts.Will).toMatch(/^Create customers_back from the side copy's own definition/);
  expect(beside.plan.facts['Foreign keys']).toBe('customers_parent_fkey → parents: 8 rows point at keys production lacks (not re-created; listed); customers_region_fkey → regions: every row has its match in production (re-created)');
  const asNew = (beside.result as Extract<TableResult, { form: 'apply' }>).applied;
  expect(asNew).toMatchObject({ mode: 'as-new', asNew: { created: 'customers_back', rows: 40, liveRows: null } });
  expect(await hash('customers_back')).toEqual(original);
  expect(await q(`SELECT relname FROM pg_class WHERE relname LIKE 'customers%' ORDER BY 1`)).toEqual(['customers_back', 'customers_back_email_key', 'customers_back_id_seq', 'customers_back_pkey', 'customers_back_lower_name'].sort().map((relname) => ({ relname })));

  const own = await run(['customers', '--from-instance', instance, '--mode', 'as-new', 'customers', '--keep-instance'], 'req-own');
  const applied = (own.result as Extract<TableResult, { form: 'apply' }>).applied;
  if (applied.mode !== 'as-new') throw new Error('as-new expected');
  expect(applied.asNew.foreignKeys).toEqual([
    { constraint: 'customers_parent_fkey', references: 'parents', recreated: false, why: expect.stringMatching(/violates foreign key constraint "customers_parent_fkey"/) },
    { constraint: 'customers_region_fkey', references: 'regions', recreated: true, why: null },
  ]);
  expect(applied.report?.ok).toBe(true);
  expect(await hash('customers')).toEqual(original);
  // Same definition as before the DROP, save the foreign key whose parents are gone.
  const now = await shape('customers');
  expect(now.columns).toEqual(originalShape.columns);
  expect(now.indexes).toEqual(originalShape.indexes);
  expect(now.constraints).toEqual(originalShape.constraints.filter((c) => !c.includes('REFERENCES parents')));
  expect(await q(`SELECT convalidated FROM pg_constraint WHERE conrelid = 'customers'::regclass AND conname = 'customers_region_fkey'`)).toEqual([{ convalidated: true }]);
  // Its own sequence, past the copied ids: the application's next insert works.
  expect(await q(`SELECT pg_get_serial_sequence('customers', 'id') AS s`)).toEqual([{ s: 'public.customers_id_seq' }]);
  expect(await q(`INSERT INTO customers (name) VALUES ('after') RETURNING id`)).toEqual([{ id: 41 }]);
  expect(await q(`SELECT count(*)::int AS n FROM customers WHERE name = ''`)).toEqual([{ n: 0 }]);
  await expect(q(`INSERT INTO customers (name) VALUES ('')`)).rejects.toThrow(/customers_name_check/);
  expect(table.format!(own.result)).toMatch(/Foreign key customers_parent_fkey → parents NOT re-created: .*violates foreign key constraint/);
  const summary = table.summary!(table.paramsSchema!.parse(own.plan.params), table.resultSchema!.parse(JSON.parse(JSON.stringify(own.result))));
  expect(summary.followUps).toContain('Foreign keys not re-created (rows lack a match in production): customers_parent_fkey → parents; fix those rows, then add them.');

  // Now the name exists: as-new with it is refused (never overwrites).
  expect((await rejection(planOf(['customers', '--from-instance', instance, '--mode', 'as-new', 'customers'], 'req-again'))).message).toMatch(/customers already exists in production \(database shop\): as-new never overwrites/);
}, 180_000);

test('a table without a primary key: missing-rows refused, as-new copies every row', async () => {
  const refused = await rejection(planOf(['audit_log', '--from-instance', instance, '--mode', 'missing-rows', '--keep-instance'], 'req-log-missing'));
  expect(refused.message).toMatch(/audit_log has no primary key, so missing rows cannot be told from present ones: --mode missing-rows needs one/);
  const { plan, result } = await run(['audit_log', '--from-instance', instance, '--mode', 'as-new', 'audit_log_before'], 'req-log');
  expect(plan.facts['Compared by primary key']).toMatch(/^not compared: the table has no primary key/);
  expect((result as Extract<TableResult, { form: 'apply' }>).applied).toMatchObject({ mode: 'as-new', asNew: { rows: 30, liveRows: 0 }, instanceRemoved: true });
  expect(await hash('audit_log_before', 'at')).toEqual(logHash);
  expect(await q(`SELECT count(*)::int AS n FROM audit_log`)).toEqual([{ n: 0 }]);
}, 180_000);

test('no --db while production has several user databases: refused at planning with the list; --db chooses', async () => {
  await sandbox.query(`CREATE DATABASE shop_archive`);
  try {
    const refused = await rejection(planOf(['customers', '--from-instance', 'none-1', '--mode', 'missing-rows'], 'req-several'));
    expect(refused.message).toMatch(/Production has several databases \(.*shop.*shop_archive.*\); say which holds the table/);
    // With --db the database question is settled: planning goes on (and stops at the missing side instance).
    expect((await rejection(planOf(['customers', '--from-instance', 'none-1', '--mode', 'missing-rows', '--db', DB], 'req-db'))).message).toMatch(/There is no side instance named none-1/);
  } finally {
    await sandbox.query(`DROP DATABASE shop_archive`);
  }
}, 60_000);
