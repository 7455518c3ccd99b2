/**
 * The bot under test, wired to the Slack stand-in and a throw-away control DB
 * (`recover_bot_test_<random>`, dropped afterwards even when a test fails), plus a fake
 * runner (fake-runner.ts): the test plays the runner by calling the control functions.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect } from 'vitest';
import { loadConfig, type Config } from '../../../src/config.js';
import { setupSql } from '../../../src/cli/setup-sql.js';
import { migrate, type JobRecord } from '../../../src/control/index.js';
import { createLogger } from '../../../src/log.js';
import { createBot, type CreateBotOptions, type RecoverBot } from '../../../src/slack/index.js';
import { startSlackStandIn, Transcript, type SlackStandIn, type SlackStandInOptions, type TranscriptMessage } from '../../../devkit/slack-standin/index.js';
import { FakeRunner, pitrPlan } from './fake-runner.js';

const SERVER = { host: '127.0.0.1', port: 5432, user: 'postgres' } as const;
export const TEAM = 'T0STANDIN';
export const INCIDENT = 'C0DBOUTAGE';
export const GENERAL = 'C0GENERAL';
/** Private channels: slash commands from them arrive named `privategroup` (the bot is not in HIDDEN). */
export const PRIVATE_INCIDENT = 'C0PRIVINC';
export const PRIVATE_OTHER = 'C0PRIVOTHER';
export const PRIVATE_HIDDEN = 'C0PRIVHIDDEN';

