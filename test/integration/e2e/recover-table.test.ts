/**
 * /recover table through Slack, nothing mocked: a real control DB, the bot behind the Slack
 * stand-in, a runner, real clusters and Azurite. Production's only user database is `shop`
 * (no --db typed: chosen at planning). Customers 11-20 are deleted by mistake, customer 5 is
 * renamed and a new one added afterwards. `/recover table customers --at … --mode missing-rows`
 * → preview → bob approves → side instance restored and compared → the summary shows the counts
 * and the exact write command → `--mode as-new customers_before --keep-instance` typed, typed
 * confirmation (a wrong name refused), bob approves → the old contents beside the live table →
 * the summary's command (missing-rows) → confirmation, approval → the ten rows back in the live
 * table, the renamed and the new customer as they were, integrity report and summary in the
 * channel, side instance removed. Then the table is DROPPED: the preview says production has
 * none, the summary offers as-new under its own name, and typed, confirmed and approved, the
 * table is back row for row with its columns and its sequence.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { newestEndedJob, summaryThread as summaryThreadOf } from './e2e-jobs.js';
import { INCIDENT_CHANNEL, startWorld, type World } from '../../../devkit/world.js';
import { Transcript, type TranscriptMessage } from '../../../devkit/slack-standin/index.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { ACTIONS, CONFIRM_BLOCK, CONFIRM_INPUT } from '../../../src/slack/views/common.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';

let world: World;
let at: string;
let original: { h: string; n: number };
const channel = INCIDENT_CHANNEL.id;
const DB = 'shop';
const hasButton = (message: TranscriptMessage, actionId: string) => JSON.stringify(message.blocks ?? []).includes(`"${actionId}"`);
const textOf = (message: TranscriptMessage) => Transcript.textOf(message);
const q = <T extends Record<string, unknown> = Record<string, unknown>>(text: string) => world.sandbox.query<T>(text, [], DB);
/** Every row, exactly: a hash of each row's text in key order, and the count. */
const rowsOf = async (name: string, where = 'true') => (await q<{ h: string; n: number }>(`SELECT md5(string_agg(md5(t::text), '' ORDER BY t.id)) AS h, count(*)::int AS n FROM ${name} t WHERE ${where}`))[0]!;

