/**
 * conversations.history and conversations.replies: a channel's top-level messages (newest
 * first) and a thread (parent, then replies oldest first), with Slack's oldest/latest/inclusive
 * window, limit and cursor, and message metadata only with `include_all_metadata` (the bot finds
 * its own unanswered posts by the key in their metadata).
 */
import { booleanParam, stringParam, targetChannel, type ApiContext, type MethodHandler } from './api-context.js';
import { SlackApiError } from './method-table.js';
import { compareTs, type TranscriptMessage } from './transcript.js';
import { apiMessage } from './web-api-chat.js';
import type { Json } from './types.js';

const TS = /^\d+(\.\d+)?$/;

interface Window {
  oldest?: string;
  latest?: string;
  inclusive: boolean;
}

function windowOf(params: Json, badOldest: string, badLatest: string): Window {
  const oldest = stringParam(params, 'oldest');
  const latest = stringParam(params, 'latest');
  if (oldest !== undefined && oldest !== '' && !TS.test(oldest)) throw new SlackApiError(badOldest);
  if (latest !== undefined && latest !== '' && !TS.test(latest)) throw new SlackApiError(badLatest);
  return { ...(oldest ? { oldest } : {}), ...(latest ? { latest } : {}), inclusive: booleanParam(params, 'inclusive') };
}

function inWindow(ts: string, w: Window): boolean {
  if (w.oldest !== undefined && (w.inclusive ? compareTs(ts, w.oldest) < 0 : compareTs(ts, w.oldest) <= 0)) return false;
  if (w.latest !== undefined && (w.inclusive ? compareTs(ts, w.latest) > 0 : compareTs(ts, w.latest) >= 0)) return false;
  return true;
}

/** One page of `messages` from the cursor on (the cursor is the offset, base64 as Slack's look). */
function page(params: Json, messages: Json[]): { messages: Json[]; has_more: boolean; response_metadata: { next_cursor: string } } {
  const cursor = stringParam(params, 'cursor');
  const offset = cursor ? Number(Buffer.from(cursor, 'base64').toString('utf8').replace(/^offset:/, '')) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw new SlackApiError('invalid_arguments');
  const limit = Math.min(999, Math.max(1, Number(stringParam(params, 'limit') ?? 100) || 100));
  const slice = messages.slice(offset, offset + limit);
  const more = offset + limit < messages.length;
  return { messages: slice, has_more: more, response_metadata: { next_cursor: more ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '' } };
}

const visible = (m: TranscriptMessage): boolean => !m.deleted && m.visibleTo === undefined;

const history: MethodHandler = (params, context: ApiContext) => {
  const channel = targetChannel(params, context, { requireMembership: false });
  const w = windowOf(params, 'invalid_ts_oldest', 'invalid_ts_latest');
  const withMetadata = booleanParam(params, 'include_all_metadata');
  const messages = context.transcript.messages(channel.id)
    .filter((m) => inWindow(m.ts, w))
    .sort((a, b) => compareTs(b.ts, a.ts))
    .map((m) => apiMessage(m, context, withMetadata));
  return { ...page(params, messages), pin_count: 0, channel_actions_ts: null, channel_actions_count: 0 };
};

const replies: MethodHandler = (params, context: ApiContext) => {
  const channel = targetChannel(params, context, { requireMembership: false });
  const ts = stringParam(params, 'ts') ?? '';
  const parent = context.transcript.allMessages(channel.id).find((m) => m.ts === ts && visible(m));
  if (!parent) throw new SlackApiError('thread_not_found');
  const w = windowOf(params, 'invalid_arguments', 'invalid_arguments');
  const withMetadata = booleanParam(params, 'include_all_metadata');
  const thread = context.transcript.thread(channel.id, parent.ts).filter((m) => inWindow(m.ts, w));
  const parentBody = { ...apiMessage(parent, context, withMetadata), thread_ts: parent.ts, reply_count: context.transcript.thread(channel.id, parent.ts).length };
  // Slack starts every page's list with the parent message.
  const result = page(params, thread.map((m) => apiMessage(m, context, withMetadata)));
  return { ...result, messages: [parentBody, ...result.messages] };
};

export const conversationHandlers: Record<string, MethodHandler> = {
  'conversations.history': history,
  'conversations.replies': replies,
};
