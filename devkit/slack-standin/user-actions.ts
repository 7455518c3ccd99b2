/**
 * Acting as a person in the workspace: running a slash command and clicking a button. Each
 * action gets a fresh trigger_id and response_url, is sent signed to the bot, and its ack is
 * applied to the transcript the way the Slack client shows it.
 */
import { validateMessageContent } from './block-kit.js';
import type { BotDelivery, Delivery, Tamper } from './bot-delivery.js';
import { blockActionsPayload, findAction, interactionBody, listActionIds, slashCommandBody } from './payloads.js';
import type { ResponseUrls } from './response-urls.js';
import type { Transcript } from './transcript.js';
import type { TriggerRegistry } from './trigger-ids.js';
import type { Block, Clock, Json, StandInChannel, StandInUser } from './types.js';
import { apiMessage } from './web-api-chat.js';
import { apiView } from './web-api-views.js';
import type { Workspace } from './workspace.js';

export interface UserActionDeps {
  workspace: Workspace;
  transcript: Transcript;
  triggers: TriggerRegistry;
  responseUrls: ResponseUrls;
  delivery: BotDelivery;
  clock: Clock;
}

export interface ActionResult extends Delivery {
  /** The bot's answer parsed as JSON, when it was JSON. */
  json?: Json;
  triggerId: string;
  responseUrl?: string;
}

export function knownUser(deps: UserActionDeps, id: string): StandInUser {
  const user = deps.workspace.user(id);
  if (!user) throw new Error(`unknown user ${id}; the stand-in knows ${[...deps.workspace.users.keys()].join(', ')}`);
  return user;
}

function knownChannel(deps: UserActionDeps, idOrName: string): StandInChannel {
  const channel = deps.workspace.channel(idOrName);
  if (!channel) throw new Error(`unknown channel ${idOrName}; the stand-in knows ${[...deps.workspace.channels.keys()].join(', ')}`);
  return channel;
}

export function parseJson(body: string): Json | undefined {
  if (!body.trim().startsWith('{')) return undefined;
  try {
    return JSON.parse(body) as Json;
  } catch {
    // Not JSON after all: Slack shows such a body as plain text, and so does the stand-in.
    return undefined;
  }
}

/** What the Slack client shows a user when the app failed: an ephemeral from Slackbot. */
function slackbotNotice(deps: UserActionDeps, channel: string, user: string, text: string): void {
  deps.transcript.addMessage({
    channel, ts: deps.workspace.nextTs(), user: 'USLACKBOT', text, visibleTo: user, postedAt: deps.clock.now(), via: 'slack',
  });
}

function applyCommandAck(deps: UserActionDeps, result: ActionResult, channel: string, user: string, command: string): void {
  if (result.timedOut || result.status !== 200) {
    const reason = result.timedOut ? 'operation_timeout' : 'dispatch_failed';
    return slackbotNotice(deps, channel, user, `${command} failed with the error "${reason}"`);
  }
  if (result.body.trim() === '') return;
  const json = result.json ?? { text: result.body };
  const rejection = validateMessageContent({ text: json.text, blocks: json.blocks });
  if (rejection) return slackbotNotice(deps, channel, user, `${command} failed with the error "${rejection.code}"`);
  const inChannel = json.response_type === 'in_channel';
  deps.transcript.addMessage({
    channel,
    ts: deps.workspace.nextTs(),
    user: deps.workspace.botUserId,
    botId: deps.workspace.botId,
    text: typeof json.text === 'string' ? json.text : '',
    ...(Array.isArray(json.blocks) ? { blocks: json.blocks as Block[] } : {}),
    ...(inChannel ? {} : { visibleTo: user }),
    postedAt: deps.clock.now(),
    via: 'ack',
  });
}

export interface SlashCommandInput {
  user: string;
  /** Channel id or name. */
  channel: string;
  /** Defaults to `/recover`. */
  command?: string;
  text?: string;
  tamper?: Tamper;
}

