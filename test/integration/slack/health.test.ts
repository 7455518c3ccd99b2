/**
 * GET /healthz and /readyz (src/util/health.ts), what the image's HEALTHCHECK and a
 * Kubernetes probe ask: the bundled `recover bot` (dist/, built by npm's pretest) answers them
 * on SLACK_PORT beside /slack/events; /readyz turns 503 with a short reason while its control
 * DB refuses connections and 200 again after, /healthz stays 200 throughout; the bodies hold
 * no secret. In Socket Mode (no HTTP server of its own) the bot answers on RECOVER_HEALTH_PORT.
 * The harness's control DB is a database on the local server (no cluster of its own).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import pg from 'pg';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimNextJob, heartbeat } from '../../../src/control/index.js';
import { freePort } from '../../../src/engine/local-cluster.js';
import { runnerReadiness } from '../../../src/runner/health.js';
import { APPLICATION_NAME } from '../../../src/engine/pg-client.js';
import { until } from '../../support/until.js';
import { approvedJob, INCIDENT, PRIVATE_INCIDENT, startHarness, textOf, type Harness } from './harness.js';

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(options);
  cleanups.push(() => h.close());
  return h;
}

async function get(port: number, path: string): Promise<{ status: number; body: Record<string, string>; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Record<string, string>, text };
}

/** GET /metrics: Prometheus text. */
async function scrape(port: number): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

/** The value of one series (name and labels as Prometheus prints them). */
const valueOf = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

