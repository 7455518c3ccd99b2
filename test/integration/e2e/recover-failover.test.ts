/**
 * /recover failover through Slack, nothing mocked: the bot behind the Slack stand-in, a real
 * control DB and runner, the sandbox's production and a streaming standby of it (pg_basebackup
 * -R) whose replay is paused with a backlog. The preview shows the facts (replication, received /
 * replayed and bytes behind, the old primary's reachability, the data-loss window); the request
 * needs production's name typed and a second person's approval; the runner resumes replay, fences
 * the old primary (pg_ctl), promotes; every row is on the new primary; the summary thread carries
 * RPO, RTO and who approved.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { INCIDENT_CHANNEL, startWorld, type World } from '../../../devkit/world.js';
import { Transcript, type TranscriptMessage } from '../../../devkit/slack-standin/index.js';
import type { ClusterHandle } from '../../../src/engine/local-cluster.js';
import { ACTIONS, CONFIRM_BLOCK, CONFIRM_INPUT } from '../../../src/slack/views/common.js';
import { answers, Clusters, ids, inRecovery, q, untilStandby, urlOf } from '../../support/replication.js';
import { newestEndedJob, summaryThread } from './e2e-jobs.js';

let world: World;
let clusters: Clusters;
let standby: ClusterHandle;
const channel = INCIDENT_CHANNEL.id;
const hasButton = (message: TranscriptMessage, actionId: string) => JSON.stringify(message.blocks ?? []).includes(`"${actionId}"`);
const textOf = (message: TranscriptMessage) => Transcript.textOf(message);

beforeAll(async () => {
  world = await startWorld({
    runnerConfig: async (sandbox) => {
      await sandbox.query("CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, 'before' FROM generate_series(1, 100) g");
      clusters = new Clusters(sandbox.exec, sandbox.root);
      standby = await clusters.standby(sandbox.production, 'dr');
      return { failover: { standbyUrl: urlOf(standby), maxLagSeconds: 60, catchUpTimeoutSeconds: 60, reconnectTimeoutSeconds: 30 } };
    },
  });
}, 180_000);

afterAll(async () => {
  // The standby lives under the sandbox's root: stopped before the world removes it.
  await clusters?.stopAll();
  await world?.cleanup();
}, 60_000);

test('failover in Slack: the facts shown, typed confirmation, a second approver, RPO/RTO and approvers in the summary', async () => {
  const { slack } = world;
  await q(standby, 'SELECT pg_wal_replay_pause()');
  await world.sandbox.query("INSERT INTO orders SELECT g, 'while paused' FROM generate_series(101, 5000) g");
  const [{ lsn }] = (await world.sandbox.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')) as [{ lsn: string }];
  await untilStandby(standby, lsn, 'receive');
  const expected = await ids(world.sandbox.production);

  await slack.slashCommand({ user: 'U0ALICE', channel, text: 'failover' });
  const preview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.requestApproval)), 60_000);
  const shown = textOf(preview);
  expect(shown).toContain('destructive');
  expect(shown).toContain('replay PAUSED (resumed first)');
  expect(shown).toMatch(/Replication.*streaming from /);
  expect(shown).toMatch(/Received \/ replayed.*\(\d+ byte\(s\) behind\)/);
  expect(shown).toMatch(/Old primary.*accepts connections/);
  expect(shown).toMatch(/Data-loss window.*None expected: the old primary answers/);
  expect(shown).toContain('pg_ctl stop -m fast');

  // Destructive: production's name typed, then another person approves.
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
  const modal = await slack.transcript.waitFor(() => slack.transcript.views('U0ALICE').find((v) => v.status === 'open'), 10_000);
  const wrong = await slack.submitView({ user: 'U0ALICE', viewId: modal.id, values: { [CONFIRM_BLOCK]: { [CONFIRM_INPUT]: 'aiagent_pro' } } });
  expect(wrong.view.status).toBe('open');
  const right = await slack.submitView({ user: 'U0ALICE', viewId: modal.id, values: { [CONFIRM_BLOCK]: { [CONFIRM_INPUT]: 'aiagent_prod' } } });
  expect(right.view.status).toBe('closed');
  const approval = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => m.ts > preview.ts && hasButton(m, ACTIONS.approve)), 30_000);
  expect(await inRecovery(standby)).toBe(true);
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: approval.ts, actionId: ACTIONS.approve });

  const job = await newestEndedJob(world, 'failover', 'true');
  expect(job.status, JSON.stringify(job.result)).toBe('succeeded');
  expect(await inRecovery(standby)).toBe(false);
  expect(await answers(world.sandbox.production)).toBe(false);
  expect(await ids(standby)).toEqual(expected);
  const thread = await summaryThread(world, 'failover', approval.ts);
  expect(thread).toMatch(/RPO: everything the standby received was replayed/);
  expect(thread).toMatch(/writes accepted \d+ s after the request \(RTO\)/);
  expect(thread).toContain('U0BOB');
  expect(slack.unknownCalls()).toEqual([]);
}, 180_000);
