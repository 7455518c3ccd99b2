/**
 * What every Web API method handler receives, and helpers to read parameters the way Slack
 * does: form bodies carry everything as strings (objects JSON-encoded), JSON bodies carry
 * real types, and both must mean the same thing.
 */
import { SlackApiError, validationError } from './method-table.js';
import type { Transcript } from './transcript.js';
import type { TriggerRegistry } from './trigger-ids.js';
import type { UploadStore } from './web-api-files.js';
import type { Clock, Json, StandInChannel } from './types.js';
import type { Workspace } from './workspace.js';

export interface ApiContext {
  workspace: Workspace;
  transcript: Transcript;
  triggers: TriggerRegistry;
  clock: Clock;
  /** Files between files.getUploadURLExternal and files.completeUploadExternal. */
  uploads: UploadStore;
}

/** A handler returns the success body without `ok`, or throws SlackApiError. */
export type MethodHandler = (params: Json, context: ApiContext) => Json;

export function stringParam(params: Json, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : String(value);
}

export function booleanParam(params: Json, name: string): boolean {
  const value = params[name];
  return value === true || value === 'true' || value === '1' || value === 1;
}

/**
 * A parameter that holds JSON (blocks, attachments, view). A string that is not JSON is the
 * client's mistake; Slack answers with the method's validation error and says why.
 */
export function jsonParam(params: Json, name: string, errorCode: string): unknown {
  const value = params[name];
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw validationError(errorCode, [`[ERROR] ${name} is not valid JSON: ${reason} [json-pointer:/${name}]`]);
  }
}

/** The channel a message method targets, with Slack's checks in Slack's order. */
export function targetChannel(params: Json, context: ApiContext, options: { requireMembership: boolean }): StandInChannel {
  const channel = context.workspace.channel(stringParam(params, 'channel') ?? '');
  if (!channel) throw new SlackApiError('channel_not_found');
  if (channel.isArchived) throw new SlackApiError('is_archived');
  if (options.requireMembership && channel.botIsMember === false) throw new SlackApiError('not_in_channel');
  return channel;
}
