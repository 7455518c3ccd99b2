/**
 * A local stand-in for Slack, for integration tests and the demo: it answers the Web API the
 * bot calls (validating like Slack, with Slack's error codes and rate limits), records
 * everything in a transcript, and acts as users by sending signed slash commands and
 * interactions to the bot over HTTP (or over Socket Mode when the bot is connected that way).
 *
 *   const slack = await startSlackStandIn({ botToken, signingSecret });
 *   const app = new App({ token: botToken, signingSecret,
 *     clientOptions: { slackApiUrl: slack.url, retryConfig: { retries: 0 } } });
 *   const server = await app.start({ port: 0, host: '127.0.0.1' });
 *   slack.setBotUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
 *   await slack.slashCommand({ user: 'U0ALICE', channel: 'C0INCIDENT', text: 'status' });
 *
 * Socket Mode: pass `appToken` here and to the App (`socketMode: true`, and the same
 * clientOptions under `installerOptions.clientOptions`); no botUrl is needed.
 *
 * `webUrl` shows the workspace as a web page: a person picks who they act as, types slash
 * commands, clicks buttons and fills modals, all sent to the bot as above (web/web-view.ts).
 */
import type { AckTimeout, Delivery, SentRequest } from './bot-delivery.js';
import { BotDelivery } from './bot-delivery.js';
import { startHttpServer } from './http-server.js';
import type { MethodHandler } from './api-context.js';
import { createStandInCore } from './core.js';
import type { ForcedLimit } from './rate-limits.js';
import { ResponseUrls, type ResponseUrlUse } from './response-urls.js';
import { SocketModeHub } from './socket-mode.js';
import { Stalls, type StallHandle, type StallOptions } from './stalls.js';
import type { Transcript } from './transcript.js';
import {
  DEFAULT_ACK_TIMEOUT_MS, type RateBudget, type RecordedCall, type SlackStandInOptions, type UnknownCall,
} from './types.js';
import {
  clickButton, slashCommand, type ActionResult, type ClickInput, type SlashCommandInput, type UserActionDeps,
} from './user-actions.js';
import { submitView, type SubmitInput, type SubmitResult } from './view-submission.js';
import { createWebView } from './web/web-view.js';
import type { Workspace } from './workspace.js';

export interface SlackStandIn {
  /** Web API base for Bolt's `clientOptions.slackApiUrl`, ending in `/api/`. */
  url: string;
  port: number;
  /** The channel as a web page for a browser (`http://127.0.0.1:<port>/`). */
  webUrl: string;
  workspace: Workspace;
  transcript: Transcript;
  /** Every Web API call received, token removed, oldest first. */
  readonly calls: RecordedCall[];
  /** Calls naming a method or parameter that Slack's API does not have. */
  unknownCalls(): UnknownCall[];
  /** Every request sent to the bot (for replay tests). */
  readonly sentRequests: SentRequest[];
  /** Acks the bot did not deliver within 3 s; should stay empty. */
  readonly ackTimeouts: AckTimeout[];
  readonly responseUrlUses: ResponseUrlUse[];
  setBotUrl(url: string): void;
  slashCommand(input: SlashCommandInput): Promise<ActionResult>;
  clickButton(input: ClickInput): Promise<ActionResult>;
  submitView(input: SubmitInput): Promise<SubmitResult>;
  replay(request: SentRequest): Promise<Delivery>;
  /** Answers the next `count` calls of `method` with HTTP 429 and Retry-After. */
  rateLimit(method: string, limit: ForcedLimit): void;
  setBudget(method: string, budget: RateBudget | undefined): void;
  /**
   * Holds the next calls of `method` over HTTP until `release()`: 'answer-late' (default) does
   * the work at once and answers late, 'lost' never does it and drops the connection.
   */
  stall(method: string, options?: StallOptions): StallHandle;
  /** A trigger_id as if the user had just clicked something, for direct views.* tests. */
  issueTriggerId(user: string, channel?: string): string;
  close(): Promise<void>;
}