export async function slashCommand(deps: UserActionDeps, input: SlashCommandInput): Promise<ActionResult> {
  const user = knownUser(deps, input.user);
  const channel = knownChannel(deps, input.channel);
  const command = input.command ?? '/recover';
  const text = input.text ?? '';
  const triggerId = deps.triggers.issue(user.id, channel.id);
  const responseUrl = deps.responseUrls.issue(channel.id, user.id);
  deps.transcript.recordAction({ at: deps.clock.now(), user: user.id, channel: channel.id, kind: 'slash_command', detail: `${command} ${text}`.trim() });
  const body = slashCommandBody({ workspace: deps.workspace, user, channel, command, text, responseUrl, triggerId });
  const delivery = await deps.delivery.send('slash_command', body, `${command} ${text}`.trim(), input.tamper);
  const json = parseJson(delivery.body);
  const result: ActionResult = { ...delivery, triggerId, responseUrl, ...(json ? { json } : {}) };
  applyCommandAck(deps, result, channel.id, user.id, command);
  return result;
}

export interface ClickInput {
  user: string;
  actionId: string;
  /** Picks among several elements sharing an action_id. */
  value?: string;
  tamper?: Tamper;
  /** A button in a message... */
  channel?: string;
  messageTs?: string;
  /** ...or in an open modal. */
  viewId?: string;
}

export async function clickButton(deps: UserActionDeps, input: ClickInput): Promise<ActionResult> {
  const user = knownUser(deps, input.user);
  const triggerId = deps.triggers.issue(user.id, input.channel);
  let payload: Json;
  let responseUrl: string | undefined;
  if (input.viewId !== undefined) {
    const view = deps.transcript.view(input.viewId);
    if (!view || view.status !== 'open' || view.user !== user.id) throw new Error(`${user.id} has no open view ${input.viewId}`);
    const found = findAction(view.definition.blocks, input.actionId, input.value);
    if (!found) throw new Error(`no ${input.actionId} in view ${view.id}; it has ${listActionIds(view.definition.blocks).join(', ')}`);
    payload = blockActionsPayload({
      workspace: deps.workspace, user, triggerId,
      container: { type: 'view', view_id: view.id },
      view: apiView(view, deps),
      action: actionObject(found.element, found.blockId, deps.clock),
    });
  } else {
    const channel = knownChannel(deps, input.channel ?? '');
    const message = deps.transcript.message(channel.id, input.messageTs ?? '');
    if (!message || (message.visibleTo !== undefined && message.visibleTo !== user.id)) {
      throw new Error(`${user.id} cannot see a message ${input.messageTs} in ${channel.id}`);
    }
    const found = findAction(message.blocks, input.actionId, input.value);
    if (!found) throw new Error(`no ${input.actionId} in message ${message.ts}; it has ${listActionIds(message.blocks).join(', ')}`);
    const ephemeral = message.visibleTo !== undefined;
    responseUrl = deps.responseUrls.issue(channel.id, user.id, message);
    payload = blockActionsPayload({
      workspace: deps.workspace, user, triggerId, channel, responseUrl,
      container: { type: 'message', message_ts: message.ts, channel_id: channel.id, is_ephemeral: ephemeral },
      ...(ephemeral ? {} : { message: apiMessage(message, deps) }),
      action: actionObject(found.element, found.blockId, deps.clock),
    });
  }
  const detail = `clicked ${input.actionId}${input.value === undefined ? '' : `=${input.value}`}`;
  deps.transcript.recordAction({ at: deps.clock.now(), user: user.id, kind: 'block_actions', detail, ...(input.channel ? { channel: input.channel } : {}) });
  const delivery = await deps.delivery.send('block_actions', interactionBody(payload), detail, input.tamper);
  const json = parseJson(delivery.body);
  return { ...delivery, triggerId, ...(responseUrl ? { responseUrl } : {}), ...(json ? { json } : {}) };
}

function actionObject(element: Json, blockId: string, clock: Clock): Json {
  const action: Json = { ...element, block_id: blockId, action_ts: (clock.now().getTime() / 1000).toFixed(6) };
  if (element.type === 'button' && typeof element.text === 'object' && element.text !== null) {
    action.text = { emoji: true, ...(element.text as Json) };
  }
  delete action.confirm;
  return action;
}
