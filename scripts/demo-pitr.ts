/**
 * `npm run demo -- pitr`: a mistaken DELETE in "production", then /recover pitr played in a
 * Slack channel — a request, a refused self-approval, a second person's approval, live
 * progress, the integrity report and the summary thread — and the proof that the rows are back
 * in the restored side instance (pitr restores beside production; it does not write to it).
 */
import { ACTIONS } from '../src/slack/views/common.js';
import { INCIDENT_CHANNEL, type World } from '../devkit/world.js';
import { takeBaseBackup } from '../src/engine/backup.js';
import { parseConnectionUrl } from '../src/util/connection-url.js';
import { stopCluster, withClient } from '../src/engine/local-cluster.js';
import { bad, channel, good, hasButton, jobIds, nextJob, openWorld, pause, renderChannel, say, step } from './demo-common.js';

export async function seedProduction(w: World): Promise<{ safePoint: Date; rowsBefore: number }> {
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

/** The story; true when the proof holds. */
export async function pitrStory(): Promise<boolean> {
  const world = await openWorld('workflows:updated_at,workflow_executions:completed_at,users:updated_at');
  const { slack } = world;

  step('production: a workload, a base backup, then the mistake');
  const { safePoint, rowsBefore } = await seedProduction(world);

  step(`#${INCIDENT_CHANNEL.name}: alice asks for a point-in-time recovery`);
  const command = `pitr ${safePoint.toISOString().replace('.000Z', '+00:00')} --db aiagent_prod`;
  say(`   alice types: /recover ${command}`);
  const known = await jobIds(world);
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
  const job = (await nextJob(world, 'pitr', known)) as { status: string; result: { socketDir: string; port: number; dataDir: string; reachedTime: string } | null };
  await pause(4000); // let the last progress update and the summary thread reach the channel
  if (job.status !== 'succeeded' || !job.result) throw new Error(`the recovery job ended as ${job.status}`);

  step('proof: the deleted rows are back in the restored side instance');
  const [{ n }] = (await withClient({ socketDir: job.result.socketDir, port: job.result.port }, 'aiagent_prod', async (client) => (await client.query(`SELECT count(*)::int AS n FROM workflows WHERE user_id = 12345`)).rows)) as [{ n: number }];
  const [{ m }] = (await world.sandbox.query<{ m: number }>(`SELECT count(*)::int AS m FROM workflows WHERE user_id = 12345`, [], 'aiagent_prod')) as [{ m: number }];
  say(`   production has ${m} workflows of user 12345; the restored copy (recovered to ${job.result.reachedTime}) has ${n}.`);
  if (n === rowsBefore) good(`the data is back (${n} of ${rowsBefore}) — next: copy the rows into production (see the summary thread; npm run demo plays that).`);
  else bad(`unexpected row count: ${n}, expected ${rowsBefore}`);
  await renderChannel(world);
  await stopCluster(world.sandbox.exec, world.config.pg.bin, 'postgres', job.result.dataDir, 'fast');
  return n === rowsBefore;
}
