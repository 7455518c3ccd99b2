/**
 * Everything that happened in the fake workspace, in order: messages per channel (with edit
 * history), ephemeral messages per user, modal views, user actions and Web API calls. Tests
 * query it; the demo subscribes with onChange and prints render() as things happen.
 */
import { describeEvent, renderChannel, type RenderNames } from './render.js';
import type { Block, Json, RecordedCall } from './types.js';
import { ViewStore, type TranscriptView } from './view-store.js';

export type { TranscriptView } from './view-store.js';

export interface MessageVersion {
  /** When this version became current. */
  at: Date;
  text: string;
  blocks?: Block[];
}

/** A file shared with files.completeUploadExternal, bytes included. */
export interface TranscriptFile {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  size: number;
  /** The alt_txt given to files.getUploadURLExternal (what a screen reader says). */
  altText?: string;
  bytes: Buffer;
}

export interface TranscriptMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  /** Author's user id; for the bot, its bot user id (as in Slack's message objects). */
  user: string;
  botId?: string;
  text: string;
  blocks?: Block[];
  postedAt: Date;
  editedAt?: Date;
  /** Earlier versions (each with the time it became current), oldest first. */
  edits: MessageVersion[];
  deleted: boolean;
  /** Set for ephemeral messages: the only user who sees it. */
  visibleTo?: string;
  /** Message metadata the poster attached (chat.postMessage `metadata`). */
  metadata?: { event_type: string; event_payload: Json };
  /** Files shared with the message (files.completeUploadExternal). */
  files?: TranscriptFile[];
  via: 'web_api' | 'response_url' | 'ack' | 'slack';
}

export interface UserAction {
  at: Date;
  user: string;
  channel?: string;
  kind: 'slash_command' | 'block_actions' | 'view_submission';
  detail: string;
}

export type TranscriptEvent =
  | { type: 'message_posted' | 'message_updated' | 'message_deleted'; message: TranscriptMessage }
  | { type: 'view_opened' | 'view_updated' | 'view_closed'; view: TranscriptView }
  | { type: 'user_action'; action: UserAction }
  | { type: 'api_call'; call: RecordedCall };

export type TranscriptListener = (event: TranscriptEvent) => void;

export class Transcript {
  private readonly channelMessages = new Map<string, TranscriptMessage[]>();
  private readonly listeners = new Set<TranscriptListener>();
  readonly actions: UserAction[] = [];
  readonly calls: RecordedCall[] = [];
  readonly viewStore: ViewStore;

  /** `names` makes render() show `@alice` and `#incident` instead of ids. */
  constructor(private readonly names?: RenderNames) {
    this.viewStore = new ViewStore((type, view) => this.emit({ type, view }));
  }