export async function startSlackStandIn(options: SlackStandInOptions): Promise<SlackStandIn> {
  // Filled in once the workspace exists; the Web API looks handlers up per call.
  const socketHandlers: Record<string, MethodHandler> = {};
  const core = createStandInCore(options, socketHandlers);
  const { clock, workspace, transcript, triggers, rateLimiter, webApi } = core;
  let baseUrl = '';
  const responseUrls = new ResponseUrls({ baseUrl: () => baseUrl, clock, transcript, workspace });
  const socketMode = options.appToken
    ? new SocketModeHub({ baseUrl: () => baseUrl, workspace, ...(options.log ? { log: options.log } : {}) })
    : undefined;
  if (socketMode) Object.assign(socketHandlers, socketMode.handlers());
  const delivery = new BotDelivery({
    signingSecret: options.signingSecret,
    clock,
    ackTimeoutMs: options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS,
    ...(options.botUrl ? { botUrl: options.botUrl } : {}),
    ...(socketMode ? { socketMode } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const stalls = new Stalls();
  // The page's actions need the delivery deps, which need the server's address: bound on first use.
  let actionDeps: UserActionDeps | undefined;
  const deps = (): UserActionDeps => {
    if (!actionDeps) throw new Error('the Slack stand-in is not listening yet');
    return actionDeps;
  };
  const web = createWebView({
    workspace,
    transcript,
    slashCommand: (input) => slashCommand(deps(), input),
    clickButton: (input) => clickButton(deps(), input),
    submitView: (input) => submitView(deps(), input),
  });
  const running = await startHttpServer(
    {
      webApi,
      responseUrls,
      uploads: core.uploads,
      stalls,
      web,
      ...(socketMode ? { onUpgrade: (request, socket, head) => socketMode.onUpgrade(request, socket, head) } : {}),
      ...(options.log ? { log: options.log } : {}),
    },
    options.port ?? 0,
  );
  baseUrl = `http://127.0.0.1:${running.port}/`;
  core.uploads.baseUrl = baseUrl;
  actionDeps = { workspace, transcript, triggers, responseUrls, delivery, clock };

  return {
    url: `${baseUrl}api/`,
    port: running.port,
    workspace,
    transcript,
    calls: transcript.calls,
    unknownCalls: () => webApi.unknownCalls(),
    sentRequests: delivery.sent,
    ackTimeouts: delivery.ackTimeouts,
    responseUrlUses: responseUrls.uses,
    setBotUrl: (url) => delivery.setBotUrl(url),
    webUrl: baseUrl,
    slashCommand: (input) => slashCommand(deps(), input),
    clickButton: (input) => clickButton(deps(), input),
    submitView: (input) => submitView(deps(), input),
    replay: (request) => delivery.replay(request),
    rateLimit: (method, limit) => rateLimiter.force(method, limit),
    setBudget: (method, budget) => rateLimiter.setBudget(method, budget),
    stall: (method, stallOptions) => stalls.stall(method, stallOptions),
    issueTriggerId: (user, channel) => triggers.issue(user, channel),
    close: async () => {
      // Upgraded sockets are no longer the HTTP server's to close.
      socketMode?.close();
      stalls.releaseAll();
      await running.close();
    },
  };
}

export { REALISTIC_BUDGETS } from './rate-limits.js';
export { LIMITS, validateBlocks, validateMessageContent, validateView } from './block-kit.js';
export { slackSignature, verifySlackRequest } from './signing.js';
export { METHODS } from './method-table.js';
export { Transcript } from './transcript.js';
export { createStandInCore, type StandInCore } from './core.js';
export type { TranscriptMessage, TranscriptView, TranscriptEvent, UserAction } from './transcript.js';
export type { SlackStandInOptions, StandInUser, StandInChannel, RateBudget, RecordedCall, UnknownCall } from './types.js';
export type { ActionResult, ClickInput, SlashCommandInput } from './user-actions.js';
export type { StallHandle, StallMode, StallOptions } from './stalls.js';
export type { SubmitInput, SubmitResult } from './view-submission.js';
export type { Tamper, SentRequest, AckTimeout, Delivery } from './bot-delivery.js';
export { renderMessage, renderChannel, type RenderNames } from './render.js';
