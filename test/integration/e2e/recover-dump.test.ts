/**
 * /recover dump through Slack, nothing mocked: a real control DB, the bot behind the Slack
 * stand-in, a runner, a real production cluster and Azurite. `recover dump-backup` stores a dump
 * of app; rows are then deleted by mistake; `/recover dump app --jobs 2` → preview (a side copy:
 * a new database on production, nothing existing changed; the loader's steps) → bob approves →
 * the runner downloads it, checks every sha256, and the parallel loader restores it as
 * app_restored_<stamp>: every table has the dumped rows exactly, its indexes and foreign key are
 * there, the integrity report and the summary with the swap command are in the channel, and the
 * damaged app is untouched.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { newestEndedJob, summaryThread } from './e2e-jobs.js';
import { INCIDENT_CHANNEL, startWorld, type World } from '../../../devkit/world.js';
import { Transcript, type TranscriptMessage } from '../../../devkit/slack-standin/index.js';
import { ACTIONS } from '../../../src/slack/views/common.js';
import { runCli } from '../../support/run-cli.js';

let world: World;
const channel = INCIDENT_CHANNEL.id;
const hasButton = (message: TranscriptMessage, actionId: string) => JSON.stringify(message.blocks ?? []).includes(`"${actionId}"`);
const q = <T extends Record<string, unknown> = Record<string, unknown>>(text: string, db = 'postgres') => world.sandbox.query<T>(text, [], db);
const contents = async (db: string) => ({
  accounts: (await q(`SELECT count(*)::int AS n, md5(string_agg(md5(t::text), '' ORDER BY id)) AS h FROM accounts t`, db))[0],
  payments: (await q(`SELECT count(*)::int AS n, md5(string_agg(md5(t::text), '' ORDER BY id)) AS h FROM payments t`, db))[0],
});

beforeAll(async () => {
  world = await startWorld();
  await q(`CREATE DATABASE app`);
  await q(`CREATE TABLE accounts (id int PRIMARY KEY, email text UNIQUE NOT NULL);
    CREATE TABLE payments (id bigint PRIMARY KEY, account_id int NOT NULL REFERENCES accounts(id), amount numeric(12,2), memo text);
    CREATE INDEX payments_account ON payments (account_id, id);
    INSERT INTO accounts SELECT g, 'a' || g || '@example.net' FROM generate_series(1, 800) g;
    INSERT INTO payments SELECT g, 1 + g % 800, g * 0.25, E'memo\\twith tab ' || g FROM generate_series(1, 5000) g;`, 'app');
}, 180_000);

afterAll(async () => {
  await world?.cleanup();
});

test('dump in Slack: the stored dump restored beside by the parallel loader, row for row, reported with the swap command', async () => {
  const { slack } = world;
  const taken = await runCli(['dump-backup', '--jobs', '2', '--json'], world.sandbox.cliEnv({ RECOVER_DUMP_DATABASES: 'app', RECOVER_CONTROL_URL: world.control.url }));
  expect(taken.code, taken.stdout + taken.stderr).toBe(0);
  const dumped = await contents('app');
  await q(`DELETE FROM payments WHERE id > 4000`, 'app');
  const damaged = await contents('app');

  await slack.slashCommand({ user: 'U0ALICE', channel, text: 'dump app --jobs 2' });
  const preview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.requestApproval)), 60_000);
  const previewText = Transcript.textOf(preview);
  expect(previewText).toContain('side copy');
  expect(previewText).toMatch(/app_restored_\d{14}/);
  expect(previewText).toContain('each table by one session, written frozen');
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
  const approval = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.approve)), 30_000);
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: approval.ts, actionId: ACTIONS.approve });

  const job = await newestEndedJob(world, 'dump', 'true');
  expect(job.status, JSON.stringify(job.result)).toBe('succeeded');
  const newName = String((job.result as { newName?: string }).newName ?? (job.result.restored as { newName: string } | undefined)?.newName);
  expect(newName).toMatch(/^app_restored_\d{14}$/);
  expect(await contents(newName)).toEqual(dumped);
  expect(await contents('app')).toEqual(damaged);
  const shape = await q<{ indexes: string; fk: string }>(`SELECT (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public') AS indexes, (SELECT string_agg(conname, ',') FROM pg_constraint WHERE contype = 'f') AS fk`, newName);
  expect(shape).toEqual([{ indexes: 'accounts_email_key,accounts_pkey,payments_account,payments_pkey', fk: 'payments_account_id_fkey' }]);

  const thread = await summaryThread(world, 'dump', approval.ts);
  expect(thread).toContain('Integrity report: passed');
  expect(thread).toContain(`/recover database app --swap ${newName}`);
  expect(thread).toMatch(/written frozen/);
  expect(slack.unknownCalls()).toEqual([]);
}, 240_000);
