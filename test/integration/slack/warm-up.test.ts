/**
 * Start-up warm-up (src/slack/warm-up.ts): the bot reports ready only after its control-DB
 * pool holds its connections open and its Slack token was checked, the warm-up leaves no
 * trace (no request, no seen key, no audit entry, no Slack call but auth.test), and a
 * control DB it cannot reach or a token Slack refuses stops the start with a clear error
 * instead of a bot that says it is listening. Real Bolt, the Slack stand-in, PostgreSQL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { loadConfig } from '../../../src/config.js';
import { freePort } from '../../../src/engine/local-cluster.js';
import { createPool } from '../../../src/engine/pg-client.js';
import { RecoverError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { createBot, type RecoverBot } from '../../../src/slack/index.js';
import { runCli } from '../../support/run-cli.js';
import { until } from '../../support/until.js';
import { closeHarness, type Harness, INCIDENT, startHarness, textOf } from './harness.js';

const APP = 'recover-bot-warm-up-test';
const log = createLogger('silent');

let h: Harness;
const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await closeHarness(h);
});

/** A pool of its own on the harness's control DB, named so pg_stat_activity tells it apart. */
function ownPool(config: pg.PoolConfig = {}): pg.Pool {
  const { host, port, user, database } = h.pool.options;
  const pool = createPool({ host, port, user, database, application_name: APP, max: 5, min: 5, ...config });
  cleanups.push(() => pool.end());
  return pool;
}

function newBot(control: pg.Pool, config = h.config): RecoverBot {
  const bot = createBot({ config, control, log, host: '127.0.0.1', stopTimeoutMs: 3000 });
  cleanups.push(() => bot.stop());
  return bot;
}

async function traces(): Promise<{ requests: number; seen: number; audit: number; slackCalls: number }> {
  const { rows } = await h.pool.query<{ requests: number; seen: number; audit: number }>(
    `SELECT (SELECT count(*)::int FROM requests) AS requests, (SELECT count(*)::int FROM seen_slack_requests) AS seen,
            (SELECT count(*)::int FROM audit_log) AS audit`,
  );
  return { ...rows[0]!, slackCalls: h.slack.calls.length };
}

describe('recover-bot start-up warm-up', () => {
  it('reports ready only with its control-DB connections open and its token checked, leaving no trace', async () => {
    const pool = ownPool();
    const bot = newBot(pool);
    const before = await traces();
    const sessions = async () =>
      (await h.pool.query<{ state: string | null }>('SELECT state FROM pg_stat_activity WHERE application_name = $1', [APP])).rows;
    expect(await sessions()).toEqual([]);

    const { port } = await bot.start();

    // Ready: every connection of the pool is open (4 warmed and idle, 1 holding LISTEN),
    // as PostgreSQL sees them, before any request reached the bot.
    // (A query the bot's start-up set going, e.g. the listener's catch-up, may still hold one of
    // them for a moment on a loaded machine: idle is waited for, but no connection may be added.)
    expect(pool.totalCount).toBe(5);
    await until('the warmed connections idle', async () => (pool.idleCount === 4 ? true : undefined), 10_000);
    const open = await until('5 idle sessions', async () => {
      const rows = await sessions();
      return rows.length === 5 && rows.every((session) => session.state === 'idle') ? rows : undefined;
    }, 10_000);
    expect(open).toHaveLength(5);
    expect(pool.totalCount).toBe(5);
    // The warm-up changed nothing: its one Slack call was auth.test.
    const after = await traces();
    expect(after).toEqual({ ...before, slackCalls: before.slackCalls + 1 });
    expect(h.slack.calls.at(-1)?.method).toBe('auth.test');

    // And the bot answers as before: acked at once, the answer follows.
    h.slack.setBotUrl(`http://127.0.0.1:${port}/slack/events`);
    const result = await h.slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'help' });
    expect(result.status).toBe(200);
    expect(result.body).toBe('');
    const help = await h.slack.transcript.waitFor(() => h.slack.transcript.ephemerals(INCIDENT, 'U0ALICE')[0]);
    expect(textOf(help)).toContain('/recover pitr');
    // The warmed connections serve requests; the pool did not have to open more.
    expect(pool.totalCount).toBe(5);
  });

  it('opens only as many connections as asked', async () => {
    const pool = ownPool();
    const bot = createBot({ config: h.config, control: pool, log, host: '127.0.0.1', stopTimeoutMs: 3000, warmConnections: 2 });
    cleanups.push(() => bot.stop());
    await bot.start();
    expect(pool.totalCount).toBe(3);
    // The bot's own background work (outbox, job watch) may hold a warm connection for a moment
    // right after start (seen: idleCount 1 on a loaded machine); it gives it back, and no more open.
    await until('both warm connections idle', async () => (pool.idleCount === 2 ? true : undefined), 30_000);
    expect(pool.totalCount).toBe(3);
  });

  it('does not start against a control DB it cannot reach: a clear error instead of ready', async () => {
    const pool = ownPool({ host: '127.0.0.1', port: await freePort(), connectionTimeoutMillis: 5000 });
    const bot = newBot(pool);
    const error = await bot.start().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(RecoverError);
    const failure = error as RecoverError;
    expect(failure.message).toMatch(/could not .* its control DB at start-up \(.*ECONNREFUSED.*\), so it did not start/);
    expect(failure.hint).toContain('RECOVER_CONTROL_URL');
  });

  it('does not start when Slack refuses its token', async () => {
    const config = loadConfig({ ...configEnv(), SLACK_BOT_TOKEN: 'xoxb-not-the-right-token' });
    const bot = newBot(ownPool(), config);
    const error = await bot.start().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(RecoverError);
    expect((error as RecoverError).code).toBe('SLACK_API_ERROR');
    expect((error as RecoverError).message).toMatch(/could not check its Slack token with auth\.test \(.*invalid_auth.*\), so it did not start/);
  });

  it('`recover bot` against an unreachable control DB exits with the error, never printing that it listens', async () => {
    const env = { ...configEnv(), RECOVER_CONTROL_URL: `postgres://recover:secret-password@127.0.0.1:${await freePort()}/recover` };
    const { code, stdout, stderr } = await runCli(['bot'], env);
    expect(code).toBe(1);
    expect(stdout).not.toContain('listening');
    expect(stderr).toMatch(/error \[INTERNAL\]: recover-bot could not open 1 connection to its control DB at start-up \(.*ECONNREFUSED.*\)/);
    expect(stderr).toContain('RECOVER_CONTROL_URL');
    expect(stderr).not.toContain('secret-password');
  });
});

/** The harness's Slack settings as environment variables. */
function configEnv(): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: h.config.slack.botToken!,
    SLACK_SIGNING_SECRET: h.config.slack.signingSecret!,
    SLACK_API_URL: h.slack.url,
    SLACK_PORT: '0',
    RECOVER_PRODUCTION_NAME: 'aiagent_prod',
  };
}
