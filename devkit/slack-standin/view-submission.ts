/**
 * Submitting a modal as a user, and applying the bot's ack the way Slack does:
 * no body closes the submitted view; `response_action` can show field errors (the view stays
 * open and the caller gets the errors), update the view, push a new one, or clear the stack.
 * An ack that is late or not 200 leaves the view open, as the Slack client does.
 */
import { validateView } from './block-kit.js';
import type { Tamper } from './bot-delivery.js';
import { interactionBody, viewSubmissionPayload } from './payloads.js';
import type { TranscriptView } from './transcript.js';
import type { Json } from './types.js';
import { knownUser, parseJson, type ActionResult, type UserActionDeps } from './user-actions.js';
import { stateValuesFor, type SubmittedValues } from './view-state.js';
import { apiView } from './web-api-views.js';

export interface SubmitInput {
  user: string;
  viewId: string;
  /** Per block_id, per action_id; see view-state.ts for how strings become Slack state. */
  values?: SubmittedValues;
  tamper?: Tamper;
}

export interface SubmitResult extends ActionResult {
  responseAction?: 'errors' | 'update' | 'push' | 'clear';
  /** Field errors from `response_action: 'errors'`, by block_id. */
  errors?: Record<string, string>;
  /** Set when the bot answered update/push with a view Slack would refuse. */
  invalidView?: string[];
  /** The submitted view as it is after the ack. */
  view: TranscriptView;
}

export async function submitView(deps: UserActionDeps, input: SubmitInput): Promise<SubmitResult> {
  const user = knownUser(deps, input.user);
  const view = deps.transcript.view(input.viewId);
  const top = deps.transcript.viewStore.stack(user.id).at(-1);
  if (!view || view.status !== 'open' || view.user !== user.id || top?.id !== view.id) {
    throw new Error(`${user.id} cannot submit view ${input.viewId}: it is not the modal on top of their screen`);
  }
  const stateValues = stateValuesFor(view.definition.blocks, input.values ?? {});
  const triggerId = deps.triggers.issue(user.id);
  const payload = viewSubmissionPayload({ workspace: deps.workspace, user, triggerId, view: apiView(view, deps, stateValues) });
  const now = deps.clock.now();
  view.submissions.push({ at: now, values: stateValues });
  const callbackId = String(view.definition.callback_id ?? view.id);
  deps.transcript.recordAction({ at: now, user: user.id, kind: 'view_submission', detail: `submitted ${callbackId}` });

  const delivery = await deps.delivery.send('view_submission', interactionBody(payload), `submit ${callbackId}`, input.tamper);
  const json = parseJson(delivery.body);
  const result: SubmitResult = { ...delivery, triggerId, view, ...(json ? { json } : {}) };
  if (delivery.timedOut || delivery.status !== 200) return result;
  return applyResponseAction(deps, result, json);
}

function applyResponseAction(deps: UserActionDeps, result: SubmitResult, json: Json | undefined): SubmitResult {
  const store = deps.transcript.viewStore;
  const { view } = result;
  const now = deps.clock.now();
  const action = json?.response_action;
  if (action === undefined) {
    store.close(view, now);
    return result;
  }
  if (action === 'errors') {
    return { ...result, responseAction: 'errors', errors: (json?.errors ?? {}) as Record<string, string> };
  }
  if (action === 'clear') {
    store.clear(view.user, now);
    return { ...result, responseAction: 'clear' };
  }
  if (action === 'update' || action === 'push') {
    const rejection = validateView(json?.view);
    if (rejection) return { ...result, responseAction: action, invalidView: rejection.messages };
    const definition = json?.view as Json;
    if (action === 'update') {
      store.update(view, definition, now, 'response_action:update');
      return { ...result, responseAction: action };
    }
    const pushed = store.push(view.user, definition, now, 'response_action:push');
    return typeof pushed === 'string' ? { ...result, responseAction: action, invalidView: [pushed] } : { ...result, responseAction: action };
  }
  throw new Error(`the bot answered a view_submission with unknown response_action ${JSON.stringify(action)}`);
}
