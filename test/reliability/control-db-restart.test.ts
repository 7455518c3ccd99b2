/**
 * The control database restarts under the runner and the bot, the way a managed PostgreSQL's
 * maintenance does it (`pg_ctl restart -m fast`, and `-m immediate`), and is down for a while.
 * Everything is real: `recover runner` is its own process (started as an operator starts it),
 * the bot runs in this process behind the Slack stand-in, and the control cluster is this
 * test's own (never the shared server on 5432). Before the fix the runner exited 1 within
 * milliseconds of the first restart ("Unhandled 'error' event … 57P01"), from its LISTEN
 * connection, and a job in flight then went RUNNER_LOST.
 *
 * Every wait is for a condition (a log line, a row, a server state), never a fixed sleep.
 * Restores are held in WAL replay with pg_wal_replay_pause() while the control DB restarts or
 * is down, so that really happens during the replay; an in-place restore is held in its
 * stop-production hook until the control DB is down, so the next destructive step is due
 * while it is away.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { getCurrentPlan } from '../../src/control/index.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { stopCluster } from '../../src/engine/local-cluster.js';
import { targetClient } from '../../src/engine/pg-client.js';
import { createBot, type RecoverBot } from '../../src/slack/index.js';
import { ACTIONS } from '../../src/slack/views/common.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { startControlCluster, type ControlCluster } from '../../devkit/control-cluster.js';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { startSlackStandIn, Transcript, type SlackStandIn, type TranscriptMessage } from '../../devkit/slack-standin/index.js';
import { INCIDENT_CHANNEL, PEOPLE, TEAM_ID } from '../../devkit/world.js';
import { runCli } from '../support/run-cli.js';
import { approvedPitrJob, stepRunning as stepRunningIn } from '../support/runner-jobs.js';
import { until as waitUntil } from '../support/until.js';

const DEADLINE_MS = 180_000;
const channel = INCIDENT_CHANNEL.id;
const APPROVERS = JSON.stringify({ [TEAM_ID]: { users: ['U0BOB'], usergroups: [] } });
const hasButton = (message: TranscriptMessage, actionId: string) => JSON.stringify(message.blocks ?? []).includes(`"${actionId}"`);

/** Log lines of a process (JSON lines from pino), and a wait for the n-th one matching. */
class Lines {
  readonly lines: string[] = [];
  private readonly waiters = new Set<() => void>();
  /** Set when the process is gone: waiting for more of its lines fails at once. */
  private gone: string | undefined;

  add(text: string): void {
    this.lines.push(...text.split('\n').filter((line) => line.trim() !== ''));
    for (const wake of this.waiters) wake();
  }

  end(reason: string): void {
    this.gone = reason;
    for (const wake of this.waiters) wake();
  }

  count(pattern: RegExp): number {
    return this.lines.filter((line) => pattern.test(line)).length;
  }

