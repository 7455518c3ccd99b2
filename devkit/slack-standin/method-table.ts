/**
 * The Web API methods the stand-in supports, hand-copied from Slack's OpenAPI description
 * (slack_web_openapi_v2.json) so the code never needs that file at run time.
 * test/unit/slack-standin/method-table.test.ts checks this table against the spec whenever
 * the spec is present, so a typo here cannot hide a bot calling a parameter Slack lacks.
 */
import type { Json } from './types.js';

export interface MethodDefinition {
  /** Parameters the stand-in understands. Slack ignores others; the call log flags them. */
  params: readonly string[];
  /** Missing one answers `invalid_arguments` (Slack's current behaviour). */
  required: readonly string[];
  /** Method-specific error codes the stand-in can answer with. */
  errors: readonly string[];
  /** Granular bot scope the method needs; none for views.* and auth.test. */
  scope?: string;
  /** The scope it needs instead when its `channel` is a private channel (Slack's groups:* scopes). */
  privateScope?: string;
  /** Set for methods published after the 2020 spec; the spec test skips them. */
  newerThanSpec?: string;
  /** Parameters added after the 2020 spec (in `params` too), each with the reason; the spec test skips them. */
  paramsNewerThanSpec?: Record<string, string>;
  /** Which token the method takes; bot token unless stated. */
  token?: 'bot' | 'app';
}

/** Every method may answer these, so they are not repeated per method. */
export const COMMON_ERRORS = ['not_authed', 'invalid_auth', 'missing_scope', 'invalid_arguments', 'ratelimited'] as const;

/**
 * Codes Slack answers today that the 2020 spec does not list. Kept short and explained,
 * because every entry is a place where the spec cannot keep the stand-in honest.
 */
export const NEWER_THAN_SPEC_ERRORS: Record<string, string> = {
  invalid_blocks: 'Block Kit validation failures; the spec predates Block Kit error codes',
  ratelimited: 'body of an HTTP 429; the spec lists the older rate_limited name',
  expired_trigger_id: 'views.* have no error list in the spec',
  invalid_trigger_id: 'views.* have no error list in the spec',
  no_such_subteam: 'usergroups.users.list lists no not-found code in the spec',
  invalid_metadata_format: 'message metadata (2022) is not in the 2020 spec',
};

const METADATA_PARAM = { metadata: 'message metadata (2022): the bot marks each post with its key' };
const INCLUDE_METADATA_PARAM = { include_all_metadata: 'message metadata (2022): returns the metadata the bot looks for' };

/** Parameters accepted on every method, each with the reason. */
export const UNIVERSAL_PARAMS: Record<string, string> = {
  token: 'the token may travel in the body instead of the Authorization header',
  team_id: "@slack/web-api adds the event's team_id to every call a Bolt listener makes (org-ready apps)",
};

const MESSAGE_ERRORS = ['channel_not_found', 'msg_too_long', 'no_text', 'invalid_blocks'] as const;

