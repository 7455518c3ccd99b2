/**
 * /recover database through Slack, nothing mocked: a real control DB, the bot behind the Slack
 * stand-in, a runner, real clusters and Azurite. Production holds app_a and app_b; a hundred
 * items of app_a are deleted by mistake and app_b changes afterwards. `/recover database app_a
 * --at …` → preview (a new database on production, nothing existing changed) → bob approves →
 * the copy app_a_restored_<stamp> is made and verified, the integrity report and the summary
 * with the exact swap command are in the channel → that command typed → typed confirmation
 * (production's name), bob approves → app_a is the restored one row for row, the old app_a is
 * kept as app_a_before_<stamp> row for row as it was, app_b never changes. The copy job's record
 * in the control DB (not the database's comment) is what the swap required: a database made by
 * hand under a copy's name, with the same comment, is refused at planning.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { newestEndedJob, summaryThread as summaryThreadOf } from './e2e-jobs.js';
import { INCIDENT_CHANNEL, startWorld, type World } from '../../../devkit/world.js';
import { Transcript, type TranscriptMessage } from '../../../devkit/slack-standin/index.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { ACTIONS, CONFIRM_BLOCK, CONFIRM_INPUT } from '../../../src/slack/views/common.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';

let world: World;
let at: string;
const channel = INCIDENT_CHANNEL.id;
const hasButton = (message: TranscriptMessage, actionId: string) => JSON.stringify(message.blocks ?? []).includes(`"${actionId}"`);
const textOf = (message: TranscriptMessage) => Transcript.textOf(message);
const q = <T extends Record<string, unknown> = Record<string, unknown>>(text: string, db = 'postgres') => world.sandbox.query<T>(text, [], db);
/** Every row of every table of a database, exactly: per table the count and a hash of each row's text in key order. */
const contents = async (db: string) => ({
  items: (await q(`SELECT count(*)::int AS n, md5(string_agg(md5(t::text), '' ORDER BY id)) AS h FROM items t`, db))[0],
  notes: (await q(`SELECT count(*)::int AS n, md5(string_agg(md5(t::text), '' ORDER BY id)) AS h FROM notes t`, db))[0],
});
const events = async () => (await q(`SELECT count(*)::int AS n, md5(string_agg(md5(t::text), '' ORDER BY id)) AS h FROM events t`, 'app_b'))[0];
const databases = async () => (await q<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'app%' ORDER BY 1`)).map((row) => row.datname);

beforeAll(async () => {
  world = await startWorld();
  await q(`CREATE DATABASE app_a`);
  await q(`CREATE DATABASE app_b`);
  await q(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE notes (id serial PRIMARY KEY, item_id int REFERENCES items(id), body text);
    INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g;
    INSERT INTO notes (item_id, body) SELECT g, 'note ' || g FROM generate_series(1, 500) g;`, 'app_a');
  await q(`CREATE TABLE events (id int PRIMARY KEY, kind text); INSERT INTO events SELECT g, 'e' FROM generate_series(1, 300) g`, 'app_b');
  await takeBaseBackup(world.sandbox.context(), world.sandbox.config.pg, parseConnectionUrl(world.sandbox.productionUrl));
  // A commit after the backup and before the target: the copy's recovery point is that commit.
  await q(`INSERT INTO events VALUES (1000, 'before the target')`, 'app_b');
  [{ at }] = (await q<{ at: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS at`)) as [{ at: string }];
}, 180_000);

afterAll(async () => {
  await world?.cleanup();
});

const jobOf = (form: 'copy' | 'swap') => newestEndedJob(world, 'database', `r.args->>'swap' IS ${form === 'swap' ? 'NOT ' : ''}NULL`);
const summaryThread = (after: string) => summaryThreadOf(world, 'database', after);

test('database in Slack: the copy beside, verified and reported, then the swap keeping the old database', async () => {
  const { slack } = world;
  const aBefore = await contents('app_a');
  await q(`DELETE FROM notes WHERE item_id > 400; DELETE FROM items WHERE id > 400`, 'app_a');
  await q(`INSERT INTO events SELECT g, 'later' FROM generate_series(301, 350) g`, 'app_b');
  await world.sandbox.switchAndArchive();
  const aAfterMistake = await contents('app_a');
  const bNow = await events();

  // 1. The copy: a new database on production, nothing existing changed.
  await slack.slashCommand({ user: 'U0ALICE', channel, text: `database app_a --at ${at} --jobs 2` });
  const preview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.requestApproval)), 60_000);
  const previewText = textOf(preview);
  expect(previewText).toContain('side copy');
  expect(previewText).toMatch(/a NEW database app_a_restored_\d{14} .*no existing database is changed/);
  expect(previewText).toContain('pg_dump -Fd -j 2');
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
  const approval = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.approve)), 30_000);
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: approval.ts, actionId: ACTIONS.approve });
  const copy = await jobOf('copy');
  expect(copy.status).toBe('succeeded');
  const newName = (copy.result.copied as { newName: string }).newName;
  // The runner recorded the copy in the control DB as this job, bound to the database's oid, with an audit entry.
  const [{ oid }] = (await q<{ oid: string }>(`SELECT oid::text AS oid FROM pg_database WHERE datname = '${newName}'`)) as [{ oid: string }];
  expect((await world.control.pool.query(`SELECT job_id, restored_name, restored_oid::text AS oid, verified FROM database_copies`)).rows).toEqual([{ job_id: copy.id, restored_name: newName, oid, verified: true }]);
  expect((await world.control.pool.query(`SELECT actor FROM audit_log WHERE action = 'database.copy.recorded' AND subject = $1`, [`job:${copy.id}`])).rows).toEqual([{ actor: 'runner-1' }]);
  expect(await contents(newName)).toEqual(aBefore);
  expect(await contents('app_a')).toEqual(aAfterMistake);
  expect(await events()).toEqual(bNow);
  const first = await summaryThread(approval.ts);
  expect(first).toContain('Integrity report: passed');
  expect(first).toMatch(new RegExp(`row counts ${newName}`));
  // The summary's verdict uses the report, and says what the copy reached (the side instance's point).
  expect(first).toMatch(/\*Integrity:\* passed \(\d+\/\d+ checks\)/);
  expect(first).toMatch(/\*Data-loss window:\* \d/);
  expect(first).not.toContain('no transaction replayed');
  const swapCommand = `database app_a --swap ${newName}`;
  expect(first).toContain(`/recover ${swapCommand}`);

  // 2. The swap, typed as the summary shows it: destructive, typed confirmation, bob approves.
  const afterFirst = slack.transcript.messages(channel).at(-1)!.ts;
  await slack.slashCommand({ user: 'U0ALICE', channel, text: swapCommand });
  const swapPreview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => m.ts > afterFirst && hasButton(m, ACTIONS.requestApproval)), 60_000);
  const swapText = textOf(swapPreview);
  expect(swapText).toContain('destructive: changes production');
  expect(swapText).toMatch(/renamed app_a_before_\d{14} and kept, never dropped/);
  expect(swapText).toContain(`made and verified by job ${copy.id} (runner runner-1)`);
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: swapPreview.ts, actionId: ACTIONS.requestApproval });
  const modal = await slack.transcript.waitFor(() => slack.transcript.views('U0ALICE').find((v) => v.status === 'open'), 10_000);
  const right = await slack.submitView({ user: 'U0ALICE', viewId: modal.id, values: { [CONFIRM_BLOCK]: { [CONFIRM_INPUT]: world.config.productionName! } } });
  expect(right.view.status).toBe('closed');
  const swapApproval = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => m.ts > swapPreview.ts && hasButton(m, ACTIONS.approve)), 30_000);
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: swapApproval.ts, actionId: ACTIONS.approve });
  const swap = await jobOf('swap');
  expect(swap.status).toBe('succeeded');
  const beforeName = (swap.result.swapped as { beforeName: string }).beforeName;
  expect(beforeName).toMatch(/^app_a_before_\d{14}$/);

  // 3. Production: app_a is the restored one row for row, the old one kept as it was, app_b untouched.
  expect(await databases()).toEqual(['app_a', beforeName, 'app_b'].sort());
  expect(await contents('app_a')).toEqual(aBefore);
  expect(await contents(beforeName)).toEqual(aAfterMistake);
  expect(await events()).toEqual(bNow);
  const second = await summaryThread(swapApproval.ts);
  expect(second).toContain(`The old database is kept as ${beforeName}`);
  expect(second).toContain('U0BOB');

  // 4. A database made by hand under a copy's name, with the copy's comment: the runner refuses to plan its swap.
  await q(`CREATE DATABASE app_a_restored_20990101000000`);
  await q(`COMMENT ON DATABASE app_a_restored_20990101000000 IS 'recover-bot: verified copy of app_a at 2099'`);
  const afterSwap = slack.transcript.messages(channel).at(-1)!.ts;
  await slack.slashCommand({ user: 'U0ALICE', channel, text: 'database app_a --swap app_a_restored_20990101000000' });
  const refusal = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => m.ts > afterSwap && /cannot run/.test(textOf(m))), 60_000);
  expect(textOf(refusal)).toContain('app_a_restored_20990101000000 is not a copy recover-bot made and verified: there is no record of it in the control DB (runner pool default)');
  expect(textOf(refusal)).toContain('`COPY_UNVERIFIED`');
  expect(refusal.blocks?.some((b) => b.type === 'actions')).toBe(false);
  expect(await contents('app_a')).toEqual(aBefore);
  expect(slack.unknownCalls()).toEqual([]);
});