  waitFor(pattern: RegExp, count = 1, timeoutMs = DEADLINE_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.count(pattern) >= count;
        if (!found && this.gone === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        if (found) resolve();
        else reject(new Error(`${this.gone} before a ${count}th line matching ${pattern}; last lines:\n${this.lines.slice(-30).join('\n')}`));
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${count}th line matching ${pattern} within ${timeoutMs} ms; last lines:\n${this.lines.slice(-30).join('\n')}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

/** until() with this file's deadline. */
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = DEADLINE_MS): Promise<T> => waitUntil(what, probe, timeoutMs);

let sandbox: Sandbox;
let control: ControlCluster;
let slack: SlackStandIn;
let bot: RecoverBot | undefined;
let runner: ChildProcess | undefined;
let runnerExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
const runnerLog = new Lines();
const botLog = new Lines();
let safePoint: Date;
let goFile: string;
const cleanups: (() => Promise<unknown>)[] = [];

function startRunner(env: Record<string, string>): ChildProcess {
  // `recover runner` exactly as an operator starts it, the bundled CLI (built by `npm run build`), with only this environment.
  const child = spawn(process.execPath, ['bin/recover.mjs', 'runner'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => runnerLog.add(chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => runnerLog.add(chunk.toString('utf8')));
  child.on('exit', (code, signal) => {
    runnerExit = { code, signal };
    runnerLog.end(`recover runner exited (code ${code}, signal ${signal})`);
  });
  return child;
}

async function stopRunner(child: ChildProcess): Promise<void> {
  if (runnerExit) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  // Cleanup only: a runner that does not stop on SIGTERM is killed so the test can clean up.
  const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(kill);
}

beforeAll(async () => {
  sandbox = await startSandbox();
  cleanups.push(() => sandbox.cleanup());
  control = await startControlCluster(sandbox.exec, sandbox.root);
  cleanups.push(() => control.stop());

  // Production: a base backup, then enough WAL that replaying it takes a moment (the test pauses it).
  await sandbox.query('CREATE DATABASE aiagent_prod');
  await sandbox.query(
    `CREATE TABLE workflows (id int PRIMARY KEY, user_id int NOT NULL);
     INSERT INTO workflows SELECT g, 12300 + g % 100 FROM generate_series(1, 2000) g;`,
    [],
    'aiagent_prod',
  );
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query(`CREATE TABLE filler (id int, v text); INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 1500000) g`, [], 'aiagent_prod');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  safePoint = new Date(Math.floor(Date.now() / 1000) * 1000);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await sandbox.query(`DELETE FROM workflows WHERE user_id = 12345`, [], 'aiagent_prod');
  await sandbox.switchAndArchive();

  slack = await startSlackStandIn({
    botToken: 'xoxb-restart-token',
    signingSecret: 'restart-signing-secret',
    teamId: TEAM_ID,
    users: PEOPLE,
    usergroups: {},
    channels: [INCIDENT_CHANNEL],
  });
  cleanups.push(() => slack.close());
  const botConfig = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-restart-token',
    SLACK_SIGNING_SECRET: 'restart-signing-secret',
    SLACK_API_URL: slack.url,
    SLACK_PORT: '0',
    RECOVER_CONTROL_URL: control.url,
    RECOVER_ALLOWED_CHANNELS: 'inc-*',
    RECOVER_APPROVERS: APPROVERS,
    RECOVER_PRODUCTION_NAME: 'aiagent_prod',
    LOG_LEVEL: 'info',
  });
  const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (botLog.add(chunk.toString('utf8')), done()) }));
  // Polling is off (10 minutes): plans and job progress reach Slack only through LISTEN, or the catch-up after a reconnect.
  bot = createBot({ config: botConfig, control: control.pool, log, port: 0, host: '127.0.0.1', pollIntervalMs: 600_000 });
  const { port } = await bot.start();
  cleanups.push(() => bot!.stop());
  slack.setBotUrl(`http://127.0.0.1:${port}/slack/events`);

  // In place, production is stopped by a hook that waits for the test's word (a file), so the
  // test can take the control DB away right before the next destructive step.
  goFile = join(sandbox.root, 'stop-production-now');
  const pgCtl = join(sandbox.config.pg.bin, 'pg_ctl');
  const { dataDir: prodData, logFile: prodLog } = sandbox.production;
  const stopHook = ['sh', '-c', `while [ ! -e '${goFile}' ]; do sleep 0.05; done; exec runuser -u postgres -- '${pgCtl}' stop -D '${prodData}' -m fast -w -t 120 -s`];
  const startHook = ['runuser', '-u', 'postgres', '--', pgCtl, 'start', '-D', prodData, '-l', prodLog, '-w', '-t', '600', '-s'];
  runner = startRunner(
    sandbox.cliEnv({
      RECOVER_CONTROL_URL: control.url,
      RECOVER_APPROVERS: APPROVERS,
      RECOVER_RUNNER_ID: 'runner-restart',
      // Longer than any outage here on a loaded machine: a destructive step waits at most this long.
      RECOVER_LEASE_SECONDS: '300',
      RECOVER_SOURCE_DATA_DIR: prodData,
      RECOVER_SOURCE_STOP: 'hook',
      RECOVER_SOURCE_STOP_COMMAND: JSON.stringify(stopHook),
      RECOVER_SOURCE_START_COMMAND: JSON.stringify(startHook),
      LOG_LEVEL: 'info',
    }),
  );
  cleanups.push(() => stopRunner(runner!));
  await runnerLog.waitFor(/"msg":"runner started"/);
}, 300_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

const RECONNECTED = /control DB listener reconnected/;
let reconnects = 0;

/** Restarts the control cluster and waits until both processes listen again. */
async function restartControl(mode: 'fast' | 'immediate'): Promise<void> {
  await control.restart(mode);
  reconnects += 1;
  await runnerLog.waitFor(RECONNECTED, reconnects);
  await botLog.waitFor(RECONNECTED, reconnects);
}

interface Server {
  socketDir: string;
  port: number;
}