export const USERS = [
  { id: 'U0ALICE', name: 'alice', realName: 'Alice Admin' },
  { id: 'U0BOB', name: 'bob', realName: 'Bob Builder' },
  { id: 'U0CAROL', name: 'carol', realName: 'Carol Curious' },
  { id: 'U0DAVE', name: 'dave', realName: 'Dave DBA' },
];

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...SERVER, database: 'postgres' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface Harness {
  slack: SlackStandIn;
  bot: RecoverBot;
  config: Config;
  /** A superuser pool on the control DB: the fake runner and the checks (the bot has its own role). */
  pool: pg.Pool;
  runner: FakeRunner;
  /** Stops the bot and starts a fresh one on the same control DB (a restart); `meanwhile` runs while no bot is up. */
  restartBot(meanwhile?: () => Promise<void>): Promise<RecoverBot>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  bot?: Partial<CreateBotOptions>;
  socketMode?: boolean;
  /** Per-method rate budgets of the stand-in (e.g. REALISTIC_BUDGETS). */
  budgets?: SlackStandInOptions['budgets'];
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const name = `recover_bot_test_${randomBytes(6).toString('hex')}`;
  // The bot connects as a role of its own with only the grants `recover setup-sql` prints for it
  // (README, "Deploying"), as deployed: a write the bot needs and the grants lack fails here.
  const botRole = `${name}_bot`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const pool = new pg.Pool({ ...SERVER, database: name, max: 8 });
  const cleanups: Array<() => Promise<unknown>> = [
    () => admin((client) => client.query(`DROP ROLE IF EXISTS ${botRole}`)),
    async () => {
      await pool.end();
      await admin(async (client) => {
        for (let i = 0; i < 100; i++) {
          const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
          if (rows[0]?.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    },
  ];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    await migrate(pool);
    await admin((client) => client.query(`CREATE ROLE ${botRole} LOGIN`));
    await pool.query(setupSql({ botRole }, ['control-grants']));
    const botPool = new pg.Pool({ ...SERVER, user: botRole, database: name, max: 8 });
    cleanups.push(() => botPool.end());
    const botToken = 'xoxb-test-bot-token';
    const signingSecret = 'test-signing-secret';
    const appToken = 'xapp-1-test-app-token';
    const slack = await startSlackStandIn({
      botToken,
      signingSecret,
      ...(options.socketMode ? { appToken } : {}),
      teamId: TEAM,
      users: USERS,
      usergroups: { S0DBA: ['U0DAVE'] },
      channels: [
        { id: INCIDENT, name: 'inc-db-outage' },
        { id: GENERAL, name: 'general' },
        { id: PRIVATE_INCIDENT, name: 'inc-private-outage', isPrivate: true },
        { id: PRIVATE_OTHER, name: 'secret-plans', isPrivate: true },
        { id: PRIVATE_HIDDEN, name: 'inc-hidden', isPrivate: true, botIsMember: false },
      ],
      ...(options.budgets ? { budgets: options.budgets } : {}),
    });
    cleanups.push(() => slack.close());
    const config = loadConfig({
      SLACK_BOT_TOKEN: botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      ...(options.socketMode ? { SLACK_SOCKET_MODE: 'true', SLACK_APP_TOKEN: appToken } : {}),
      SLACK_API_URL: slack.url,
      SLACK_PORT: '0',
      RECOVER_ALLOWED_CHANNELS: 'inc-*',
      RECOVER_APPROVERS: JSON.stringify({ [TEAM]: { users: ['U0BOB'], usergroups: ['S0DBA'] } }),
      RECOVER_PRODUCTION_NAME: 'aiagent_prod',
      ...options.env,
    });
    const launch = async (): Promise<RecoverBot> => {
      const bot = createBot({
        config,
        control: botPool,
        log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
        host: '127.0.0.1',
        pollIntervalMs: 500,
        updateBudget: { limit: 600, windowMs: 60_000, burst: 20 },
        stopTimeoutMs: 3000,
        ...options.bot,
      });
      const { port } = await bot.start();
      if (port !== null) slack.setBotUrl(`http://127.0.0.1:${port}/slack/events`);
      return bot;
    };
    let bot = await launch();
    cleanups.push(() => bot.stop());
    const harness: Harness = {
      slack,
      bot,
      config,
      pool,
      runner: new FakeRunner(pool),
      async restartBot(meanwhile) {
        await bot.stop();
        await meanwhile?.();
        bot = await launch();
        harness.bot = bot;
        return bot;
      },
      close,
    };
    return harness;
  } catch (error) {
    await close();
    throw error;
  }
}

export const textOf = (message: TranscriptMessage | undefined): string => (message ? Transcript.textOf(message) : '');

/** The first top-level message in a channel whose text (blocks included) matches. */
export function findTop(slack: SlackStandIn, channel: string, pattern: RegExp): TranscriptMessage | undefined {
  return slack.transcript.messages(channel).find((m) => pattern.test(textOf(m)));
}

/** Waits for the job (of a request, or the first one) to have its status message. */
export async function waitForJob(runner: FakeRunner, requestId?: string, timeoutMs = 5000): Promise<JobRecord> {
  for (let i = 0; i < timeoutMs / 25; i++) {
    const job = (await runner.jobs()).find((j) => requestId === undefined || j.requestId === requestId);
    if (job?.slackRefs.statusTs) return job;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no job${requestId ? ` for request ${requestId}` : ''} with a status message`);
}

/** Drives a side-copy PITR from the command to a queued job with its status message. */
export async function approvedJob(h: Harness, text = 'pitr 2025-01-15T14:29:59+00:00'): Promise<{ job: JobRecord; statusTs: string }> {
  const { slack, runner } = h;
  const t = slack.transcript;
  const before = (await runner.requests()).length;
  await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text });
  const request = await runner.waitForRequest(before + 1);
  await runner.plan(request.id, pitrPlan('2025-01-15T14:29:59Z'));
  const preview = await t.waitFor(() => t.messages(INCIDENT).find((m) => /Request approval/.test(textOf(m)) && textOf(m).includes(request.id.slice(0, 8))));
  await slack.clickButton({ user: 'U0ALICE', channel: INCIDENT, messageTs: preview.ts, actionId: 'recover_request_approval' });
  const approval = await t.waitFor(() => t.messages(INCIDENT).find((m) => /Approval needed/.test(textOf(m)) && textOf(m).includes(request.id.slice(0, 8))));
  await slack.clickButton({ user: 'U0BOB', channel: INCIDENT, messageTs: approval.ts, actionId: 'recover_approve' });
  const job = await waitForJob(runner, request.id);
  return { job, statusTs: job.slackRefs.statusTs! };
}

export { FakeRunner, pitrPlan };

/**
 * Closes a test's harness (nothing when it has none) and fails the test if the bot called a Web
 * API method the stand-in does not know: read before closing, so a call made while closing is
 * not mistaken for one of the test's.
 */
export async function closeHarness(h: Harness | undefined): Promise<void> {
  if (!h) return;
  const unknown = h.slack.unknownCalls();
  await h.close();
  expect(unknown).toEqual([]);
}
