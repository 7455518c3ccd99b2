/**
 * chat.* methods. Messages are validated like Slack validates them (Block Kit limits,
 * msg_too_long, no_text) before anything lands in the transcript, so a test that passes here
 * would not fail in a real workspace because of message shape.
 */
import { jsonParam, stringParam, targetChannel, type ApiContext, type MethodHandler } from './api-context.js';
import { validateMessageContent } from './block-kit.js';
import { SlackApiError, validationError } from './method-table.js';
import type { TranscriptMessage } from './transcript.js';
import type { Block, Json } from './types.js';

interface MessageContent {
  text: string | undefined;
  blocks: Block[] | undefined;
}

/** Parses and validates text/blocks/attachments; throws the error Slack would answer with. */
export function messageContent(params: Json): MessageContent {
  const blocks = jsonParam(params, 'blocks', 'invalid_blocks');
  const attachments = jsonParam(params, 'attachments', 'invalid_arguments');
  const text = stringParam(params, 'text');
  const rejection = validateMessageContent({ text, blocks, attachments });
  if (rejection) {
    if (rejection.messages.length > 0) throw validationError(rejection.code, rejection.messages);
    throw new SlackApiError(rejection.code);
  }
  return { text, blocks: blocks as Block[] | undefined };
}

/** Message metadata as chat.postMessage takes it: {event_type, event_payload}, JSON-encoded in form bodies. */
export function metadataParam(params: Json): TranscriptMessage['metadata'] {
  if (params.metadata === undefined || params.metadata === '') return undefined;
  let value: unknown;
  try {
    value = jsonParam(params, 'metadata', 'invalid_metadata_format');
  } catch {
    throw new SlackApiError('invalid_metadata_format');
  }
  const record = value as { event_type?: unknown; event_payload?: unknown } | null;
  if (typeof record !== 'object' || record === null || typeof record.event_type !== 'string' || !/^[a-z0-9_]{1,255}$/i.test(record.event_type)) {
    throw new SlackApiError('invalid_metadata_format');
  }
  const payload = record.event_payload ?? {};
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new SlackApiError('invalid_metadata_format');
  return { event_type: record.event_type, event_payload: payload as Json };
}

/**
 * A message object as Slack returns it in chat.* responses and interaction payloads; with
 * `withMetadata` (conversations.* with include_all_metadata) also its metadata.
 */
export function apiMessage(message: TranscriptMessage, context: Pick<ApiContext, 'workspace'>, withMetadata = false): Json {
  const body: Json = {
    type: 'message',
    user: message.user,
    text: message.text,
    ts: message.ts,
    team: context.workspace.teamId,
  };
  if (message.botId) {
    body.bot_id = message.botId;
    body.app_id = context.workspace.appId;
  }
  if (message.blocks) body.blocks = message.blocks;
  if (message.threadTs) body.thread_ts = message.threadTs;
  if (message.editedAt) body.edited = { user: message.user, ts: String(message.editedAt.getTime() / 1000) };
  if (withMetadata && message.metadata) body.metadata = message.metadata;
  if (message.files) body.files = message.files.map((f) => ({ id: f.id, name: f.name, title: f.title, mimetype: f.mimetype, size: f.size }));
  return body;
}

function botAuthor(context: ApiContext): { user: string; botId: string } {
  return { user: context.workspace.botUserId, botId: context.workspace.botId };
}

/** A new bot message from chat.postMessage / chat.postEphemeral parameters. */
function addBotMessage(params: Parameters<MethodHandler>[0], context: Parameters<MethodHandler>[1], channel: string, visibleTo?: string) {
  const { text, blocks } = messageContent(params);
  const threadTs = stringParam(params, 'thread_ts');
  const metadata = visibleTo === undefined ? metadataParam(params) : undefined;
  return context.transcript.addMessage({
    channel,
    ts: context.workspace.nextTs(),
    ...botAuthor(context),
    text: text ?? '',
    ...(blocks === undefined ? {} : { blocks }),
    ...(threadTs === undefined ? {} : { threadTs }),
    ...(visibleTo === undefined ? {} : { visibleTo }),
    ...(metadata === undefined ? {} : { metadata }),
    postedAt: context.clock.now(),
    via: 'web_api',
  });
}

const postMessage: MethodHandler = (params, context) => {
  const channel = targetChannel(params, context, { requireMembership: true });
  const message = addBotMessage(params, context, channel.id);
  return { channel: channel.id, ts: message.ts, message: apiMessage(message, context) };
};

const update: MethodHandler = (params, context) => {
  const channel = targetChannel(params, context, { requireMembership: false });
  const ts = stringParam(params, 'ts') ?? '';
  const message = context.transcript.message(channel.id, ts);
  if (!message || message.visibleTo !== undefined) throw new SlackApiError('message_not_found');
  if (message.botId !== context.workspace.botId) throw new SlackApiError('cant_update_message');
  const { text, blocks } = messageContent(params);
  // Slack keeps what the update leaves out: previous text without `text`, previous blocks without `blocks`.
  context.transcript.editMessage(message, { text: text ?? message.text, blocks: blocks ?? message.blocks }, context.clock.now());
  return { channel: channel.id, ts: message.ts, text: message.text, message: apiMessage(message, context) };
};

const postEphemeral: MethodHandler = (params, context) => {
  const channel = targetChannel(params, context, { requireMembership: false });
  const user = context.workspace.user(stringParam(params, 'user') ?? '');
  if (!user || user.deleted) throw new SlackApiError('user_not_in_channel');
  const message = addBotMessage(params, context, channel.id, user.id);
  return { message_ts: message.ts };
};

const getPermalink: MethodHandler = (params, context) => {
  const channel = targetChannel(params, context, { requireMembership: false });
  const message = context.transcript.message(channel.id, stringParam(params, 'message_ts') ?? '');
  if (!message || message.visibleTo !== undefined) throw new SlackApiError('message_not_found');
  return { channel: channel.id, permalink: context.workspace.permalink(channel.id, message.ts, message.threadTs) };
};

export const chatHandlers: Record<string, MethodHandler> = {
  'chat.postMessage': postMessage,
  'chat.update': update,
  'chat.postEphemeral': postEphemeral,
  'chat.getPermalink': getPermalink,
};
