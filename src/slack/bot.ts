/**
 * createBot: the Slack-facing process. It holds the Slack secrets and a control-DB pool,
 * never storage or production credentials. Nothing happens at import time; createBot
 * builds the Bolt app and its collaborators, start() connects everything.
 *
 *   const bot = createBot({ config, control: pool, log });
 *   const { port } = await bot.start();   // port: null in Socket Mode
 *   …
 *   await bot.stop();
 *
 * GET /healthz, /readyz (util/health.ts) and /metrics (metrics/registry.ts): over HTTP on the receiver's port, and on
 * RECOVER_HEALTH_PORT when it is another port; in Socket Mode on RECOVER_HEALTH_PORT, else
 * SLACK_PORT. Ready = started (warm-up done, Bolt started) and the control DB answers.
 */
import type { AddressInfo } from 'node:net';
import { App, webApi } from '@slack/bolt';
import type pg from 'pg';
import type { Config } from '../config.js';
import { getRequest } from '../control/index.js';
import { RecoverError } from '../errors.js';
import { systemClock, type Clock, type Logger } from '../types.js';
import { appOptions, postingClientOptions } from './app-options.js';
import { FastAckReceiver } from './io/fast-ack-receiver.js';
import { controlDbFailure, openConnections, warmConnectionCount, warmControlQueries, warmFetch, warmPureCode } from './warm-up.js';
import { ApproverDirectory } from './flows/approvers.js';
import { planChanged, runWithoutApproval, type FlowDeps } from './flows/approval-flow.js';
import { failureMessage } from './views/help.js';
import type { CommandDeps } from './listeners/commands.js';
import { BoundedMap, KeyedLock, Tasks, type BotDeps } from './context.js';
import { registerHandlers } from './listeners/handlers.js';
import { JobWatcher } from './flows/job-watcher.js';
import { ControlListener } from './io/control-listener.js';
import { Outbox } from './io/outbox.js';
import { PostsOnce } from './io/posts-once.js';
import { linkApprovalPosts } from './flows/approval-posts.js';
import { PlanWatcher } from './flows/plan-watcher.js';
import { RpoNotices } from './flows/rpo-notices.js';
import { createMetrics } from '../metrics/registry.js';
import { countRateLimits } from './io/slack-metrics.js';
import type { UpdateBudget } from './io/scheduler.js';
import { allReady, controlDbProbe, startHealthServer, type HealthServer, type Readiness } from '../util/health.js';

export interface CreateBotOptions {
  config: Config;
  /** The control DB; one connection is kept for LISTEN. */
  control: pg.Pool;
  log: Logger;
  /** For times shown and approval expiry; pacing of Slack calls always uses real time. */
  clock?: Clock;
  /** chat.update budget shared by all messages; default 50 per minute (Slack's per-workspace limit). */
  updateBudget?: UpdateBudget;
  /** Fallback poll for plans and events, in case a NOTIFY is lost; default 3000 ms. */
  pollIntervalMs?: number;
  /** After this long without a plan, the planning message says no runner answered; default 5 min. */
  planningStallMs?: number;
  /** Web API call timeout; default CALL_TIMEOUT_MS (15 s). Tests lower it to stall the stand-in past it. */
  slackCallTimeoutMs?: number;
  /** First wait before posting again after an unanswered post (doubling); default 500 ms. */
  postBackoffMs?: number;
  /** HTTP mode: where to listen; port defaults to config.slack.port (0 picks a free one). */
  host?: string;
  port?: number;
  /** How long stop() waits for work in flight and pending updates; default 5000 ms. */
  stopTimeoutMs?: number;
  /**
   * Control-DB connections opened at start-up, before the bot reports ready (warm-up.ts);
   * default: the pool's max minus the one LISTEN holds. The pool keeps them open if its `min`
   * allows.
   */
  warmConnections?: number;
}

export interface RecoverBot {
  app: App;
  /**
   * Checks the bot token (auth.test), connects to the control DB and opens its pool, resumes
   * following jobs, warms the request path (warm-up.ts), starts Bolt and, over HTTP, sends
   * itself one signed request; resolves only then. `port` is null in Socket Mode; `healthPort`
   * is where /healthz and /readyz are answered (null: nowhere).
   */
  start(): Promise<{ port: number | null; healthPort: number | null }>;
  stop(): Promise<void>;
}

/** Bolt's deferred initialization: auth.test, awaited, so a bad token stops the start. */
async function initSlack(app: App): Promise<void> {
  try {
    await app.init();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RecoverError('SLACK_API_ERROR', `recover-bot could not check its Slack token with auth.test (${reason}), so it did not start.`, {
      hint: 'Check SLACK_BOT_TOKEN (OAuth & Permissions in the Slack app settings) and that this host reaches Slack (SLACK_API_URL when set); then start the bot again.',
      cause: error,
    });
  }
}

