/**
 * Pure builders for what Slack POSTs to an app: the slash-command form and the interaction
 * payloads (block_actions, view_submission), with Slack's field names and nesting.
 */
import type { Json, StandInChannel, StandInUser } from './types.js';
import type { Workspace } from './workspace.js';

/** Slack still sends the deprecated verification token; apps must not rely on it. */
export const VERIFICATION_TOKEN = 'standin-verification-token';

export function slashCommandBody(input: {
  workspace: Workspace;
  user: StandInUser;
  channel: StandInChannel;
  command: string;
  text: string;
  responseUrl: string;
  triggerId: string;
}): string {
  const { workspace, user, channel } = input;
  return new URLSearchParams({
    token: VERIFICATION_TOKEN,
    team_id: workspace.teamId,
    team_domain: workspace.teamDomain,
    channel_id: channel.id,
    // As Slack does: a slash command from a private channel names it `privategroup`.
    channel_name: channel.isPrivate ? 'privategroup' : channel.name,
    user_id: user.id,
    user_name: user.name,
    command: input.command,
    // As Slack does: the typed text's &, < and > arrive as entities.
    text: input.text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
    api_app_id: workspace.appId,
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId,
  }).toString();
}

/** Interactions arrive as one form field, `payload`, holding JSON. */
export function interactionBody(payload: Json): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function userObject(workspace: Workspace, user: StandInUser): Json {
  return { id: user.id, username: user.name, name: user.name, team_id: workspace.teamId };
}

export function blockActionsPayload(input: {
  workspace: Workspace;
  user: StandInUser;
  container: Json;
  action: Json;
  triggerId: string;
  channel?: StandInChannel;
  /** Absent for ephemeral messages, as in Slack. */
  message?: Json;
  view?: Json;
  responseUrl?: string;
  stateValues?: Json;
}): Json {
  const { workspace } = input;
  const payload: Json = {
    type: 'block_actions',
    user: userObject(workspace, input.user),
    api_app_id: workspace.appId,
    token: VERIFICATION_TOKEN,
    container: input.container,
    trigger_id: input.triggerId,
    team: { id: workspace.teamId, domain: workspace.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    state: { values: input.stateValues ?? {} },
    actions: [input.action],
  };
  if (input.channel) payload.channel = { id: input.channel.id, name: input.channel.name };
  if (input.message) payload.message = input.message;
  if (input.view) payload.view = input.view;
  if (input.responseUrl) payload.response_url = input.responseUrl;
  return payload;
}

export function viewSubmissionPayload(input: { workspace: Workspace; user: StandInUser; view: Json; triggerId: string }): Json {
  const { workspace } = input;
  return {
    type: 'view_submission',
    team: { id: workspace.teamId, domain: workspace.teamDomain },
    user: userObject(workspace, input.user),
    api_app_id: workspace.appId,
    token: VERIFICATION_TOKEN,
    trigger_id: input.triggerId,
    view: input.view,
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export interface FoundAction {
  blockId: string;
  element: Json;
}

/** Finds a clickable element by action_id (and value, when several share one) in blocks. */
export function findAction(blocks: unknown, actionId: string, value?: string): FoundAction | undefined {
  if (!Array.isArray(blocks)) return undefined;
  for (const [index, block] of blocks.entries()) {
    if (typeof block !== 'object' || block === null) continue;
    const b = block as Json;
    const elements = [...(Array.isArray(b.elements) ? b.elements : []), ...(b.accessory ? [b.accessory] : [])] as Json[];
    const match = elements.find((e) => e.action_id === actionId && (value === undefined || e.value === value));
    // Slack fills in a block_id when the app left it out; the stand-in does the same, stably.
    if (match) return { blockId: typeof b.block_id === 'string' ? b.block_id : `standin-block-${index}`, element: match };
  }
  return undefined;
}

/** Every action_id a user could click, for helpful errors when a test names a missing one. */
export function listActionIds(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return [];
  return (blocks as Json[]).flatMap((b) =>
    [...(Array.isArray(b.elements) ? b.elements : []), ...(b.accessory ? [b.accessory] : [])]
      .map((e) => (e as Json).action_id)
      .filter((id): id is string => typeof id === 'string'),
  );
}
