/**
 * Everything recover-bot needs, started on this machine for the demo and the end-to-end
 * test: the sandbox (Azurite, a "production" cluster archiving through the WAL agent), a
 * separate control cluster, the Slack stand-in, the bot (HTTP mode) and one runner.
 * `cleanup()` stops all of it in reverse order and removes every file.
 */
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config.js';
import { createRunner, type Runner } from '../src/runner/runner.js';
import { createBot, type RecoverBot } from '../src/slack/index.js';
import { startSlackStandIn, type SlackStandIn, type StandInUser } from './slack-standin/index.js';
import { systemClock, type Logger } from '../src/types.js';
import { startControlCluster, type ControlCluster } from './control-cluster.js';
import { startSandbox, type Sandbox } from './sandbox.js';

export const TEAM_ID = 'T0STANDIN';
export const INCIDENT_CHANNEL = { id: 'C0INC42', name: 'inc-2025-01-15-workflows-deleted' };
export const OTHER_CHANNEL = { id: 'C0RANDOM', name: 'random' };
export const PEOPLE: StandInUser[] = [
  { id: 'U0ALICE', name: 'alice', realName: 'Alice (on call)' },
  { id: 'U0BOB', name: 'bob', realName: 'Bob (DBA lead)' },
  { id: 'U0CAROL', name: 'carol', realName: 'Carol (product)' },
];

export interface World {
  sandbox: Sandbox;
  control: ControlCluster;
  slack: SlackStandIn;
  bot: RecoverBot;
  runner: Runner;
  config: Config;
  cleanup(): Promise<void>;
}

export interface WorldOptions {
  log?: Logger;
  /** chat.update budget given to the bot (tests shrink it to provoke coalescing). */
  updateBudget?: { limit: number; windowMs: number };
  verifyTables?: string;
  /** More runner configuration, made once the sandbox runs (e.g. a standby of its production for /recover failover). */
  runnerConfig?: (sandbox: Sandbox) => Promise<Partial<Config>>;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const log = options.log ?? pino({ level: 'silent' });
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => log.warn({ err: error }, 'cleanup step failed'));
  };
  try {
    const sandbox = await startSandbox({ log });
    cleanups.push(() => sandbox.cleanup());
    const control = await startControlCluster(sandbox.exec, sandbox.root);
    cleanups.push(() => control.stop());
    const slack = await startSlackStandIn({
      botToken: 'xoxb-demo-token',
      signingSecret: 'demo-signing-secret',
      teamId: TEAM_ID,
      users: PEOPLE,
      usergroups: { S0DBAS: ['U0BOB'] },
      channels: [INCIDENT_CHANNEL, OTHER_CHANNEL],
    });
    cleanups.push(() => slack.close());
    // The bot's configuration: Slack secrets and the control DB only.
    const botConfig = loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-demo-token',
      SLACK_SIGNING_SECRET: 'demo-signing-secret',
      SLACK_API_URL: slack.url,
      SLACK_PORT: '0',
      RECOVER_CONTROL_URL: control.url,
      RECOVER_ALLOWED_CHANNELS: 'inc-*',
      RECOVER_APPROVERS: JSON.stringify({ [TEAM_ID]: { users: ['U0BOB'], usergroups: ['S0DBAS'] } }),
      RECOVER_PRODUCTION_NAME: 'aiagent_prod',
      LOG_LEVEL: 'silent',
    });
    const bot = createBot({ config: botConfig, control: control.pool, log, port: 0, host: '127.0.0.1', pollIntervalMs: 500, ...(options.updateBudget ? { updateBudget: options.updateBudget } : {}) });
    const { port } = await bot.start();
    cleanups.push(() => bot.stop());
    slack.setBotUrl(`http://127.0.0.1:${port}/slack/events`);
    // The runner's configuration: storage and production, plus the approvers it re-checks.
    const config: Config = {
      ...sandbox.config,
      controlUrl: control.url,
      approval: botConfig.approval,
      verifyTables: options.verifyTables ? loadConfig({ RECOVER_VERIFY_TABLES: options.verifyTables }).verifyTables : [],
      ...(options.runnerConfig ? await options.runnerConfig(sandbox) : {}),
    };
    const runner = createRunner({ config, control: control.pool, storage: sandbox.storage, exec: sandbox.exec, log, clock: systemClock, runnerId: 'runner-1', pollMs: 300 });
    await runner.start();
    cleanups.push(() => runner.stop());
    return { sandbox, control, slack, bot, runner, config, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
