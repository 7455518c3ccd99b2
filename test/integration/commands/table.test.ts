/**
 * /recover table against a sandbox: customers lose ten rows, one is changed and one re-created,
 * a new one is added after the mistake. `table --before-xid` restores a side instance and
 * compares; then from that instance: as-new (a copy with the old contents, the live table and
 * its sequence untouched), missing-rows (deleted rows back, re-created one skipped), replace
 * refused while an order points at a customer the copy lacks (production unchanged, the
 * constraint named), and replace (contents equal to the side copy's, rows before/after).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { table } from '../../../commands/table.js';
import type { TableResult } from '../../../commands/table-view.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { sideInstanceConnection } from '../../../src/engine/instances.js';
import { productionConnection } from '../../../src/engine/rows/restore-rows.js';
import { replaceTable } from '../../../src/engine/table/apply.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { refusal, rejection } from '../../support/refusal.js';

let sandbox: Sandbox;
const DB = 'shop';
const q = <T extends Record<string, unknown> = Record<string, unknown>>(text: string, params: unknown[] = []) => sandbox.query<T>(text, params, DB);
const hash = async (name: string) => (await q<{ h: string; n: number }>(`SELECT md5(string_agg(md5(t::text), '' ORDER BY t.id)) AS h, count(*)::int AS n FROM ${name} t`))[0]!;
const base = (requestId: string) => ({ now: new Date(), production: { name: 'shop_prod' }, requestId });
const ctx = () => ({ engine: sandbox.context(), config: sandbox.config, cli: null });
const run = async (tokens: string[], requestId: string, checked: string[] = []) => {
  const args = table.parse([...tokens, '--db', DB]);
  const plan = table.plan!(args, { ...(await table.gather!(ctx(), args)), ...base(requestId) });
  const result = (await table.run!({ ...ctx(), beforeDestructiveStep: async (kind) => void checked.push(kind) }, table.paramsSchema!.parse(plan.params))) as TableResult;
  return { args, plan, result };
};

let instance: string;
let original: { h: string; n: number };

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query(`CREATE DATABASE ${DB}`);
  await q(`CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL CHECK (name <> ''), tier int DEFAULT 1, name_len int GENERATED ALWAYS AS (length(name)) STORED);
    CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id int REFERENCES customers(id), note text);
    INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, 50) g;
    INSERT INTO orders (customer_id, note) SELECT id, 'order' FROM customers WHERE id <= 10;`);
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  original = await hash('customers');
  // The mistake, one transaction: customers 11-20 deleted; its xid is the target to stop before.
  const [{ xid }] = (await q<{ xid: string }>(`WITH d AS (DELETE FROM customers WHERE id BETWEEN 11 AND 20 RETURNING 1) SELECT txid_current()::text AS xid FROM (SELECT count(*) FROM d) x`)) as [{ xid: string }];
  // Afterwards: 11 re-created as it was, 5 renamed, a new customer 51.
  await q(`INSERT INTO customers (id, name) VALUES (11, 'customer 11'); UPDATE customers SET name = 'renamed' WHERE id = 5; INSERT INTO customers (name) VALUES ('new after the mistake')`);
  await sandbox.switchAndArchive();

  const { plan, result } = await run(['public.customers', '--before-xid', xid, '--mode', 'missing-rows'], 'req-restore');
  expect(plan.risk).toBe('side-copy');
  expect(plan.steps.map((s) => s.kind)).toEqual(['select', 'restore-base-backup', 'configure-recovery', 'replay-wal', 'preview']);
  expect(plan.facts.Target).toMatch(new RegExp(`just before transaction ${xid}`));
  const restored = (result as Extract<TableResult, { form: 'restore' }>).restored;
  expect(restored.comparison).toMatchObject({ sideRows: 50, productionRows: 42, missing: 9, present: 40, different: 1, onlyInProduction: 1, references: [{ constraint: 'orders_customer_id_fkey', table: 'orders', orphaned: 0 }] });
  expect(table.format!(result)).toMatch(/9 missing in production, 40 present and equal, 1 present but different, 1 only in production/);
  instance = restored.instanceName;
}, 300_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

test('as-new: a copy with the old contents beside the live table, which keeps its rows and its sequence', async () => {
  const live = await hash('customers');
  const [{ seq }] = (await q<{ seq: string }>(`SELECT last_value::text AS seq FROM customers_id_seq`)) as [{ seq: string }];
  const checked: string[] = [];
  const { args, plan, result } = await run(['customers', '--from-instance', instance, '--mode', 'as-new', 'customers_before', '--keep-instance'], 'req-as-new', checked);
  expect(table.confirmation(args, { production: { name: 'shop_prod' } })).toBe('shop_prod');
  expect(plan.steps.map((s) => [s.kind, s.destructive])).toEqual([['check-preview', false], ['copy-table', true], ['verify', false]]);
  expect(checked).toEqual(['copy-table']);
  expect(table.format!(result)).toMatch(/customers_before created from .* with 50 rows; customers untouched \(42 rows\)/);
  expect(await hash('customers_before')).toEqual(original);
  expect(await hash('customers')).toEqual(live);
  // Its own sequence, moved past the copied ids; the live sequence is not touched by inserts into the copy.
  expect(await q(`SELECT pg_get_serial_sequence('customers_before', 'id') AS s`)).toEqual([{ s: 'public.customers_before_id_seq' }]);
  await q(`INSERT INTO customers_before (name) VALUES ('x')`);
  expect(await q(`SELECT max(id)::int AS m FROM customers_before`)).toEqual([{ m: 51 }]);
  expect(await q(`SELECT last_value::text AS seq FROM customers_id_seq`)).toEqual([{ seq }]);
  await q(`DELETE FROM customers_before WHERE name = 'x'`);
  // The name now exists: a second as-new with it is refused at planning.
  const again = table.parse(['customers', '--from-instance', instance, '--mode', 'as-new', 'customers_before', '--db', DB]);
  expect(refusal(() => table.plan!(again, { database: DB, asNewExists: true, ...base('req-again') })).message).toMatch(/customers_before already exists/);
  expect((await table.gather!(ctx(), again)).asNewExists).toBe(true);
}, 120_000);

test('missing-rows: deleted rows back, the re-created one skipped, the changed one left alone', async () => {
  const { plan, result } = await run(['customers', '--from-instance', instance, '--mode', 'missing-rows', '--keep-instance'], 'req-missing');
  expect(plan.facts.Will).toMatch(/Insert 9 missing rows into customers \(42 → 51 rows\)/);
  const applied = (result as Extract<TableResult, { form: 'apply' }>).applied;
  expect(applied).toMatchObject({ mode: 'missing-rows', missingRows: { restored: 9, skippedPresent: 40, conflicting: 1, rowsBefore: 42, rowsAfter: 51 } });
  expect(await q(`SELECT count(*)::int AS n FROM customers WHERE id BETWEEN 11 AND 20`)).toEqual([{ n: 10 }]);
  expect(await q(`SELECT name FROM customers WHERE id = 5`)).toEqual([{ name: 'renamed' }]);
}, 120_000);

test('replace: refused while an order points at a customer the copy lacks (constraint named, production unchanged); then replaced', async () => {
  await q(`INSERT INTO orders (customer_id, note) VALUES (51, 'points at the new customer')`);
  const before = { customers: await hash('customers'), orders: await hash('orders') };
  const args = table.parse(['customers', '--from-instance', instance, '--mode', 'replace', '--db', DB]);
  const facts = await table.gather!(ctx(), args);
  expect(facts.comparison!.references).toEqual([{ constraint: 'orders_customer_id_fkey', table: 'orders', orphaned: 1 }]);
  expect(refusal(() => table.plan!(args, { ...facts, ...base('req-replace-1') })).message).toMatch(/would orphan rows .*: 1 rows of orders \(foreign key orders_customer_id_fkey\)/);
  // The job's own check, under lock, in the transaction: refused the same way, nothing written.
  const side = { ...(await sideInstanceConnection(sandbox.config, instance)), database: DB };
  const refused = await rejection(replaceTable(side, productionConnection(sandbox.config, DB), 'customers', '0'.repeat(64)));
  expect(refused.message).toMatch(/orders_customer_id_fkey/);
  expect({ customers: await hash('customers'), orders: await hash('orders') }).toEqual(before);

  await q(`DELETE FROM orders WHERE customer_id = 51`);
  const checked: string[] = [];
  const { plan, result } = await run(['customers', '--from-instance', instance, '--mode', 'replace'], 'req-replace-2', checked);
  expect(plan.steps.map((s) => [s.kind, s.destructive])).toEqual([['check-preview', false], ['replace-table', true], ['verify', false], ['remove-instance', false]]);
  expect(checked).toEqual(['replace-table']);
  const applied = (result as Extract<TableResult, { form: 'apply' }>).applied;
  expect(applied).toMatchObject({ mode: 'replace', replace: { rowsBefore: 51, rowsAfter: 50, deleted: 1, updated: 1, inserted: 0 }, instanceRemoved: true });
  // Production's database is verified after the write (every restore is).
  expect(applied.report?.ok).toBe(true);
  expect(table.verdict!(result, undefined as never)).toBeNull();
  expect(await hash('customers')).toEqual(original);
  expect(existsSync(join(sandbox.config.restoreRoot, instance))).toBe(false);
  expect(table.format!(result)).toMatch(/rows before 51, after 50/);
}, 120_000);