export const METHODS = {
  'auth.test': { params: [], required: [], errors: [] },
  'chat.postMessage': {
    params: [
      'channel', 'text', 'blocks', 'attachments', 'thread_ts', 'reply_broadcast', 'mrkdwn', 'parse',
      'link_names', 'unfurl_links', 'unfurl_media', 'username', 'icon_emoji', 'icon_url', 'as_user', 'metadata',
    ],
    paramsNewerThanSpec: METADATA_PARAM,
    required: ['channel'],
    errors: [...MESSAGE_ERRORS, 'not_in_channel', 'is_archived', 'invalid_metadata_format'],
    scope: 'chat:write',
  },
  'conversations.history': {
    params: ['channel', 'cursor', 'inclusive', 'latest', 'limit', 'oldest', 'include_all_metadata'],
    paramsNewerThanSpec: INCLUDE_METADATA_PARAM,
    required: ['channel'],
    errors: ['channel_not_found', 'invalid_ts_latest', 'invalid_ts_oldest'],
    scope: 'channels:history',
    privateScope: 'groups:history',
  },
  'conversations.replies': {
    params: ['channel', 'ts', 'cursor', 'inclusive', 'latest', 'limit', 'oldest', 'include_all_metadata'],
    paramsNewerThanSpec: INCLUDE_METADATA_PARAM,
    required: ['channel', 'ts'],
    errors: ['channel_not_found', 'thread_not_found'],
    scope: 'channels:history',
    privateScope: 'groups:history',
  },
  'chat.update': {
    params: ['channel', 'ts', 'text', 'blocks', 'attachments', 'as_user', 'link_names', 'parse'],
    required: ['channel', 'ts'],
    errors: [...MESSAGE_ERRORS, 'message_not_found', 'cant_update_message'],
    scope: 'chat:write',
  },
  'chat.postEphemeral': {
    params: [
      'channel', 'user', 'text', 'blocks', 'attachments', 'thread_ts', 'as_user', 'icon_emoji',
      'icon_url', 'link_names', 'parse', 'username',
    ],
    required: ['channel', 'user'],
    errors: [...MESSAGE_ERRORS, 'is_archived', 'user_not_in_channel'],
    scope: 'chat:write',
  },
  'chat.getPermalink': {
    params: ['channel', 'message_ts'],
    required: ['channel', 'message_ts'],
    errors: ['channel_not_found', 'message_not_found'],
  },
  'views.open': {
    params: ['trigger_id', 'view'],
    required: ['trigger_id', 'view'],
    errors: ['expired_trigger_id', 'invalid_trigger_id'],
  },
  'views.push': {
    params: ['trigger_id', 'view'],
    required: ['trigger_id', 'view'],
    errors: ['expired_trigger_id', 'invalid_trigger_id', 'push_limit_reached'],
  },
  'views.update': {
    params: ['view_id', 'external_id', 'view', 'hash'],
    required: ['view'],
    errors: ['not_found', 'hash_conflict'],
  },
  'users.info': {
    params: ['user', 'include_locale'],
    required: ['user'],
    errors: ['user_not_found'],
    scope: 'users:read',
  },
  'usergroups.users.list': {
    params: ['usergroup', 'include_disabled'],
    required: ['usergroup'],
    errors: ['no_such_subteam'],
    scope: 'usergroups:read',
  },
  'conversations.info': {
    params: ['channel', 'include_locale', 'include_num_members'],
    required: ['channel'],
    errors: ['channel_not_found'],
    scope: 'channels:read',
    privateScope: 'groups:read',
  },
  'files.getUploadURLExternal': {
    params: ['filename', 'length', 'alt_txt', 'alt_text', 'snippet_type'],
    required: ['filename', 'length'],
    errors: ['missing_argument', 'file_upload_size_restricted', 'alt_txt_too_large'],
    scope: 'files:write',
    newerThanSpec: 'uploads in three steps (2024, files.upload retired) are not in the 2020 spec',
  },
  'files.completeUploadExternal': {
    params: ['files', 'channel_id', 'thread_ts', 'initial_comment'],
    required: ['files'],
    errors: ['file_not_found', 'channel_not_found', 'not_in_channel'],
    scope: 'files:write',
    newerThanSpec: 'uploads in three steps (2024, files.upload retired) are not in the 2020 spec',
  },
  'apps.connections.open': {
    params: [],
    required: [],
    errors: [],
    token: 'app',
    newerThanSpec: 'Socket Mode (2021) is not in the 2020 spec',
  },
} satisfies Record<string, MethodDefinition>;

export type MethodName = keyof typeof METHODS;

export function isSupportedMethod(name: string): name is MethodName {
  return Object.hasOwn(METHODS, name);
}

export function methodDefinition(name: string): MethodDefinition | undefined {
  return isSupportedMethod(name) ? METHODS[name] : undefined;
}

/** Scopes a freshly installed recover-bot would hold: whatever the supported methods need. */
export function defaultScopes(): string[] {
  const scopes = Object.values(METHODS).flatMap((m: MethodDefinition) => [m.scope, m.privateScope]);
  return [...new Set(scopes.filter((s): s is string => s !== undefined))];
}

/** Parameters a call used that the method does not have (UNIVERSAL_PARAMS are always allowed). */
export function unknownParamsOf(method: string, params: Json): string[] {
  const definition = methodDefinition(method);
  if (!definition) return Object.keys(params);
  const known = new Set<string>([...definition.params, ...Object.keys(UNIVERSAL_PARAMS)]);
  return Object.keys(params).filter((name) => !known.has(name));
}

/** Thrown by method handlers; becomes `{ ok: false, error, ...extra }` with HTTP 200, as Slack does. */
export class SlackApiError extends Error {
  readonly code: string;
  readonly extra: Json;

  constructor(code: string, extra: Json = {}) {
    super(code);
    this.name = 'SlackApiError';
    this.code = code;
    this.extra = extra;
  }
}

/** Slack's shape for validation failures: both `errors` and `response_metadata.messages`. */
export function validationError(code: string, messages: string[]): SlackApiError {
  return new SlackApiError(code, {
    errors: messages.map((m) => m.replace(/^\[ERROR\] /, '')),
    response_metadata: { messages },
  });
}