/** As the local server's superuser, on the maintenance database. */
async function admin(sql: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** `recover <command>` from the bundle, as its own process, stopped with SIGTERM (exit 0) at the end; its output so far. */
function bundled(command: string, env: Record<string, string>): () => string {
  const child: ResultPromise = execa(process.execPath, ['bin/recover.mjs', command], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, extendEnv: false, reject: false });
  cleanups.push(async () => {
    child.kill('SIGTERM');
    const { exitCode } = await child;
    expect(exitCode).toBe(0);
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return () => output;
}

/** `recover bot` over HTTP on the harness's Slack stand-in and control DB; resolves with its port once it says it listens. */
async function bundledBot(h: Harness, database: string): Promise<number> {
  const output = bundled('bot', {
    SLACK_BOT_TOKEN: h.config.slack.botToken!,
    SLACK_SIGNING_SECRET: h.config.slack.signingSecret!,
    SLACK_API_URL: h.slack.url,
    SLACK_PORT: '0',
    RECOVER_CONTROL_URL: `postgres://postgres:not-a-real-password@127.0.0.1:5432/${database}`,
    RECOVER_PRODUCTION_NAME: 'aiagent_prod',
  });
  return until('recover bot to listen', async () => {
    const port = /listening on port (\d+)/.exec(output())?.[1];
    return port ? Number(port) : undefined;
  }, 60_000).catch((error: unknown) => Promise.reject(new Error(`${String(error)}\n${output()}`)));
}

describe('health endpoints', () => {
  it('the bundled bot answers /healthz and /readyz on SLACK_PORT; /readyz is 503 while the control DB refuses connections', async () => {
    const h = await harness();
    const database = h.pool.options.database!;
    const port = await bundledBot(h, database);

    expect(await get(port, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get(port, '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect((await fetch(`http://127.0.0.1:${port}/readyz`, { method: 'POST' })).status).toBe(404);
    const metrics = await scrape(port);
    expect(metrics.status).toBe(200);
    expect(valueOf(metrics.text, 'recover_control_db_up{process="bot"}')).toBe(1);

    // The control DB takes no new connection, and the bot's are ended.
    cleanups.push(() => admin(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`));
    await admin(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
    await admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [database, APPLICATION_NAME]);
    const down = await until('/readyz to say not ready', async () => {
      const answer = await get(port, '/readyz');
      return answer.status === 503 ? answer : undefined;
    }, 30_000);
    expect(down.body.status).toBe('not ready');
    expect(down.body.reason).toMatch(/^control DB (unreachable \([\w-]+\)|did not answer within \d+ ms)$/);
    for (const secret of ['not-a-real-password', database, '127.0.0.1', h.config.slack.botToken!, h.config.slack.signingSecret!]) expect(down.text).not.toContain(secret);
    // Alive all the same: a container is not restarted for a control-DB outage.
    expect(await get(port, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });

    await admin(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
    await until('/readyz to say ready again', async () => ((await get(port, '/readyz')).status === 200 ? true : undefined), 30_000);
  });

  it('in Socket Mode the bot answers them on RECOVER_HEALTH_PORT', async () => {
    const healthPort = await freePort();
    await harness({ socketMode: true, env: { RECOVER_HEALTH_PORT: String(healthPort) } });
    expect(await get(healthPort, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get(healthPort, '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect((await fetch(`http://127.0.0.1:${healthPort}/slack/events`, { method: 'POST' })).status).toBe(404);
  });

  it('`recover runner` answers them on RECOVER_HEALTH_PORT once started', async () => {
    const h = await harness();
    const storage = await mkdtemp(join(tmpdir(), 'health-runner-'));
    cleanups.push(() => rm(storage, { recursive: true, force: true }));
    const port = await freePort();
    const output = bundled('runner', {
      RECOVER_CONTROL_URL: `postgres://postgres@127.0.0.1:5432/${h.pool.options.database!}`,
      RECOVER_STORAGE_DRIVER: 'local',
      RECOVER_STORAGE_LOCAL_DIR: storage,
      RECOVER_PRODUCTION_NAME: 'aiagent_prod',
      RECOVER_POOL: 'health-check', // plans and claims nothing of the harness's
      RECOVER_HEALTH_PORT: String(port),
    });
    await until('the runner to be ready', async () => ((await get(port, '/readyz')).status === 200 ? true : undefined), 60_000).catch((error: unknown) => Promise.reject(new Error(`${String(error)}\n${output()}`)));
    expect(await get(port, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const metrics = await scrape(port);
    expect(metrics).toMatchObject({ status: 200, type: expect.stringMatching(/^text\/plain; version=0\.0\.4/) });
    expect(valueOf(metrics.text, 'recover_control_db_up{process="runner"}')).toBe(1);
    expect(metrics.text).toContain('# TYPE recover_jobs gauge');
  });

  it('the bot\'s /metrics on RECOVER_HEALTH_PORT: jobs by command and state, step durations from job events, throughput, approvals waiting, RPO exposure, drills, the Slack counters', async () => {
    const healthPort = await freePort();
    const h = await harness({ env: { RECOVER_HEALTH_PORT: String(healthPort) } });
    const { job, statusTs } = await approvedJob(h);
    await h.runner.claim();
    await h.runner.step(job.id, 0, { kind: 'restore-base-backup', title: 'Restore base backup', seconds: 42 });
    await h.slack.transcript.waitFor(() => h.slack.transcript.thread(INCIDENT, statusTs).find((m) => /Restore base backup/.test(textOf(m))));
    await h.pool.query("INSERT INTO measured_rates (pool, job_id, phase, bytes, seconds, bytes_per_second, startup_seconds, tail_seconds) VALUES ('default', $1, 'replay-wal', 1000, 10, 100, 0, 0)", [job.id]);
    await h.pool.query("INSERT INTO rpo_alerts (pool, production, state, exposure_seconds) VALUES ('default', 'aiagent_prod', 'exposed', 1234)");
    await h.pool.query("INSERT INTO restore_drills (pool, trigger, requested_at, ok, rto_seconds) VALUES ('default', 'schedule', now() - interval '1 hour', true, 654.5)");
    // A private channel's name is asked of Slack (conversations.info): its first answer is a 429, waited out and retried.
    h.slack.rateLimit('conversations.info', { count: 1, retryAfterSeconds: 0 });
    await h.slack.slashCommand({ user: 'U0ALICE', channel: PRIVATE_INCIDENT, text: 'help' });
    await h.slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'pitr 2025-01-15T14:00:00+00:00' });
    const waiting = await h.runner.waitForRequest(2);
    await h.pool.query('UPDATE requests SET approval_requested_at = now() WHERE id = $1', [waiting.id]);

    const { status, text } = await until('the step to be counted', async () => {
      const answer = await scrape(healthPort);
      return valueOf(answer.text, 'recover_step_duration_seconds_count{process="bot",step="restore-base-backup"}') === 1 ? answer : undefined;
    }, 10_000);
    expect(status).toBe(200);
    expect(valueOf(text, 'recover_step_duration_seconds_sum{process="bot",step="restore-base-backup"}')).toBe(42);
    expect(valueOf(text, 'recover_jobs{command="pitr",state="running",process="bot"}')).toBe(1);
    expect(valueOf(text, 'recover_approvals_waiting{command="pitr",process="bot"}')).toBe(1);
    expect(valueOf(text, 'recover_throughput_bytes_per_second{pool="default",phase="replay-wal",process="bot"}')).toBe(100);
    expect(valueOf(text, 'recover_rpo_exposure_seconds{pool="default",production="aiagent_prod",process="bot"}')).toBe(1234);
    expect(valueOf(text, 'recover_rpo_state{pool="default",production="aiagent_prod",state="exposed",process="bot"}')).toBe(1);
    expect(valueOf(text, 'recover_control_db_up{process="bot"}')).toBe(1);
    expect(valueOf(text, 'recover_drill_rto_seconds{pool="default",process="bot"}')).toBe(654.5);
    expect(valueOf(text, 'recover_drill_last_success{pool="default",process="bot"}')).toBe(1);
    const slack = await until('the 429 and its retry to be counted', async () => {
      const answer = (await scrape(healthPort)).text;
      return valueOf(answer, 'recover_slack_api_retries_total{method="conversations.info",reason="rate_limited",process="bot"}') === 1 ? answer : undefined;
    }, 10_000);
    expect(valueOf(slack, 'recover_slack_api_rate_limited_total{method="conversations.info",process="bot"}')).toBe(1);
    for (const secret of [h.config.slack.botToken!, h.config.slack.signingSecret!]) expect(text).not.toContain(secret);
  });

  it('a runner is not ready while a job it holds has not renewed its lease for half of it', async () => {
    const h = await harness();
    const { job } = await approvedJob(h);
    const ref = { jobId: job.id, runnerId: 'runner-health', leaseSeconds: 60 };
    expect((await claimNextJob(h.pool, { runnerId: ref.runnerId, poolName: 'default', leaseSeconds: 60 }))?.id).toBe(job.id);
    let running = true;
    const probe = runnerReadiness(h.pool, ref.runnerId, () => running);
    expect(await probe()).toEqual({ ready: true });
    // The silence is made by moving the last heartbeat back (the lease not run out).
    await h.pool.query(`UPDATE jobs SET heartbeat_at = now() - interval '40 seconds', lease_expires_at = now() + interval '20 seconds' WHERE id = $1`, [job.id]);
    expect(await probe()).toEqual({ ready: false, reason: expect.stringMatching(/^job lease not renewed for 4\d s \(lease 60 s\)$/) });
    expect(await runnerReadiness(h.pool, 'another-runner', () => true)()).toEqual({ ready: true });
    await heartbeat(h.pool, ref);
    expect(await probe()).toEqual({ ready: true });
    running = false;
    expect(await probe()).toEqual({ ready: false, reason: 'not running' });
  });
});
