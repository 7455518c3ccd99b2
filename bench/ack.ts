/**
 * Slash-command ack latency, cold and warm, in one run. The real bot runs in its own process
 * (`recover bot`, HTTP mode), as in production, against the Slack stand-in and a real control
 * DB. As soon as the bot prints its "listening" line, 50 people send correctly signed
 * commands at once (cold: the first requests the process ever sees); once the follow-up work
 * those caused (posts, replies, DB writes) has settled, 50 more (warm). The mix is realistic
 * for an incident: mostly `/recover pitr <time> --db …`, some `help` and `status`.
 *
 * Ack time is measured as Slack would (request sent → HTTP response), from a worker thread of
 * its own: the stand-in answering the bot's Web API calls runs on this process's main thread
 * and must not delay the clock that times the bot's acks. Requests are built and signed
 * before being sent. The response_url in them is not one the stand-in issued, so `help` and
 * `status` answers fall back to chat.postEphemeral (more follow-up work, not less).
 *
 * Prints both distributions on stderr; the last stdout line is
 * `ack_cold_p99_ms=… ack_warm_p50_ms=… ack_warm_p99_ms=…`. Never asserts.
 *
 *   npm run bench:ack [-- CONCURRENT]        ACK_TEXT='…' replaces the mix with one command text;
 *                                            ACK_BOT_CLI=path/to/recover.mjs runs another build (A/B)
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { execa } from 'execa';
import { pino } from 'pino';
import { startControlCluster } from '../devkit/control-cluster.js';
import { signedHeaders } from '../devkit/slack-standin/signing.js';
import { startSlackStandIn, type SlackStandIn } from '../devkit/slack-standin/index.js';
import { createExec } from '../src/engine/exec.js';
import { freePort } from '../src/engine/local-cluster.js';

const CONCURRENT = Number(process.argv[2] ?? 50);
const SECRET = 'bench-secret';
const MIX = ['pitr 2025-01-15T14:29:59+00:00 --db aiagent_prod', 'pitr 2025-01-15T14:29:59+00:00 --db aiagent_prod', 'help', 'pitr 2025-01-15T14:30:00Z', 'status'];

interface Request { body: string; headers: Record<string, string> }
interface Result { status: number; ackMs: number; timedOut: boolean }

/** Sends every request at once and times each one; runs in a worker thread (plain JS). */
const SENDER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { readFileSync } = require('node:fs');
const { port, requests, pid } = workerData;
// The bot's main thread from /proc/PID/schedstat: [ms on a CPU, ms runnable but waiting for one]; [-1, -1] elsewhere.
const sched = () => { try { const f = readFileSync('/proc/' + pid + '/schedstat', 'utf8').split(' '); return [Number(f[0]) / 1e6, Number(f[1]) / 1e6]; } catch { return [-1, -1]; } };
const before = sched();
let atLastAck = before;
const send = (request) => new Promise((resolve) => {
  const started = performance.now();
  const req = http.request({ host: '127.0.0.1', port, path: '/slack/events', method: 'POST', headers: request.headers, timeout: 3000 }, (res) => {
    res.resume();
    res.on('end', () => { atLastAck = sched(); resolve({ status: res.statusCode, ackMs: performance.now() - started, timedOut: false }); });
  });
  req.on('timeout', () => { req.destroy(); resolve({ status: 0, ackMs: 3000, timedOut: true }); });
  req.on('error', () => resolve({ status: 0, ackMs: performance.now() - started, timedOut: false }));
  req.end(request.body);
});
Promise.all(requests.map(send)).then((results) => parentPort.postMessage({ results, before, toLastAck: [atLastAck[0] - before[0], atLastAck[1] - before[1]] }));
`;

/** Sched: the bot's main thread, [ms on a CPU, ms waiting for a CPU] (Linux /proc; -1 elsewhere). */
type Sched = [number, number];
interface Batch { results: Result[]; before: Sched; toLastAck: Sched }

function sendAtOnce(port: number, pid: number, requests: Request[]): Promise<Batch> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SENDER, { eval: true, workerData: { port, pid, requests } });
    worker.once('message', (batch: Batch) => resolve(batch));
    worker.once('error', reject);
  });
}

function buildRequests(slack: SlackStandIn, batch: string): Request[] {
  return Array.from({ length: CONCURRENT }, (_, i) => {
    const user = `U0USER${i}`;
    const body = new URLSearchParams({
      token: 'verification-token-unused', team_id: 'T0STANDIN', team_domain: 'standin', channel_id: 'C0INC', channel_name: 'inc-bench',
      user_id: user, user_name: `user${i}`, command: '/recover', text: process.env.ACK_TEXT ?? MIX[i % MIX.length]!, api_app_id: 'A0RECOVER',
      response_url: `${slack.url.replace(/api\/$/, '')}response/bench-${batch}-${i}`, trigger_id: slack.issueTriggerId(user, 'C0INC'),
    }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), ...signedHeaders(SECRET, timestamp, body) } };
  });
}

/**
 * Waits for a batch's follow-up work to be over: the stand-in has seen at least `expected`
 * Web API calls and response_url uses, and for `quietMs` nothing new arrived and the bot's
 * main thread used under 5 ms of CPU (at most `capMs`). Returns the activity count.
 */
async function settle(slack: SlackStandIn, pid: number, expected: number, quietMs = 500, capMs = 30_000): Promise<number> {
  const activity = () => slack.calls.length + slack.responseUrlUses.length;
  const started = Date.now();
  let mark = { at: Date.now(), activity: activity(), cpu: botSched(pid)[0] };
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = { at: Date.now(), activity: activity(), cpu: botSched(pid)[0] };
    if (now.activity !== mark.activity || now.cpu - mark.cpu >= 5 || now.activity < expected) mark = now;
    else if (now.at - mark.at >= quietMs) return now.activity;
    if (now.at - started >= capMs) return now.activity;
  }
}

interface Summary { p50: number; p90: number; p99: number; max: number; failed: number }

/** The bot's main thread so far: ms on a CPU and ms runnable but waiting for one (/proc/PID/schedstat). */
function botSched(pid: number): Sched {
  try {
    const fields = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
    return [Number(fields[0]) / 1e6, Number(fields[1]) / 1e6];
  } catch {
    return [-1, -1];
  }
}

/**
 * Prints one batch. Besides the ack times, what the bot's main thread did until the batch's
 * last ack and until its follow-up work settled: on a shared, noisy machine wall-clock acks
 * swing with the load; CPU time shows how much work the bot itself did before answering, and
 * the wait for a CPU how much of the ack time the machine's other processes took.
 */
function summarize(label: string, batch: Batch, settled: Sched): Summary {
  const { results } = batch;
  const sorted = results.map((result) => result.ackMs).sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  const summary = { p50: pct(50), p90: pct(90), p99: pct(99), max: sorted.at(-1)!, failed: results.filter((r) => r.status !== 200 || r.timedOut).length };
  const [cpu, wait] = batch.toLastAck;
  const sched = batch.before[0] < 0 ? '' : `\n  bot main thread until the last ack: ${cpu.toFixed(1)} ms on a CPU, ${wait.toFixed(1)} ms waiting for one; until settled: ${(settled[0] - batch.before[0]).toFixed(1)} ms on a CPU`;
  process.stderr.write(
    `${label}: ${results.length} commands, ${summary.failed} not acknowledged with 200 in time; ` +
      `p50 ${summary.p50.toFixed(1)} ms, p90 ${summary.p90.toFixed(1)} ms, p99 ${summary.p99.toFixed(1)} ms, max ${summary.max.toFixed(1)} ms${sched}\n`,
  );
  return summary;
}

const log = pino({ level: 'silent' });
const root = await mkdtemp(join(tmpdir(), 'rb-ack-'));
await chmod(root, 0o755); // the postgres user must reach the control cluster's directory
const control = await startControlCluster(createExec(log), root);
const users = Array.from({ length: CONCURRENT }, (_, i) => ({ id: `U0USER${i}`, name: `user${i}` }));
const slack = await startSlackStandIn({ botToken: 'xoxb-bench', signingSecret: SECRET, users, channels: [{ id: 'C0INC', name: 'inc-bench' }] });
const port = await freePort();
const started = performance.now();
const bot = execa(process.execPath, [process.env.ACK_BOT_CLI ?? 'bin/recover.mjs', 'bot'], {
  env: { SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.url, SLACK_PORT: String(port), RECOVER_CONTROL_URL: control.url, RECOVER_PRODUCTION_NAME: 'aiagent_prod', LOG_LEVEL: 'error' },
  reject: false,
});
try {
  await new Promise<void>((resolve, reject) => {
    bot.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve());
    void bot.then((result) => reject(new Error(`bot exited: ${result.stderr}`)));
  });
  const readyMs = performance.now() - started;
  slack.setBotUrl(`http://127.0.0.1:${port}/slack/events`);
  const pid = bot.pid!;
  const startCpu = botSched(pid)[0];
  // Every command is answered with one Slack call (a post, or an ephemeral reply).
  const beforeCold = slack.calls.length + slack.responseUrlUses.length;
  const coldBatch = await sendAtOnce(port, pid, buildRequests(slack, 'cold'));
  const afterCold = await settle(slack, pid, beforeCold + CONCURRENT);
  const cold = summarize('cold (first requests after "listening")', coldBatch, botSched(pid));
  const warmBatch = await sendAtOnce(port, pid, buildRequests(slack, 'warm'));
  const afterWarm = await settle(slack, pid, afterCold + CONCURRENT);
  const warm = summarize('warm (after the cold batch settled)', warmBatch, botSched(pid));
  process.stderr.write(
    `bot start to "listening": ${readyMs.toFixed(0)} ms (main thread ${startCpu.toFixed(0)} ms on a CPU); Slack calls and replies seen: ${afterCold} after cold, ${afterWarm} after warm; ` +
      `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs\n`,
  );
  process.stdout.write(`ack_cold_p99_ms=${cold.p99.toFixed(1)} ack_warm_p50_ms=${warm.p50.toFixed(1)} ack_warm_p99_ms=${warm.p99.toFixed(1)}\n`);
} finally {
  bot.kill('SIGTERM');
  await bot;
  await slack.close();
  await control.stop();
  await rm(root, { recursive: true, force: true });
}