/** One statement on a server the job restores (a fresh connection each time: it may be restarting). */
async function onServer<T>(server: Server, sql: string): Promise<T> {
  const client = targetClient({ host: server.socketDir, port: server.port, user: 'postgres', database: 'postgres' });
  try {
    await client.connect();
    return (await client.query(sql)).rows[0] as T;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const stepRunning = (jobId: string, kind: string) => stepRunningIn(control.pool, jobId, kind, DEADLINE_MS);

/** Holds WAL replay on `server` (pg_wal_replay_pause), so that what follows happens during it. */
async function pauseReplay(server: Server): Promise<void> {
  const state = await until('replay to pause', async () => {
    const row = await onServer<{ recovering: boolean; state: string }>(server, `SELECT pg_is_in_recovery() AS recovering, CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() END AS state`);
    if (!row.recovering) return 'finished';
    if (row.state === 'paused') return 'paused';
    await onServer(server, 'SELECT pg_wal_replay_pause()');
    return undefined;
  });
  expect(state, 'replay ended before the test could pause it: give production more WAL').toBe('paused');
}

async function resumeReplayUntilPromoted(server: Server): Promise<void> {
  await onServer(server, 'SELECT pg_wal_replay_resume()');
  await until('the server to promote', async () => ((await onServer<{ recovering: boolean }>(server, 'SELECT pg_is_in_recovery() AS recovering')).recovering ? undefined : true));
}

async function jobEnded(jobId: string): Promise<{ status: string; error: unknown }> {
  return until('the job to end', async () => {
    const { rows } = await control.pool.query<{ status: string; error: unknown }>('SELECT status, error FROM jobs WHERE id = $1', [jobId]);
    return rows[0] && !['queued', 'running'].includes(rows[0].status) ? rows[0] : undefined;
  });
}

/** Each step started and finished once; no event twice; the runner's numbers have no gap; audited once each; the chain verifies. */
async function expectEachRecordOnce(jobId: string, steps: readonly string[]): Promise<void> {
  const { rows: events } = await control.pool.query<{ type: string; step: string | null; seq: number | null; payload: unknown }>(
    `SELECT type, payload->>'step' AS step, seq, payload FROM events WHERE job_id = $1 ORDER BY id`,
    [jobId],
  );
  const count = (type: string, step?: string) => events.filter((e) => e.type === type && (step === undefined || e.step === step)).length;
  for (const step of steps) expect([step, count('step.started', step), count('step.finished', step)]).toEqual([step, 1, 1]);
  expect(count('job.succeeded')).toBe(1);
  const payloads = events.map((e) => JSON.stringify(e.payload));
  expect(new Set(payloads).size).toBe(payloads.length);
  const seqs = events.flatMap((e) => (e.seq === null ? [] : [e.seq]));
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  const { rows: checkpoints } = await control.pool.query<{ kind: string; status: string }>('SELECT kind, status FROM step_checkpoints WHERE job_id = $1 ORDER BY step_index', [jobId]);
  expect(checkpoints).toEqual(steps.map((kind) => ({ kind, status: 'succeeded' })));

  const { rows: audit } = await control.pool.query<{ action: string; n: number }>(
    `SELECT action, count(*)::int AS n FROM audit_log WHERE subject = $1 GROUP BY action ORDER BY action`,
    [`job:${jobId}`],
  );
  expect(audit).toEqual([
    { action: 'job.authorized', n: 1 },
    { action: 'job.claimed', n: 1 },
    { action: 'job.enqueued', n: 1 },
    { action: 'job.succeeded', n: 1 },
  ]);
  const verified = await runCli(['audit', 'verify'], { RECOVER_CONTROL_URL: control.url, LOG_LEVEL: 'silent' });
  expect([verified.code, verified.stdout]).toEqual([0, expect.stringContaining('hash chain verified') as unknown]);
}

test('idle: the control cluster restarted fast and immediate; the runner process stays up and both processes listen again', { timeout: 300_000 }, async () => {
  await restartControl('fast');
  await restartControl('immediate');
  expect(runnerExit).toBeUndefined();
  expect(runnerLog.count(/Unhandled|uncaught/i)).toBe(0);
});

test('approval pending across a restart, then a side PITR replaying across a restart and an outage: the job succeeds, each record is written once, the audit chain holds', { timeout: 600_000 }, async () => {
  const at = safePoint.toISOString().replace('.000Z', '+00:00');
  await slack.slashCommand({ user: 'U0ALICE', channel, text: `pitr ${at} --db aiagent_prod` });
  // Only NOTIFY brings the plan to the bot (its poll is off): its LISTEN came back after the restarts above.
  const preview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.requestApproval)), DEADLINE_MS);
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
  const approval = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.approve)), DEADLINE_MS);

  // The approval is pending while the control DB restarts.
  await restartControl('fast');
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: approval.ts, actionId: ACTIONS.approve });

  const job = await until('the job to replay WAL', async () => {
    const { rows } = await control.pool.query<{ id: string; request_id: string }>(
      `SELECT j.id, j.request_id FROM jobs j JOIN step_checkpoints s ON s.job_id = j.id WHERE s.kind = 'replay-wal' AND s.status = 'running'`,
    );
    return rows[0];
  });
  const plan = await getCurrentPlan(control.pool, job.request_id);
  const instance = (plan!.plan.params as { instanceName: string }).instanceName;
  const dataDir = join(sandbox.config.restoreRoot, instance, 'data');
  const side = {
    socketDir: join(sandbox.config.restoreRoot, instance, 'run'),
    port: await until('the side instance to listen', async () => Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[3]) || undefined),
  };
  try {
    await pauseReplay(side);
    await restartControl('fast');
    expect(runnerExit).toBeUndefined();

    // Now the control DB goes away (immediate stop) and stays away while the replay ends.
    const unreachable = runnerLog.count(/control DB unreachable; will record/);
    await control.stopServer('immediate');
    await resumeReplayUntilPromoted(side);
    // The runner went on without the control DB, and its records waited.
    await runnerLog.waitFor(/control DB unreachable; will record/, unreachable + 1);
    expect(runnerExit).toBeUndefined();
    await control.startServer();

    expect(await jobEnded(job.id)).toEqual({ status: 'succeeded', error: null });
    expect(runnerExit).toBeUndefined();
    await expectEachRecordOnce(job.id, plan!.plan.steps.map((s) => s.kind));

    // The channel got the whole story once the bot caught up after its own reconnect.
    const summary = await slack.transcript.waitFor(() => {
      for (const message of slack.transcript.messages(channel)) {
        const replies = slack.transcript.thread(channel, message.ts);
        if (replies.some((m) => /Summary: \/recover pitr/.test(Transcript.textOf(m)))) return replies;
      }
      return undefined;
    }, DEADLINE_MS);
    expect(summary.map((m) => Transcript.textOf(m)).join('\n')).toMatch(/integrity/i);
  } finally {
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', dataDir, 'immediate').catch(() => undefined);
  }
  expect(runnerLog.count(/Unhandled|uncaught/i)).toBe(0);
});

