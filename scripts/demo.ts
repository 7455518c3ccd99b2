/**
 * npm run demo: a mistaken DELETE in "production", then /recover pitr played in a Slack
 * channel — a request, a refused self-approval, a second person's approval, live progress,
 * the integrity report and the summary thread — printed as it happens. Everything runs on
 * this machine (throwaway PostgreSQL clusters, Azurite, the Slack stand-in, the bot and a
 * runner) and is removed at the end, also on Ctrl-C.
 */
import { ACTIONS } from '../src/slack/views/common.js';
import { INCIDENT_CHANNEL, startWorld, type World } from '../devkit/world.js';
import { takeBaseBackup } from '../src/engine/backup.js';
import { parseConnectionUrl } from '../src/util/connection-url.js';
import { stopCluster, withClient } from '../src/engine/local-cluster.js';
import type { TranscriptMessage } from '../devkit/slack-standin/index.js';

const say = (text: string) => process.stdout.write(`${text}\n`);
const step = (text: string) => say(`\n\x1b[1m== ${text}\x1b[0m`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hasButton = (message: TranscriptMessage, actionId: string) => JSON.stringify(message.blocks ?? []).includes(`"${actionId}"`);

let world: World | undefined;
let cleaning = false;
async function cleanup(): Promise<void> {
  if (cleaning || !world) return;
  cleaning = true;
  say('\n== cleaning up: stopping the bot, the runner, every cluster, Azurite, the stand-in …');
  await world.cleanup();
  say('   done; nothing is left running.');
}
process.once('SIGINT', () => {
  say('\ninterrupted');
  void cleanup().finally(() => process.exit(130));
});

async function seedProduction(w: World): Promise<{ safePoint: Date; rowsBefore: number }> {
  const { sandbox } = w;
  await sandbox.query('CREATE DATABASE aiagent_prod');
  await sandbox.query(
    `CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
     CREATE TABLE agents (id int PRIMARY KEY, name text NOT NULL);
     CREATE TABLE agent_personas (id int PRIMARY KEY, agent_id int NOT NULL REFERENCES agents(id), persona text);
     CREATE TABLE workflows (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users(id), name text, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
     CREATE TABLE workflow_executions (id bigint PRIMARY KEY, workflow_id int NOT NULL REFERENCES workflows(id) ON DELETE CASCADE, status text, completed_at timestamptz);
     INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(12300, 12400) g;
     INSERT INTO agents SELECT g, 'agent ' || g FROM generate_series(1, 20) g;
     INSERT INTO agent_personas SELECT g, 1 + g % 20, 'persona ' || g FROM generate_series(1, 60) g;
     INSERT INTO workflows SELECT g, 12300 + g % 101, 'workflow ' || g FROM generate_series(1, 4000) g;
     INSERT INTO workflow_executions SELECT g, 1 + g % 4000, 'succeeded', now() FROM generate_series(1, 20000) g;`,
    [],
    'aiagent_prod',
  );
  say('   aiagent_prod: 101 users, 4000 workflows, 20000 executions');
  const manifest = await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  say(`   nightly base backup ${manifest.id} stored in Azurite (postgresql-full/daily/${manifest.id}/)`);
  await sandbox.query(`INSERT INTO workflows SELECT g, 12345, 'late workflow ' || g FROM generate_series(4001, 4040) g`, [], 'aiagent_prod');
  await sandbox.switchAndArchive();
  await pause(1100);
  const safePoint = new Date(Math.floor(Date.now() / 1000) * 1000);
  await pause(1100);
  const [{ n }] = (await sandbox.query<{ n: number }>(`SELECT count(*)::int AS n FROM workflows WHERE user_id = 12345`, [], 'aiagent_prod')) as [{ n: number }];
  say(`   user 12345 has ${n} workflows at ${safePoint.toISOString()}`);
  await sandbox.query(`DELETE FROM workflows WHERE user_id = 12345`, [], 'aiagent_prod');
  await sandbox.switchAndArchive();
  say('   \x1b[31mDELETE FROM workflows WHERE user_id = 12345\x1b[0m  — committed by mistake, WAL archived');
  return { safePoint, rowsBefore: n };
}

async function main(): Promise<void> {
  step('starting PostgreSQL clusters, Azurite, the Slack stand-in, the bot and a runner');
  world = await startWorld({ verifyTables: 'workflows:updated_at,workflow_executions:completed_at,users:updated_at' });
  const { slack } = world;
  const channel = INCIDENT_CHANNEL.id;
  slack.transcript.onChange((event) => {
    const text = slack.transcript.describe(event);
    if (text) say(`   slack │ ${text.split('\n').join('\n   slack │ ')}`);
  });

  step('production: a workload, a base backup, then the mistake');
  const { safePoint, rowsBefore } = await seedProduction(world);

  step(`#${INCIDENT_CHANNEL.name}: alice asks for a point-in-time recovery`);
  const command = `pitr ${safePoint.toISOString().replace('.000Z', '+00:00')} --db aiagent_prod`;
  say(`   alice types: /recover ${command}`);
  const ack = await slack.slashCommand({ user: 'U0ALICE', channel, text: command });
  say(`   (acknowledged in ${ack.ackMs.toFixed(0)} ms)`);
  const preview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.requestApproval)), 60_000);

  step('alice requests approval');
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
  const approval = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.approve)), 30_000);

  step('alice tries to approve her own request; carol (not an approver) tries too');
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: approval.ts, actionId: ACTIONS.approve });
  await slack.clickButton({ user: 'U0CAROL', channel, messageTs: approval.ts, actionId: ACTIONS.approve });
  await pause(500);

  step('bob (DBA lead) approves; the runner restores');
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: approval.ts, actionId: ACTIONS.approve });
  const control = world.control.pool;
  let job: { id: string; status: string; result: { socketDir: string; port: number; dataDir: string; reachedTime: string } | null } | undefined;
  for (let i = 0; i < 600; i++) {
    const { rows } = await control.query(`SELECT id, status, result FROM jobs ORDER BY created_at DESC LIMIT 1`);
    job = rows[0];
    if (job && !['queued', 'running'].includes(job.status)) break;
    await pause(500);
  }
  await pause(4000); // let the last progress update and the summary thread reach the channel
  if (job?.status !== 'succeeded' || !job.result) throw new Error(`the recovery job ended as ${job?.status ?? 'missing'}`);

  step('proof: the deleted rows are back in the restored side instance');
  const [{ n }] = (await withClient({ socketDir: job.result.socketDir, port: job.result.port }, 'aiagent_prod', async (client) => (await client.query(`SELECT count(*)::int AS n FROM workflows WHERE user_id = 12345`)).rows)) as [{ n: number }];
  const [{ m }] = (await world.sandbox.query<{ m: number }>(`SELECT count(*)::int AS m FROM workflows WHERE user_id = 12345`, [], 'aiagent_prod')) as [{ m: number }];
  say(`   production has ${m} workflows of user 12345; the restored copy (recovered to ${job.result.reachedTime}) has ${n}.`);
  say(n === rowsBefore ? `   \x1b[32mthe data is back\x1b[0m (${n} of ${rowsBefore}) — next: copy the rows into production (see the summary thread).` : `   \x1b[31munexpected row count: ${n}, expected ${rowsBefore}\x1b[0m`);
  step('the channel, as people saw it');
  say(slack.transcript.render(channel));
  await stopCluster(world.sandbox.exec, world.config.pg.bin, 'postgres', job.result.dataDir, 'fast');
  if (n !== rowsBefore) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  say(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await cleanup();
}
