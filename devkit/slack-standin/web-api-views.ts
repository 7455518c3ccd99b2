/**
 * views.open / views.push / views.update. The rules that bite real bots are enforced: a
 * trigger_id works once and only for 3 seconds, stacks are at most 3 deep, views.update with
 * a stale hash is a conflict, and view definitions are checked against Slack's limits.
 */
import { jsonParam, stringParam, type ApiContext, type MethodHandler } from './api-context.js';
import { validateView } from './block-kit.js';
import { SlackApiError, validationError } from './method-table.js';
import type { Json } from './types.js';
import type { TranscriptView } from './view-store.js';

/** Parses and validates the `view` parameter; Slack answers invalid_arguments with details. */
export function viewDefinition(params: Json): Json {
  const view = jsonParam(params, 'view', 'invalid_arguments');
  const rejection = validateView(view);
  if (rejection) throw validationError(rejection.code, rejection.messages);
  return view as Json;
}

export function apiView(view: TranscriptView, context: Pick<ApiContext, 'workspace' | 'transcript'>, stateValues: Json = {}): Json {
  const { teamId, appId, botId } = context.workspace;
  return context.transcript.viewStore.toApiView(view, { teamId, appId, botId }, stateValues);
}

function consumeTrigger(params: Json, context: ApiContext): string {
  const check = context.triggers.consume(stringParam(params, 'trigger_id') ?? '');
  if (!check.ok) throw new SlackApiError(check.error);
  return check.grant.user;
}

const open: MethodHandler = (params, context) => {
  const definition = viewDefinition(params);
  const user = consumeTrigger(params, context);
  const view = context.transcript.viewStore.open(user, definition, context.clock.now(), 'views.open');
  return { view: apiView(view, context) };
};

const push: MethodHandler = (params, context) => {
  const definition = viewDefinition(params);
  const user = consumeTrigger(params, context);
  const result = context.transcript.viewStore.push(user, definition, context.clock.now(), 'views.push');
  // Pushing with no modal open is a misuse Slack reports as an invalid trigger for that surface.
  if (result === 'no_open_view') throw new SlackApiError('invalid_trigger_id');
  if (result === 'push_limit_reached') throw new SlackApiError('push_limit_reached');
  return { view: apiView(result, context) };
};

const update: MethodHandler = (params, context) => {
  const viewId = stringParam(params, 'view_id');
  const externalId = stringParam(params, 'external_id');
  if (viewId === undefined && externalId === undefined) {
    throw validationError('invalid_arguments', ['[ERROR] either view_id or external_id is required']);
  }
  const store = context.transcript.viewStore;
  const view = viewId !== undefined ? store.get(viewId) : store.byExternalId(externalId ?? '');
  if (!view || view.status === 'closed') throw new SlackApiError('not_found');
  const hash = stringParam(params, 'hash');
  if (hash !== undefined && hash !== view.hash) throw new SlackApiError('hash_conflict');
  const definition = viewDefinition(params);
  store.update(view, definition, context.clock.now(), 'views.update');
  return { view: apiView(view, context) };
};

export const viewHandlers: Record<string, MethodHandler> = {
  'views.open': open,
  'views.push': push,
  'views.update': update,
};
