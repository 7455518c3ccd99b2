/**
 * Slash-command ack latency: 50 concurrent, correctly signed `/recover pitr …` commands from
 * 50 people against the real bot — its own process (`recover bot`, HTTP mode), as in
 * production — through the Slack stand-in, with a real control DB behind it. Ack time is
 * measured by the stand-in as Slack would (request sent → HTTP response). Never asserts.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { execa } from 'execa';
import { pino } from 'pino';
import { startControlCluster } from '../devkit/control-cluster.js';
import { createExec } from '../src/engine/exec.js';
import { freePort } from '../src/engine/local-cluster.js';
import { signedHeaders } from '../devkit/slack-standin/signing.js';
import { startSlackStandIn } from '../devkit/slack-standin/index.js';

const CONCURRENT = Number(process.argv[2] ?? 50);
const log = pino({ level: 'silent' });
const root = await mkdtemp(join(tmpdir(), 'rb-ack-'));
await chmod(root, 0o755); // the postgres user must reach the control cluster's directory
const control = await startControlCluster(createExec(log), root);
const users = Array.from({ length: CONCURRENT }, (_, i) => ({ id: `U0USER${i}`, name: `user${i}` }));
const slack = await startSlackStandIn({ botToken: 'xoxb-bench', signingSecret: 'bench-secret', users, channels: [{ id: 'C0INC', name: 'inc-bench' }] });
const port = await freePort();
const bot = execa(process.execPath, ['bin/recover.mjs', 'bot'], {
  env: { SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: 'bench-secret', SLACK_API_URL: slack.url, SLACK_PORT: String(port), RECOVER_CONTROL_URL: control.url, RECOVER_PRODUCTION_NAME: 'aiagent_prod', LOG_LEVEL: 'error' },
  reject: false,
});
try {
  await new Promise<void>((resolve, reject) => {
    bot.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve());
    void bot.then((result) => reject(new Error(`bot exited: ${result.stderr}`)));
  });
  slack.setBotUrl(`http://127.0.0.1:${port}/slack/events`);
  // Warm-up: the first request pays for lazy initialisation in Bolt and the DB pool.
  for (let i = 0; i < 5; i++) await slack.slashCommand({ user: users[0]!.id, channel: 'C0INC', text: 'help' });
  await new Promise((resolve) => setTimeout(resolve, 1000)); // let the warm-up's follow-up work finish
  // The 50 requests are built and signed first, then sent at once over plain node:http, so
  // the load generator's own work is not counted as the bot's ack time (the stand-in's
  // slashCommand() is meant for tests and costs ~1 ms of this process's CPU per call).
  const text = process.env.ACK_TEXT ?? 'pitr 2025-01-15T14:29:59+00:00 --db aiagent_prod';
  const requests = users.map((user, i) => {
    const body = new URLSearchParams({
      token: 'verification-token-unused', team_id: 'T0STANDIN', team_domain: 'standin', channel_id: 'C0INC', channel_name: 'inc-bench',
      user_id: user.id, user_name: user.name, command: '/recover', text, api_app_id: 'A0RECOVER',
      response_url: `${slack.url.replace(/api\/$/, '')}response/bench-${i}`, trigger_id: slack.issueTriggerId(user.id, 'C0INC'),
    }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), ...signedHeaders('bench-secret', timestamp, body) } };
  });
  const send = (request: (typeof requests)[number]) =>
    new Promise<{ status: number; ackMs: number; timedOut: boolean }>((resolve, reject) => {
      const started = performance.now();
      const req = httpRequest({ host: '127.0.0.1', port, path: '/slack/events', method: 'POST', headers: request.headers, timeout: 3000 }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ackMs: performance.now() - started, timedOut: false }));
      });
      req.on('timeout', () => (req.destroy(), resolve({ status: 0, ackMs: 3000, timedOut: true })));
      req.on('error', reject);
      req.end(request.body);
    });
  const results = await Promise.all(requests.map(send));
  const failed = results.filter((result) => result.status !== 200 || result.timedOut).length;
  const sorted = results.map((result) => result.ackMs).sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  process.stderr.write(`${CONCURRENT} commands, ${failed} not acknowledged in time; max ${sorted.at(-1)!.toFixed(1)} ms\n`);
  process.stdout.write(`ack_p50_ms=${pct(50).toFixed(1)} ack_p99_ms=${pct(99).toFixed(1)}\n`);
} finally {
  bot.kill('SIGTERM');
  await bot;
  await slack.close();
  await control.stop();
  await rm(root, { recursive: true, force: true });
}