  onChange(listener: TranscriptListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: TranscriptEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  // --- recording (used by the Web API, response_url and user-action code) ---

  addMessage(message: Omit<TranscriptMessage, 'edits' | 'deleted'>): TranscriptMessage {
    const stored: TranscriptMessage = { ...message, edits: [], deleted: false };
    const list = this.channelMessages.get(message.channel) ?? [];
    list.push(stored);
    this.channelMessages.set(message.channel, list);
    this.emit({ type: 'message_posted', message: stored });
    return stored;
  }

  editMessage(message: TranscriptMessage, next: { text: string; blocks?: Block[] | undefined }, at: Date): void {
    const previous: MessageVersion = { at: message.editedAt ?? message.postedAt, text: message.text };
    if (message.blocks !== undefined) previous.blocks = message.blocks;
    message.edits.push(previous);
    message.text = next.text;
    message.editedAt = at;
    if (next.blocks === undefined) delete message.blocks;
    else message.blocks = next.blocks;
    this.emit({ type: 'message_updated', message });
  }

  deleteMessage(message: TranscriptMessage): void {
    message.deleted = true;
    this.emit({ type: 'message_deleted', message });
  }

  recordAction(action: UserAction): void {
    this.actions.push(action);
    this.emit({ type: 'user_action', action });
  }

  recordCall(call: RecordedCall): void {
    this.calls.push(call);
    this.emit({ type: 'api_call', call });
  }

  // --- queries for tests ---

  /** Every message of a channel, thread replies and ephemerals included, oldest first. */
  allMessages(channel: string): TranscriptMessage[] {
    return [...(this.channelMessages.get(channel) ?? [])];
  }

  /** Top-level, non-ephemeral, non-deleted messages of a channel, oldest first. */
  messages(channel: string): TranscriptMessage[] {
    return this.allMessages(channel).filter(
      (m) => !m.deleted && m.visibleTo === undefined && (m.threadTs === undefined || m.threadTs === m.ts),
    );
  }

  /** Replies in a thread (the parent excluded), oldest first. */
  thread(channel: string, threadTs: string): TranscriptMessage[] {
    return this.allMessages(channel).filter(
      (m) => !m.deleted && m.visibleTo === undefined && m.threadTs === threadTs && m.ts !== threadTs,
    );
  }

  ephemerals(channel: string, user: string): TranscriptMessage[] {
    return this.allMessages(channel).filter((m) => !m.deleted && m.visibleTo === user);
  }

  /** The message a user could see at (channel, ts), ephemeral ones included. */
  message(channel: string, ts: string): TranscriptMessage | undefined {
    return this.allMessages(channel).find((m) => m.ts === ts && !m.deleted);
  }

  /** The newest message anywhere that matches. */
  findMessage(predicate: (message: TranscriptMessage) => boolean): TranscriptMessage | undefined {
    const all = [...this.channelMessages.values()].flat().filter((m) => !m.deleted);
    all.sort((a, b) => compareTs(b.ts, a.ts));
    return all.find(predicate);
  }

  channels(): string[] {
    return [...this.channelMessages.keys()];
  }

  views(user?: string): TranscriptView[] {
    return this.viewStore.all().filter((v) => user === undefined || v.user === user);
  }

  view(id: string): TranscriptView | undefined {
    return this.viewStore.get(id);
  }

  /**
   * Resolves with the first truthy value of `predicate`, re-evaluated on every change (and on
   * a short poll, for predicates that look at state outside the transcript).
   */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs = 60_000): Promise<T> {
    const first = predicate();
    if (first) return Promise.resolve(first);
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        let value: T | undefined | null | false;
        try {
          value = predicate();
        } catch (error) {
          finish();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (value) {
          finish();
          resolve(value);
        }
      };
      const unsubscribe = this.onChange(check);
      const poll = setInterval(check, 50);
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`waitFor timed out after ${timeoutMs} ms. Transcript:\n${this.render()}`));
      }, timeoutMs);
      const finish = (): void => {
        unsubscribe();
        clearInterval(poll);
        clearTimeout(timer);
      };
    });
  }

  /** The channel (or every channel) as readable text, ephemerals marked with their viewer. */
  render(channel?: string): string {
    const ids = channel === undefined ? this.channels() : [channel];
    return ids.map((id) => renderChannel(id, this.allMessages(id), this.names)).join('\n\n');
  }

  /** One change as readable lines (undefined for Web API calls), for printing as it happens. */
  describe(event: TranscriptEvent): string | undefined {
    return describeEvent(event, this.names);
  }

  /** For assertions on what a user saw: text plus every text inside the blocks. */
  static textOf(message: Pick<TranscriptMessage, 'text' | 'blocks'>): string {
    const parts: string[] = [message.text];
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(visit);
      else if (typeof node === 'object' && node !== null) {
        const record = node as Json;
        if (typeof record.text === 'string') parts.push(record.text);
        for (const [key, value] of Object.entries(record)) if (key !== 'text' || typeof value !== 'string') visit(value);
      }
    };
    visit(message.blocks);
    return parts.join('\n');
  }
}

/** Orders Slack timestamps exactly; as floats, microseconds would be lost. */
export function compareTs(a: string, b: string): number {
  const [aSeconds = '0', aMicros = '0'] = a.split('.');
  const [bSeconds = '0', bMicros = '0'] = b.split('.');
  return Number(aSeconds) - Number(bSeconds) || Number(aMicros.padEnd(6, '0')) - Number(bMicros.padEnd(6, '0'));
}
