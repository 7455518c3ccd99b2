/**
 * The Web API front door: method lookup, token, rate limits, scopes and required parameters,
 * checked in the order Slack checks them, then the method handler. Every call is recorded
 * (token removed) so tests can assert the bot only uses real methods and parameters.
 */
import type { ApiContext, MethodHandler } from './api-context.js';
import { methodDefinition, SlackApiError, unknownParamsOf, validationError } from './method-table.js';
import type { RateLimiter } from './rate-limits.js';
import type { Json, RecordedCall, StandInLog, UnknownCall, WebApiResult } from './types.js';
import { chatHandlers } from './web-api-chat.js';
import { conversationHandlers } from './web-api-conversations.js';
import { directoryHandlers } from './web-api-directory.js';
import { fileHandlers } from './web-api-files.js';
import { viewHandlers } from './web-api-views.js';

const HANDLERS: Record<string, MethodHandler> = { ...chatHandlers, ...conversationHandlers, ...viewHandlers, ...directoryHandlers, ...fileHandlers };

export interface WebApiRequest {
  method: string;
  params: Json;
  /** Token from `Authorization: Bearer`, which wins over a `token` parameter. */
  bearer?: string;
}

export interface WebApiDeps extends ApiContext {
  botToken: string;
  /** App-level token (xapp-) for Socket Mode's apps.connections.open. */
  appToken?: string;
  rateLimiter: RateLimiter;
  log?: StandInLog;
  /** Extra methods (Socket Mode adds apps.connections.open). */
  extraHandlers?: Record<string, MethodHandler>;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

function errorBody(error: string, extra: Json = {}): Json {
  return { ok: false, error, ...extra };
}

function answer(deps: WebApiDeps, request: WebApiRequest, params: Json): WebApiResult {
  const { method } = request;
  const handler = HANDLERS[method] ?? deps.extraHandlers?.[method];
  const definition = methodDefinition(method);
  if (!handler) return { status: 200, headers: JSON_HEADERS, body: errorBody('unknown_method') };

  const token = request.bearer ?? (typeof request.params.token === 'string' ? request.params.token : undefined);
  if (!token) return { status: 200, headers: JSON_HEADERS, body: errorBody('not_authed') };
  const expected = definition?.token === 'app' ? deps.appToken : deps.botToken;
  if (expected === undefined || token !== expected) return { status: 200, headers: JSON_HEADERS, body: errorBody('invalid_auth') };

  const channel = typeof params.channel === 'string' ? params.channel : undefined;
  const decision = deps.rateLimiter.check(method, channel);
  if (decision.limited) {
    return {
      status: 429,
      headers: { ...JSON_HEADERS, 'retry-after': String(decision.retryAfterSeconds) },
      body: errorBody('ratelimited'),
    };
  }

  try {
    // Slack's scopes follow the conversation's type: groups:* for a private channel.
    const scope = definition?.privateScope !== undefined && channel !== undefined && deps.workspace.channel(channel)?.isPrivate ? definition.privateScope : definition?.scope;
    if (scope !== undefined && !deps.workspace.scopes.has(scope)) {
      throw new SlackApiError('missing_scope', { needed: scope, provided: [...deps.workspace.scopes].join(',') });
    }
    const missing = (definition?.required ?? []).filter((name) => params[name] === undefined || params[name] === '');
    if (missing.length > 0) {
      throw validationError('invalid_arguments', missing.map((name) => `[ERROR] missing required field: ${name}`));
    }
    return { status: 200, headers: JSON_HEADERS, body: { ok: true, ...handler(params, deps) } };
  } catch (error) {
    if (error instanceof SlackApiError) return { status: 200, headers: JSON_HEADERS, body: errorBody(error.code, error.extra) };
    // A bug in the stand-in must not look like a Slack answer the bot could be tested against.
    deps.log?.warn({ err: error, method }, 'slack stand-in: handler failed');
    return { status: 500, headers: JSON_HEADERS, body: errorBody('standin_internal_error', { detail: String(error) }) };
  }
}

export interface WebApi {
  call(request: WebApiRequest): WebApiResult;
  unknownCalls(): UnknownCall[];
}

export function createWebApi(deps: WebApiDeps): WebApi {
  return {
    call(request) {
      const { token: _token, ...params } = request.params;
      const result = answer(deps, request, params);
      const call: RecordedCall = {
        at: deps.clock.now(),
        method: request.method,
        params,
        status: result.status,
        ok: result.body.ok === true,
      };
      if (typeof result.body.error === 'string') call.error = result.body.error;
      deps.transcript.recordCall(call);
      deps.log?.debug({ method: request.method, status: result.status, error: call.error }, 'slack stand-in: web api call');
      return result;
    },
    unknownCalls() {
      return deps.transcript.calls.flatMap((call): UnknownCall[] => {
        if (!methodDefinition(call.method)) return [{ call, reason: 'unknown_method', unknownParams: [] }];
        const unknownParams = unknownParamsOf(call.method, call.params);
        return unknownParams.length > 0 ? [{ call, reason: 'unknown_params', unknownParams }] : [];
      });
    },
  };
}
