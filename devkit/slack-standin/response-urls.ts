/**
 * response_url endpoints (`/response/<id>`): each one usable 5 times within 30 minutes, as
 * in Slack, which is why long jobs must switch to chat.update. A POST can reply ephemerally
 * (default), in the channel, replace or delete the message the interaction came from.
 */
import { randomBytes } from 'node:crypto';
import { validateMessageContent } from './block-kit.js';
import type { Transcript, TranscriptMessage } from './transcript.js';
import type { Block, Clock, Json } from './types.js';
import type { Workspace } from './workspace.js';

export const RESPONSE_URL_MAX_USES = 5;
export const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;

interface ResponseUrlGrant {
  channel: string;
  user: string;
  /** The message a button was clicked in; slash commands have none. */
  source?: TranscriptMessage;
  issuedAt: Date;
  uses: number;
}

export interface ResponseUrlUse {
  at: Date;
  id: string;
  body: Json;
  status: number;
  error?: string;
}

export class ResponseUrls {
  private readonly grants = new Map<string, ResponseUrlGrant>();
  readonly uses: ResponseUrlUse[] = [];

  constructor(
    private readonly deps: { baseUrl: () => string; clock: Clock; transcript: Transcript; workspace: Workspace },
  ) {}

  issue(channel: string, user: string, source?: TranscriptMessage): string {
    const id = randomBytes(12).toString('hex');
    this.grants.set(id, { channel, user, issuedAt: this.deps.clock.now(), uses: 0, ...(source ? { source } : {}) });
    return `${this.deps.baseUrl()}response/${id}`;
  }

  /** Handles one POST; the HTTP status and body mirror Slack's (404 for used or expired URLs). */
  post(id: string, body: Json): { status: number; body: Json } {
    const result = this.apply(id, body);
    const use: ResponseUrlUse = { at: this.deps.clock.now(), id, body, status: result.status };
    if (result.body.ok !== true && typeof result.body.error === 'string') use.error = result.body.error;
    this.uses.push(use);
    return result;
  }

  private apply(id: string, body: Json): { status: number; body: Json } {
    const grant = this.grants.get(id);
    if (!grant) return { status: 404, body: { ok: false, error: 'invalid_url' } };
    const now = this.deps.clock.now();
    if (now.getTime() - grant.issuedAt.getTime() > RESPONSE_URL_TTL_MS) return { status: 404, body: { ok: false, error: 'expired_url' } };
    if (grant.uses >= RESPONSE_URL_MAX_USES) return { status: 404, body: { ok: false, error: 'used_url' } };
    grant.uses += 1;

    const { transcript, workspace } = this.deps;
    if (body.delete_original === true || body.delete_original === 'true') {
      if (grant.source) transcript.deleteMessage(grant.source);
      return { status: 200, body: { ok: true } };
    }
    const rejection = validateMessageContent({ text: body.text, blocks: body.blocks });
    if (rejection) return { status: 400, body: { ok: false, error: rejection.code, response_metadata: { messages: rejection.messages } } };
    const text = typeof body.text === 'string' ? body.text : '';
    const blocks = Array.isArray(body.blocks) ? (body.blocks as Block[]) : undefined;

    if ((body.replace_original === true || body.replace_original === 'true') && grant.source) {
      transcript.editMessage(grant.source, { text, blocks }, now);
      return { status: 200, body: { ok: true } };
    }
    const inChannel = body.response_type === 'in_channel';
    const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
    transcript.addMessage({
      channel: grant.channel,
      ts: workspace.nextTs(),
      user: workspace.botUserId,
      botId: workspace.botId,
      text,
      ...(blocks ? { blocks } : {}),
      ...(threadTs ? { threadTs } : {}),
      ...(inChannel ? {} : { visibleTo: grant.user }),
      postedAt: now,
      via: 'response_url',
    });
    return { status: 200, body: { ok: true } };
  }
}