export function createBot(options: CreateBotOptions): RecoverBot {
  const { config, control, log } = options;
  const boltOptions = appOptions(config.slack, log, options.slackCallTimeoutMs);
  const receiver = boltOptions.receiver instanceof FastAckReceiver ? boltOptions.receiver : undefined;
  const app = new App(boltOptions);
  const writer = new webApi.WebClient(config.slack.botToken, postingClientOptions(config.slack, log, options.slackCallTimeoutMs));
  // GET /metrics beside /healthz (metrics/registry.ts): one registry for this bot.
  const metrics = createMetrics({ control, process: 'bot' });
  countRateLimits(metrics, app.client, writer);
  const posts = new PostsOnce({ writer, reader: app.client, control, log, metrics, ...(options.postBackoffMs !== undefined ? { backoffMs: options.postBackoffMs } : {}) });
  const out = new Outbox(app.client, log, options.updateBudget, posts, metrics);
  const clock = options.clock ?? systemClock;
  const deps: BotDeps = {
    config,
    control,
    log,
    clock,
    out,
    approvers: new ApproverDirectory(config.approval, (group) => out.usergroupMembers(group)),
    tasks: new Tasks(log),
    locks: new KeyedLock(),
    typedText: new BoundedMap<string, string>(1000),
    metrics,
  };
  const jobs = new JobWatcher(deps);
  const flowDeps: FlowDeps = { ...deps, jobs };
  const plans = new PlanWatcher(deps, options.planningStallMs, (requestId) => {
    deps.tasks.run('refresh a re-planned request', () => planChanged(flowDeps, requestId), async (error) => {
      const request = await getRequest(control, requestId);
      const { planTs, channel } = request?.slackRefs ?? {};
      if (request && planTs) await out.post(channel ?? request.channelId, failureMessage('Showing the new plan', error), planTs);
    });
  }, (requestId) => {
    deps.tasks.run('run a read-only request', () => runWithoutApproval(flowDeps, requestId), async (error) => {
      const request = await getRequest(control, requestId);
      const { planTs, channel } = request?.slackRefs ?? {};
      if (request && planTs) await out.post(channel ?? request.channelId, failureMessage('Starting the read-only job', error), planTs);
    });
  });
  const commandDeps: CommandDeps = { ...flowDeps, plans };
  registerHandlers(app, commandDeps);
  app.error(async (error) => {
    log.error({ err: error }, 'unhandled error in a Slack listener');
  });

  // Approval messages posted before a restart whose ts was never saved: found (or posted) and
  // brought up to date, so no message keeps live buttons that nothing updates. Retried by the poll until done.
  let approvalsLinked = false;
  let linking = false;
  const linkApprovals = (): void => {
    if (approvalsLinked || linking) return;
    linking = true;
    deps.tasks.run('link approval messages', async () => {
      try {
        await linkApprovalPosts(flowDeps);
        approvalsLinked = true;
      } finally {
        linking = false;
      }
    }, async () => undefined); // logged by Tasks; the next poll tries again
  };
  const rpoNotices = new RpoNotices(deps);
  const poll = (): void => {
    plans.poll();
    jobs.poll();
    linkApprovals();
    rpoNotices.poll();
  };
  const listener = new ControlListener(control, log, {
    event: (jobId) => jobs.notify(jobId),
    plan: (requestId) => plans.notify(requestId),
    reconnected: poll,
  });
  let timer: NodeJS.Timeout | null = null;
  let started = false;
  let phase: 'starting' | 'ready' | 'stopping' = 'starting';
  const readiness = allReady(async (): Promise<Readiness> => (phase === 'ready' ? { ready: true } : { ready: false, reason: phase }), controlDbProbe(control));
  receiver?.serveReadiness(readiness);
  receiver?.serveMetrics(metrics.answer);
  let health: HealthServer | undefined;
  // Its own listener unless the receiver already answers on that port.
  const wanted = config.healthPort ?? (config.slack.socketMode ? config.slack.port : undefined);
  const healthPort = config.slack.socketMode || wanted !== (options.port ?? config.slack.port) ? wanted : undefined;

  return {
    app,
    async start() {
      if (started) throw new Error('recover-bot is already started');
      started = true;
      phase = 'starting';
      let port: number | null = null;
      let resumed = 0;
      const connections = warmConnectionCount(control, options.warmConnections);
      try {
        if (healthPort !== undefined) health = await startHealthServer({ port: healthPort, ...(options.host ? { host: options.host } : {}), probe: readiness, metrics: metrics.answer });
        await initSlack(app);
        await listener.start().catch((error: unknown) => {
          throw controlDbFailure('LISTEN on', error);
        });
        await openConnections(control, connections);
        await warmControlQueries(control);
        warmPureCode(log, config.slack.allowedChannels);
        resumed = await jobs.resume();
        linkApprovals();
        if (config.slack.socketMode) {
          await app.start();
        } else {
          const server = await app.start({ port: options.port ?? config.slack.port, ...(options.host ? { host: options.host } : {}) });
          port = (server.address() as AddressInfo).port;
          // Harmless if it fails (the server is listening; only the first request is slower): logged.
          await receiver?.warmUp().catch((error: unknown) => log.warn({ err: error }, 'the start-up request to the bot itself failed; the first commands may be slower'));
        }
        if (!receiver) await warmFetch(log);
      } catch (error) {
        started = false;
        out.scheduler.stop();
        await listener.stop();
        await health?.close();
        health = undefined;
        throw error;
      }
      timer = setInterval(poll, options.pollIntervalMs ?? 3000);
      timer.unref();
      phase = 'ready';
      log.info({ port, healthPort: health?.port ?? port, socketMode: config.slack.socketMode, resumedJobs: resumed, openConnections: control.totalCount }, 'recover-bot started');
      return { port, healthPort: health?.port ?? port };
    },
    async stop() {
      if (!started) return;
      started = false;
      phase = 'stopping';
      if (timer) clearInterval(timer);
      timer = null;
      await app.stop();
      const waitMs = options.stopTimeoutMs ?? 5000;
      await deps.tasks.settle(waitMs);
      if (!(await out.scheduler.drain(waitMs))) log.warn({ pending: out.scheduler.pending }, 'stopped with Slack updates still pending');
      out.scheduler.stop();
      await listener.stop();
      await health?.close();
      health = undefined;
      log.info('recover-bot stopped');
    },
  };
}