beforeAll(async () => {
  world = await startWorld();
  await world.sandbox.query(`CREATE DATABASE ${DB}`);
  await q(`CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, tier int DEFAULT 1);
    INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, 50) g;`);
  await takeBaseBackup(world.sandbox.context(), world.sandbox.config.pg, parseConnectionUrl(world.sandbox.productionUrl));
  // A commit after the backup and before the target: the side instance's recovery point is that commit.
  await q(`UPDATE customers SET tier = 2 WHERE id = 50`);
  original = await rowsOf('customers');
  [{ at }] = (await q<{ at: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS at`)) as [{ at: string }];
  await q(`DELETE FROM customers WHERE id BETWEEN 11 AND 20`);
  await q(`UPDATE customers SET name = 'renamed' WHERE id = 5; INSERT INTO customers (name) VALUES ('new after the mistake')`);
  await world.sandbox.switchAndArchive();
}, 180_000);

afterAll(async () => {
  await world?.cleanup();
});

/** The newest table job (the restore, or a write with the given mode) once it has ended. */
const jobOf = (mode: 'restore' | 'as-new' | 'missing-rows') =>
  newestEndedJob(world, 'table', mode === 'restore' ? `r.args->>'fromInstance' IS NULL` : `r.args->>'fromInstance' IS NOT NULL AND r.args->'mode'->>'kind' = '${mode}'`);
const summaryThread = (after: string) => summaryThreadOf(world, 'table', after);

/** A destructive command typed in the channel: preview, typed confirmation (production's name), bob's approval. */
async function writeThroughSlack(command: string, expectInPreview: (text: string) => void, wrongName = false): Promise<string> {
  const { slack } = world;
  const after = slack.transcript.messages(channel).at(-1)!.ts;
  await slack.slashCommand({ user: 'U0ALICE', channel, text: command });
  const preview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => m.ts > after && hasButton(m, ACTIONS.requestApproval)), 60_000);
  expect(textOf(preview)).toContain('destructive: changes production');
  expectInPreview(textOf(preview));
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
  const modal = await slack.transcript.waitFor(() => slack.transcript.views('U0ALICE').find((v) => v.status === 'open'), 10_000);
  if (wrongName) {
    const wrong = await slack.submitView({ user: 'U0ALICE', viewId: modal.id, values: { [CONFIRM_BLOCK]: { [CONFIRM_INPUT]: DB } } });
    expect(wrong.responseAction).toBe('errors');
    expect(slack.transcript.messages(channel).filter((m) => m.ts > preview.ts && hasButton(m, ACTIONS.approve))).toEqual([]);
  }
  const right = await slack.submitView({ user: 'U0ALICE', viewId: modal.id, values: { [CONFIRM_BLOCK]: { [CONFIRM_INPUT]: world.config.productionName! } } });
  expect(right.view.status).toBe('closed');
  const approval = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => m.ts > preview.ts && hasButton(m, ACTIONS.approve)), 30_000);
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: approval.ts, actionId: ACTIONS.approve });
  return approval.ts;
}

test('table in Slack: restore and compare, as-new beside the live table, then the missing rows back in production', async () => {
  const { slack } = world;
  const othersBefore = await rowsOf('customers', 'id NOT BETWEEN 11 AND 20');

  // 1. The side-copy plan, no --db: production's only user database is chosen.
  await slack.slashCommand({ user: 'U0ALICE', channel, text: `table customers --at ${at} --mode missing-rows` });
  const preview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.requestApproval)), 60_000);
  const previewText = textOf(preview);
  expect(previewText).toContain('side copy: writes a new instance, production untouched');
  expect(previewText).toContain('Compare customers with production (nothing written)');
  expect(previewText).toContain('customers (database shop)');
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
  const approval = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.approve)), 30_000);
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: approval.ts, actionId: ACTIONS.approve });
  const restore = await jobOf('restore');
  expect(restore.status).toBe('succeeded');
  const restored = restore.result.restored as { instanceName: string; comparison: Record<string, unknown> };
  expect(restored.comparison).toMatchObject({ basis: 'by-key', sideRows: 50, productionRows: 41, missing: 10, present: 39, different: 1, onlyInProduction: 1 });
  const instance = restored.instanceName;
  const first = await summaryThread(approval.ts);
  const writeCommand = `table customers --from-instance ${instance} --mode missing-rows --db shop`;
  expect(first).toContain(`/recover ${writeCommand}`);
  expect(first).toMatch(/\*Data-loss window:\* \d/);
  expect(await rowsOf('customers', 'id BETWEEN 11 AND 20')).toMatchObject({ n: 0 });

  // 2. as-new beside the live table, kept instance: a wrong typed name is refused first.
  const asNewApproval = await writeThroughSlack(`table customers --from-instance ${instance} --mode as-new customers_before --keep-instance`, (text) => {
    expect(text).toContain("Create customers_before beside customers with the side copy's 50 rows; customers itself is not touched");
    expect(text).toContain('10 missing in production, 39 present and equal, 1 present but different, 1 only in production');
  }, true);
  const asNew = await jobOf('as-new');
  expect(asNew.status).toBe('succeeded');
  expect(await rowsOf('customers_before')).toEqual(original);
  expect(await rowsOf('customers', 'id NOT BETWEEN 11 AND 20')).toEqual(othersBefore);
  const second = await summaryThread(asNewApproval);
  expect(second).toContain('Integrity report: passed');
  expect(second).toMatch(/\*Integrity:\* passed \(\d+\/\d+ checks\)/);
  expect(second).toContain('Table written (as-new); side instance kept.');
  expect(second).toContain('U0BOB');

  // 3. The summary's command, typed as shown: the ten rows back, the later changes kept.
  const copyApproval = await writeThroughSlack(writeCommand, (text) => {
    expect(text).toContain('Insert 10 missing rows into customers (41 → 51 rows); 1 different and 1 production-only rows are left alone');
  });
  const copy = await jobOf('missing-rows');
  expect(copy.status).toBe('succeeded');
  expect(copy.result).toMatchObject({ form: 'apply', applied: { mode: 'missing-rows', missingRows: { restored: 10, rowsBefore: 41, rowsAfter: 51 }, instanceRemoved: true } });
  expect(await rowsOf('customers', 'id BETWEEN 11 AND 20')).toEqual(await rowsOf('customers_before', 'id BETWEEN 11 AND 20'));
  expect(await rowsOf('customers', 'id NOT BETWEEN 11 AND 20')).toEqual(othersBefore);
  expect(await q(`SELECT id, name FROM customers WHERE id IN (5, 51) ORDER BY id`)).toEqual([{ id: 5, name: 'renamed' }, { id: 51, name: 'new after the mistake' }]);
  expect(existsSync(join(world.config.restoreRoot, instance))).toBe(false);
  const third = await summaryThread(copyApproval);
  expect(third).toContain('Integrity report: passed');
  expect(third).toMatch(/Insert the missing rows|missing rows/);
  expect(third).toContain('Table written (missing-rows); side instance removed.');
  expect(slack.unknownCalls()).toEqual([]);
});

test('a dropped table in Slack: the preview says production has none, the summary offers as-new under its own name, the table is back row for row', async () => {
  const { slack } = world;
  const before = await rowsOf('customers');
  const shapeOf = async () => q(`SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`);
  const columns = await shapeOf();
  const [{ at2 }] = (await q<{ at2: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS at2`)) as [{ at2: string }];
  await q(`DROP TABLE customers`);
  await world.sandbox.switchAndArchive();

  const after = slack.transcript.messages(channel).at(-1)!.ts;
  await slack.slashCommand({ user: 'U0ALICE', channel, text: `table customers --at ${at2}` });
  const preview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => m.ts > after && hasButton(m, ACTIONS.requestApproval)), 60_000);
  expect(textOf(preview)).toContain('production has no such table now (dropped?); only --mode as-new can bring it back');
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
  const approval = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => m.ts > preview.ts && hasButton(m, ACTIONS.approve)), 30_000);
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: approval.ts, actionId: ACTIONS.approve });
  const restore = await jobOf('restore');
  expect(restore.status).toBe('succeeded');
  const instance = (restore.result.restored as { instanceName: string }).instanceName;
  const summary = await summaryThread(approval.ts);
  expect(summary).toContain(`/recover table customers --from-instance ${instance} --mode as-new customers_restored --db shop. Production has no such table: as-new creates it from the side copy; to put it back under its own name (nothing there to overwrite): --mode as-new customers.`);
  const command = `table customers --from-instance ${instance} --mode as-new customers --db shop`;

  const writeApproval = await writeThroughSlack(command, (text) => expect(text).toContain("Create customers from the side copy's own definition"));
  const write = await jobOf('as-new');
  expect(write.status).toBe('succeeded');
  expect(await rowsOf('customers')).toEqual(before);
  expect(await shapeOf()).toEqual(columns);
  expect(await q(`INSERT INTO customers (name) VALUES ('after the restore') RETURNING id`)).toEqual([{ id: 52 }]);
  const thread = await summaryThread(writeApproval);
  expect(thread).toContain('Integrity report: passed');
  expect(thread).toContain('Table written (as-new); side instance removed.');
  expect(slack.unknownCalls()).toEqual([]);
});
