/**
 * The stand-in without its HTTP listener: workspace, transcript, triggers, rate limiter and
 * the Web API dispatcher. startSlackStandIn wraps it in a server; unit tests (and tests of
 * the bot's Slack layer that want no sockets) call it in-process.
 */
import { systemClock } from '../../src/types.js';
import { RateLimiter } from './rate-limits.js';
import { Transcript } from './transcript.js';
import { TriggerRegistry } from './trigger-ids.js';
import type { MethodHandler } from './api-context.js';
import type { Clock, Json, SlackStandInOptions, WebApiResult } from './types.js';
import { createWebApi, type WebApi } from './web-api.js';
import { UploadStore } from './web-api-files.js';
import { createWorkspace, type Workspace } from './workspace.js';

export interface StandInCore {
  clock: Clock;
  workspace: Workspace;
  transcript: Transcript;
  triggers: TriggerRegistry;
  rateLimiter: RateLimiter;
  uploads: UploadStore;
  webApi: WebApi;
  /** Calls a Web API method in-process with the bot token, as if over HTTP. */
  call(method: string, params?: Json): WebApiResult;
}

/** `extraHandlers` lets the HTTP layer add methods that need it (Socket Mode's apps.connections.open). */
export function createStandInCore(options: SlackStandInOptions, extraHandlers: Record<string, MethodHandler> = {}): StandInCore {
  const clock = options.clock ?? systemClock;
  const workspace = createWorkspace(options, clock);
  const transcript = new Transcript({
    user: (id) => (id === workspace.botUserId ? workspace.botName : `@${workspace.user(id)?.name ?? id}`),
    channel: (id) => workspace.channel(id)?.name ?? id,
  });
  const triggers = new TriggerRegistry(clock);
  const rateLimiter = new RateLimiter(clock, options.budgets);
  const uploads = new UploadStore(options.maxUploadBytes);
  const webApi = createWebApi({
    workspace, transcript, triggers, clock, rateLimiter, extraHandlers, uploads,
    botToken: options.botToken,
    ...(options.appToken ? { appToken: options.appToken } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  return {
    clock,
    workspace,
    transcript,
    triggers,
    rateLimiter,
    uploads,
    webApi,
    call: (method, params = {}) => webApi.call({ method, params, bearer: options.botToken }),
  };
}
