/**
 * The runbook's §8.1 through the rows command against a sandbox: user 12345's workflows and their
 * executions are deleted by mistake; `rows --at` restores a side instance and previews, `rows
 * --from-instance` (destructive, confirmation = production's name) copies them back; every
 * other row is unchanged (hash before = after) and the side instance is removed. Then the same
 * mistake again, found by its transaction: `rows --before-xid N` (the DELETE's xid, read inside
 * it with txid_current()) restores to just before it, so a row committed a moment earlier is back too.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { rows } from '../../../commands/rows.js';
import type { RowsResult } from '../../../commands/rows-view.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { OTHERS_HASH_SQL, WORKFLOWS_SQL } from '../../support/workflows-fixture.js';

let sandbox: Sandbox;
const DB = 'aiagent_prod';
const q = (text: string, params: unknown[] = []) => sandbox.query(text, params, DB);
const othersHash = async () =>
  (await q(OTHERS_HASH_SQL))[0];

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query(`CREATE DATABASE ${DB}`);
  await q(WORKFLOWS_SQL);
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

const base = (requestId: string) => ({ now: new Date(), production: { name: 'aiagent_prod' }, requestId });
const ctx = () => ({ engine: sandbox.context(), config: sandbox.config, cli: null });

test('delete by mistake → rows --at (preview) → rows --from-instance (copy) → rows back, others unchanged', async () => {
  const [{ before }] = (await q(`SELECT clock_timestamp()::text AS before`)) as [{ before: string }];
  await q(`DELETE FROM workflow_executions WHERE workflow_id IN (SELECT id FROM workflows WHERE user_id = 12345); DELETE FROM workflows WHERE user_id = 12345`);
  await q(`INSERT INTO workflows (user_id, name) VALUES (1, 'after the mistake')`);
  await sandbox.switchAndArchive();
  const hashBefore = await othersHash();
  const at = before.replace(' ', 'T').replace(/\+00$/, '+00:00');

  const restoreArgs = rows.parse(['workflows', '--where', 'user_id = 12345', '--at', at, '--with-children', '--db', DB]);
  expect(rows.risk(restoreArgs)).toBe('side-copy');
  expect(rows.confirmation(restoreArgs, { production: { name: 'aiagent_prod' } })).toBeNull();
  const restoreFacts = await rows.gather!(ctx(), restoreArgs);
  const restorePlan = rows.plan!(restoreArgs, { ...restoreFacts, ...base('req-restore-1') });
  expect(restorePlan.steps.map((s) => s.kind)).toEqual(['select', 'restore-base-backup', 'configure-recovery', 'replay-wal', 'verify', 'preview']);
  expect(restorePlan.steps.some((s) => s.destructive)).toBe(false);
  const restored = (await rows.run!({ ...ctx(), beforeDestructiveStep: async () => undefined }, rows.paramsSchema!.parse(restorePlan.params))) as Extract<RowsResult, { form: 'restore' }>;
  expect(restored.restored.preview.tables.map((t) => [t.table, t.matching, t.missing, t.present, t.different])).toEqual([
    ['workflows', 10, 10, 0, 0],
    ['workflow_executions', 30, 30, 0, 0],
  ]);
  expect(await q(`SELECT count(*)::int AS n FROM workflows WHERE user_id = 12345`)).toEqual([{ n: 0 }]);
  // The side instance was verified before its preview, its row counts compared with production's (informational: it is earlier).
  const sideReport = restored.restored.report!;
  expect(sideReport.subject).toBe(`side instance ${restored.restored.instanceName} (database ${DB})`);
  expect(sideReport.ok).toBe(true);
  const compared = sideReport.checks.find((c) => c.name === `compared with production ${DB}`)!;
  expect(compared).toMatchObject({ ok: true, informational: true });
  expect(compared.message).toMatch(/^informational: the side instance is production at an earlier time, so differences are expected\. Row counts: .*workflows side \d+ \/ production \d+ \(\+9 on the side\)/); // 10 deleted, 1 written since

  const name = restored.restored.instanceName;
  const applyArgs = rows.parse(['workflows', '--where', 'user_id = 12345', '--from-instance', name, '--with-children', '--db', DB]);
  expect(rows.risk(applyArgs)).toBe('destructive');
  expect(rows.confirmation(applyArgs, { production: { name: 'aiagent_prod' } })).toBe('aiagent_prod');
  const applyPlan = rows.plan!(applyArgs, { ...(await rows.gather!(ctx(), applyArgs)), ...base('req-apply-1') });
  expect(applyPlan.facts['Will insert']).toMatch(/^40 rows; 0 already present/);
  expect(applyPlan.steps.map((s) => [s.kind, s.destructive])).toEqual([['check-preview', false], ['copy-rows', true], ['verify', false], ['remove-instance', false]]);
  const checked: string[] = [];
  const applied = (await rows.run!({ ...ctx(), beforeDestructiveStep: async (kind) => void checked.push(kind) }, rows.paramsSchema!.parse(applyPlan.params))) as Extract<RowsResult, { form: 'apply' }>;
  expect(checked).toEqual(['copy-rows']);
  expect(applied.applied.totals).toEqual({ restored: 40, skippedPresent: 0, conflicting: 0, different: 0, uniqueConflicts: 0, parentSkipped: 0 });
  expect(applied.applied.instanceRemoved).toBe(true);
  // Every restore is verified: production's database is checked after the copy.
  expect(applied.applied.report?.ok).toBe(true);
  expect(applied.applied.report?.databases.map((d) => d.name)).toEqual([DB]);
  // …and the restored rows compared with the side instance: same values, nothing still missing.
  const restoredChecks = applied.applied.report!.checks.filter((c) => c.name.startsWith('restored rows'));
  expect(restoredChecks.map((c) => [c.name, c.ok])).toEqual([[`restored rows ${DB}.workflows`, true], [`restored rows ${DB}.workflow_executions`, true]]);
  expect(restoredChecks[0]!.message).toMatch(/^10 rows inserted with the side instance's values \(hash [0-9a-f]{12} on both sides\); production \d+ → \d+ rows by the write; side instance: 10 rows match the filter; now 10 present in production with the same values, 0 different, 0 conflicting/);
  expect(rows.verdict!(applied, rows.paramsSchema!.parse(applyPlan.params))).toBeNull();
  expect(existsSync(join(sandbox.config.restoreRoot, name))).toBe(false);
  expect(await q(`SELECT count(*)::int AS n FROM workflows WHERE user_id = 12345`)).toEqual([{ n: 10 }]);
  expect(await q(`SELECT count(*)::int AS n FROM workflow_executions e JOIN workflows w ON w.id = e.workflow_id WHERE w.user_id = 12345`)).toEqual([{ n: 30 }]);
  expect(await othersHash()).toEqual(hashBefore);
  expect(rows.format!(applied)).toMatch(/Totals: 40 restored, 0 skipped, 0 conflicting/);
});

test('the mistake again, by its transaction: rows --before-xid N restores to just before the DELETE', async () => {
  await q(`INSERT INTO workflows (user_id, name) VALUES (12345, 'just before the mistake') RETURNING id`);
  await q(`INSERT INTO workflow_executions (workflow_id, status) SELECT max(id), 'ok' FROM workflows WHERE user_id = 12345`);
  const client = new pg.Client({ host: sandbox.production.socketDir, port: sandbox.production.port, user: 'postgres', database: DB });
  await client.connect();
  let xid: string;
  try {
    await client.query('BEGIN');
    xid = (await client.query<{ xid: string }>(`SELECT txid_current()::text AS xid`)).rows[0]!.xid;
    await client.query(`DELETE FROM workflow_executions WHERE workflow_id IN (SELECT id FROM workflows WHERE user_id = 12345)`);
    await client.query(`DELETE FROM workflows WHERE user_id = 12345`);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
  await q(`INSERT INTO workflows (user_id, name) VALUES (2, 'after the second mistake')`);
  await sandbox.switchAndArchive();
  const hashBefore = await othersHash();

  // No --db: production's only user database is chosen when planning, as locate does.
  const restoreArgs = rows.parse(['workflows', '--where', 'user_id = 12345', '--before-xid', xid, '--with-children']);
  expect(restoreArgs.db).toBeNull();
  const restorePlan = rows.plan!(restoreArgs, { ...(await rows.gather!(ctx(), restoreArgs)), ...base('req-restore-2') });
  expect(restorePlan.facts.Database).toBe(`${DB} (production's only user database; give --db to choose another)`);
  expect(restorePlan.params).toMatchObject({ database: DB });
  expect(restorePlan.facts.Target).toBe(`just before transaction ${xid} (its changes not replayed)`);
  const restored = (await rows.run!({ ...ctx(), beforeDestructiveStep: async () => undefined }, rows.paramsSchema!.parse(restorePlan.params))) as Extract<RowsResult, { form: 'restore' }>;
  // 10 restored by the first copy + 1 committed just before the DELETE; their 30 + 1 executions.
  expect(restored.restored.preview.tables.map((t) => [t.table, t.matching, t.missing, t.present, t.different])).toEqual([
    ['workflows', 11, 11, 0, 0],
    ['workflow_executions', 31, 31, 0, 0],
  ]);
  expect(restored.then).toBe(`rows workflows --where "user_id = 12345" --from-instance ${restored.restored.instanceName} --with-children --db ${DB}`);

  const applyArgs = rows.parse(['workflows', '--where', 'user_id = 12345', '--from-instance', restored.restored.instanceName, '--with-children', '--db', DB]);
  const applyPlan = rows.plan!(applyArgs, { ...(await rows.gather!(ctx(), applyArgs)), ...base('req-apply-2') });
  const applied = (await rows.run!({ ...ctx(), beforeDestructiveStep: async () => undefined }, rows.paramsSchema!.parse(applyPlan.params))) as Extract<RowsResult, { form: 'apply' }>;
  expect(applied.applied.totals).toEqual({ restored: 42, skippedPresent: 0, conflicting: 0, different: 0, uniqueConflicts: 0, parentSkipped: 0 });
  expect(await q(`SELECT count(*)::int AS n FROM workflows WHERE user_id = 12345 AND name = 'just before the mistake'`)).toEqual([{ n: 1 }]);
  expect(await q(`SELECT count(*)::int AS n FROM workflow_executions e JOIN workflows w ON w.id = e.workflow_id WHERE w.user_id = 12345`)).toEqual([{ n: 31 }]);
  expect(await othersHash()).toEqual(hashBefore);
});

test('no --db with several user databases on production: refused at planning, naming them', async () => {
  await sandbox.query('CREATE DATABASE other_app');
  try {
    const args = rows.parse(['workflows', '--where', 'user_id = 12345', '--at', '2025-01-15T14:29:59+00:00']);
    const error = await rows.gather!(ctx(), args).then(() => null, (e: { code: string; message: string; hint?: string }) => e);
    expect(error).toMatchObject({ code: 'BAD_INPUT', message: `Production has several databases (${DB}, other_app); say which holds the table.` });
    expect(error?.hint).toContain('--db');
  } finally {
    await sandbox.query('DROP DATABASE other_app');
  }
});
