/**
 * End to end, nothing mocked: a real control DB, the real bot (HTTP mode) behind the Slack
 * stand-in, a real runner, and a real PITR of a real cluster from Azurite.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { INCIDENT_CHANNEL, OTHER_CHANNEL, startWorld, type World } from '../../../devkit/world.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { stopCluster } from '../../../src/engine/local-cluster.js';
import { ACTIONS } from '../../../src/slack/views/common.js';
import type { TranscriptMessage } from '../../../devkit/slack-standin/index.js';

let world: World;
let safePoint: Date;
const channel = INCIDENT_CHANNEL.id;
const hasButton = (message: TranscriptMessage, actionId: string) => JSON.stringify(message.blocks ?? []).includes(`"${actionId}"`);
const textOf = (message: TranscriptMessage) => `${message.text}\n${JSON.stringify(message.blocks ?? [])}`;

beforeAll(async () => {
  world = await startWorld({ updateBudget: { limit: 20, windowMs: 60_000 } });
  const { sandbox } = world;
  await sandbox.query('CREATE DATABASE aiagent_prod');
  await sandbox.query(
    `CREATE TABLE workflows (id int PRIMARY KEY, user_id int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
     INSERT INTO workflows SELECT g, 12300 + g % 100, now() FROM generate_series(1, 2000) g;`,
    [],
    'aiagent_prod',
  );
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query(`INSERT INTO workflows SELECT g, 12345, now() FROM generate_series(2001, 2030) g`, [], 'aiagent_prod');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  safePoint = new Date(Math.floor(Date.now() / 1000) * 1000);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await sandbox.query(`DELETE FROM workflows WHERE user_id = 12345`, [], 'aiagent_prod');
  await sandbox.switchAndArchive();
}, 180_000);

afterAll(async () => {
  await world?.cleanup();
});

test('a command from a channel that is not allowed is refused with where it is allowed', async () => {
  await world.slack.slashCommand({ user: 'U0ALICE', channel: OTHER_CHANNEL.id, text: 'pitr 2025-01-15T14:29:59+00:00' });
  const refusal = await world.slack.transcript.waitFor(() => world.slack.transcript.ephemerals(OTHER_CHANNEL.id, 'U0ALICE')[0], 10_000);
  expect(textOf(refusal)).toContain('inc-*');
  const { rows } = await world.control.pool.query('SELECT count(*)::int AS n FROM requests');
  expect(rows[0].n).toBe(0);
});

test('requests with a bad signature or a stale timestamp are refused with 401 and change nothing', async () => {
  const bad = await world.slack.slashCommand({ user: 'U0ALICE', channel, text: 'status', tamper: { badSignature: true } });
  const stale = await world.slack.slashCommand({ user: 'U0ALICE', channel, text: 'status', tamper: { timestampSkewSeconds: -600 } });
  const unsigned = await world.slack.slashCommand({ user: 'U0ALICE', channel, text: 'status', tamper: { omitSignatureHeaders: true } });
  expect([bad.status, stale.status, unsigned.status]).toEqual([401, 401, 401]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  // What alice sees is Slack's own "dispatch_failed"; the bot answered nothing.
  expect(world.slack.transcript.ephemerals(channel, 'U0ALICE').map((m) => m.text)).toEqual(Array(3).fill('/recover failed with the error "dispatch_failed"'));
  expect(world.slack.transcript.messages(channel)).toEqual([]);
});

test('alice runs /recover pitr; self- and non-approver approvals are refused; bob approves; the runner restores; the channel tells the whole story', async () => {
  const { slack } = world;
  const at = safePoint.toISOString().replace('.000Z', '+00:00');
  const ack = await slack.slashCommand({ user: 'U0ALICE', channel, text: `pitr ${at} --db aiagent_prod` });
  expect(ack.status).toBe(200);
  expect(ack.timedOut).toBe(false);

  // The plan preview: chosen backup, WAL, window, target, where it restores, steps, duration.
  const preview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.requestApproval)), 60_000);
  const previewText = textOf(preview);
  for (const fact of ['Base backup', 'WAL', 'Restorable window', 'side instance', 'Replay']) expect(previewText).toContain(fact);

  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
  const approval = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.approve)), 30_000);

  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: approval.ts, actionId: ACTIONS.approve });
  const selfRefusal = await slack.transcript.waitFor(() => slack.transcript.ephemerals(channel, 'U0ALICE').find((m) => /does not count/i.test(textOf(m))), 10_000);
  expect(selfRefusal).toBeDefined();
  await slack.clickButton({ user: 'U0CAROL', channel, messageTs: approval.ts, actionId: ACTIONS.approve });
  const carolRefusal = await slack.transcript.waitFor(() => slack.transcript.ephemerals(channel, 'U0CAROL')[0], 10_000);
  expect(textOf(carolRefusal)).toMatch(/approver/i);
  const { rows: before } = await world.control.pool.query('SELECT count(*)::int AS n FROM jobs');
  expect(before[0].n).toBe(0);

  await slack.clickButton({ user: 'U0BOB', channel, messageTs: approval.ts, actionId: ACTIONS.approve });

  // The job runs for real and ends; the bot converges the channel to the final state.
  let job: { id: string; status: string; result: { socketDir: string; port: number; dataDir: string; reachedTime: string } } | undefined;
  for (let i = 0; i < 400 && (!job || ['queued', 'running'].includes(job.status)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    job = (await world.control.pool.query(`SELECT id, status, result FROM jobs ORDER BY created_at DESC LIMIT 1`)).rows[0];
  }
  expect(job?.status).toBe('succeeded');
  try {
    const restored = new pg.Client({ host: job!.result.socketDir, port: job!.result.port, user: 'postgres', database: 'aiagent_prod' });
    await restored.connect();
    const { rows } = await restored.query(`SELECT count(*)::int AS n FROM workflows WHERE user_id = 12345`);
    await restored.end();
    expect(rows[0].n).toBe(50); // 20 from the initial load plus the 30 added after the backup
  } finally {
    await stopCluster(world.sandbox.exec, world.config.pg.bin, 'postgres', job!.result.dataDir, 'immediate');
  }

  const approvalNow = await slack.transcript.waitFor(() => {
    const message = slack.transcript.message(channel, approval.ts);
    return message && /bob/i.test(textOf(message)) ? message : undefined;
  }, 20_000);
  expect(textOf(approvalNow)).not.toContain(`"${ACTIONS.approve}"`);

  // Progress: a status message edited in place, thread replies per step, integrity report, summary.
  const status = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => m.edits.length > 0 && /succeeded|restored|complete/i.test(textOf(m)) && m.ts !== approval.ts && m.ts !== preview.ts), 30_000);
  const thread = await slack.transcript.waitFor(() => {
    const replies = slack.transcript.thread(channel, status.ts);
    return replies.some((m) => /summary/i.test(textOf(m))) ? replies : undefined;
  }, 30_000);
  const all = thread.map(textOf).join('\n');
  for (const stepKind of ['restore', 'replay', 'verify']) expect(all.toLowerCase()).toContain(stepKind);
  expect(all).toMatch(/integrity/i);
  expect(all).toMatch(/RPO/);
  expect(all).toMatch(/RTO/);
  expect(all).toContain('U0BOB');
  expect(all).toContain(job!.result.reachedTime.slice(0, 16).replace('T', ' ').slice(0, 10));
  expect(slack.unknownCalls()).toEqual([]);
});

test('alice runs /recover verify: read-only, no approval asked, the runner checks production and the thread shows the integrity report', async () => {
  const { slack } = world;
  const { rows: jobsBefore } = await world.control.pool.query('SELECT count(*)::int AS n FROM jobs');
  await slack.slashCommand({ user: 'U0ALICE', channel, text: 'verify aiagent_prod' });
  const preview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => /Read-only, changes nothing: job/.test(textOf(m))), 60_000);
  expect(hasButton(preview, ACTIONS.requestApproval)).toBe(false);
  expect(textOf(preview)).toContain('Verify aiagent_prod on production aiagent_prod');

  let job: { id: string; status: string; result: { checked: string; report: { ok: boolean } } } | undefined;
  for (let i = 0; i < 200 && (!job || ['queued', 'running'].includes(job.status)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    job = (await world.control.pool.query(`SELECT j.id, j.status, j.result FROM jobs j JOIN requests r ON r.id = j.request_id WHERE r.command = 'verify' ORDER BY j.created_at DESC LIMIT 1`)).rows[0];
  }
  expect(job?.status).toBe('succeeded');
  expect(job!.result).toMatchObject({ checked: 'production aiagent_prod', report: { ok: true } });
  const { rows: jobsAfter } = await world.control.pool.query('SELECT count(*)::int AS n FROM jobs');
  expect(jobsAfter[0].n).toBe(jobsBefore[0].n + 1);

  const status = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => m.ts > preview.ts && /verify/i.test(textOf(m)) && m.ts !== preview.ts), 30_000);
  const thread = await slack.transcript.waitFor(() => {
    const replies = slack.transcript.thread(channel, status.ts);
    return replies.some((m) => /Summary/.test(textOf(m))) && replies.some((m) => /Integrity report/.test(textOf(m))) ? replies : undefined;
  }, 30_000);
  const all = thread.map(textOf).join('\n');
  expect(all).toContain('Checked:* production aiagent_prod');
  expect(all).toContain('workflows');
  expect(all).not.toContain('Data-loss window');
  expect(slack.unknownCalls()).toEqual([]);
});