// Last: it restores production itself.
test('in place: the control DB is away when the next destructive step is due, and restarts (immediate) during the replay into production: the step waits for it, the job succeeds, each record is written once', { timeout: 600_000 }, async () => {
  const { jobId, plan } = await approvedPitrJob(control.pool, { approvers: APPROVERS, target: safePoint, words: ['--to', 'in-place'], risk: 'destructive', channelId: channel, timeoutMs: DEADLINE_MS });
  const job = { id: jobId };

  // Production is being stopped (the hook waits for the word); the control DB goes away; then production stops.
  await stepRunning(job.id, 'stop-production');
  const fenced = /will confirm the lease and approvals before step move-aside/;
  const waited = runnerLog.count(fenced);
  await control.stopServer('immediate');
  await writeFile(goFile, '');
  // The next destructive step waits for the control DB to confirm the lease: nothing is moved meanwhile.
  await runnerLog.waitFor(fenced, waited + 1);
  expect((await readdir(dirname(sandbox.production.dataDir))).filter((name) => name.includes('before-pitr'))).toEqual([]);
  await control.startServer();

  await stepRunning(job.id, 'replay-wal');
  const production = { socketDir: sandbox.production.socketDir, port: sandbox.production.port };
  await pauseReplay(production);
  await restartControl('immediate');
  await resumeReplayUntilPromoted(production);

  expect(await jobEnded(job.id)).toEqual({ status: 'succeeded', error: null });
  expect(runnerExit).toBeUndefined();
  await expectEachRecordOnce(job.id, plan.plan.steps.map((s) => s.kind));
  // Production holds the safe point's data: the rows deleted after it are back.
  const [restored] = await sandbox.query<{ n: number }>(`SELECT count(*)::int AS n FROM workflows WHERE user_id = 12345`, [], 'aiagent_prod');
  expect(restored?.n).toBe(20);
  expect(runnerLog.count(/Unhandled|uncaught/i)).toBe(0);
});
