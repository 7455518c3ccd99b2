/**
 * Slash-command ack latency: 50 concurrent, correctly signed `/recover pitr …` commands from
 * 50 people against the real bot (HTTP mode) through the Slack stand-in, with a real control
 * DB behind it. Ack time is measured by the stand-in as Slack would (request sent → HTTP
 * response). Prints percentiles; never asserts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { startControlCluster } from '../src/dev/control-cluster.js';
import { createExec } from '../src/engine/exec.js';
import { createBot } from '../src/slack/index.js';
import { startSlackStandIn } from '../src/slack-standin/index.js';

const CONCURRENT = Number(process.argv[2] ?? 50);
const log = pino({ level: 'silent' });
const root = await mkdtemp(join(tmpdir(), 'rb-ack-'));
const control = await startControlCluster(createExec(log), root);
const users = Array.from({ length: CONCURRENT }, (_, i) => ({ id: `U0USER${i}`, name: `user${i}` }));
const slack = await startSlackStandIn({
  botToken: 'xoxb-bench',
  signingSecret: 'bench-secret',
  users,
  channels: [{ id: 'C0INC', name: 'inc-bench' }],
});
const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: 'bench-secret', SLACK_API_URL: slack.url, SLACK_PORT: '0', LOG_LEVEL: 'silent' });
const bot = createBot({ config, control: control.pool, log, port: 0, host: '127.0.0.1' });
try {
  const { port } = await bot.start();
  slack.setBotUrl(`http://127.0.0.1:${port}/slack/events`);
  // One warm-up command so the first measured request does not pay for lazy initialisation.
  await slack.slashCommand({ user: users[0]!.id, channel: 'C0INC', text: 'help' });
  const results = await Promise.all(
    users.map((user) => slack.slashCommand({ user: user.id, channel: 'C0INC', text: 'pitr 2025-01-15T14:29:59+00:00 --db aiagent_prod' })),
  );
  const failed = results.filter((result) => result.status !== 200 || result.timedOut).length;
  const sorted = results.map((result) => result.ackMs).sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  process.stderr.write(`${CONCURRENT} commands, ${failed} not acknowledged in time; max ${sorted.at(-1)!.toFixed(1)} ms\n`);
  process.stdout.write(`ack_p50_ms=${pct(50).toFixed(1)} ack_p99_ms=${pct(99).toFixed(1)}\n`);
} finally {
  await bot.stop();
  await slack.close();
  await control.stop();
  await rm(root, { recursive: true, force: true });
}
