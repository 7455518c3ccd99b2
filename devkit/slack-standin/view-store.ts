/**
 * Modal views and their per-user stacks, as Slack keeps them: views.open starts a stack,
 * views.push adds to it (at most 3 deep), a submission without response_action pops the
 * submitted view, `clear` closes the whole stack. Each change gets a new hash, which is how
 * Slack detects views.update races (`hash_conflict`).
 */
import { randomBytes } from 'node:crypto';
import type { Json } from './types.js';

export const MAX_VIEW_STACK = 3;

export interface ViewVersion {
  at: Date;
  definition: Json;
  via: string;
}

export interface TranscriptView {
  id: string;
  user: string;
  hash: string;
  rootViewId: string;
  previousViewId?: string;
  externalId?: string;
  /** The view as the bot last sent it (type, title, blocks, private_metadata, ...). */
  definition: Json;
  status: 'open' | 'closed';
  openedAt: Date;
  closedAt?: Date;
  /** Every definition the view has had, oldest first, the current one last. */
  history: ViewVersion[];
  /** Values submitted by the user (Slack's `view.state.values`), one entry per submission. */
  submissions: Array<{ at: Date; values: Json }>;
}

export interface AppIdentity {
  teamId: string;
  appId: string;
  botId: string;
}

type ViewEventType = 'view_opened' | 'view_updated' | 'view_closed';

export class ViewStore {
  private readonly views = new Map<string, TranscriptView>();
  private readonly stacks = new Map<string, string[]>();
  private sequence = 0;

  constructor(private readonly emit: (type: ViewEventType, view: TranscriptView) => void) {}

  get(id: string): TranscriptView | undefined {
    return this.views.get(id);
  }

  byExternalId(externalId: string): TranscriptView | undefined {
    return [...this.views.values()].find((v) => v.externalId === externalId);
  }

  all(): TranscriptView[] {
    return [...this.views.values()];
  }

  /** The user's open views, bottom of the stack first. */
  stack(user: string): TranscriptView[] {
    return (this.stacks.get(user) ?? []).map((id) => this.views.get(id)).filter((v): v is TranscriptView => v !== undefined);
  }

  /** Opens a new stack; a modal the user still had open is closed, as the Slack client does. */
  open(user: string, definition: Json, at: Date, via: string): TranscriptView {
    this.clear(user, at);
    const view = this.create(user, definition, at, via, undefined);
    this.stacks.set(user, [view.id]);
    this.emit('view_opened', view);
    return view;
  }

  push(user: string, definition: Json, at: Date, via: string): TranscriptView | 'push_limit_reached' | 'no_open_view' {
    const stack = this.stacks.get(user) ?? [];
    const top = stack.at(-1);
    if (top === undefined) return 'no_open_view';
    if (stack.length >= MAX_VIEW_STACK) return 'push_limit_reached';
    const view = this.create(user, definition, at, via, this.views.get(top));
    stack.push(view.id);
    this.emit('view_opened', view);
    return view;
  }

  update(view: TranscriptView, definition: Json, at: Date, via: string): void {
    view.definition = definition;
    view.hash = newHash();
    if (typeof definition.external_id === 'string') view.externalId = definition.external_id;
    view.history.push({ at, definition, via });
    this.emit('view_updated', view);
  }

  /** Pops the view (and any view pushed above it). */
  close(view: TranscriptView, at: Date): void {
    const stack = this.stacks.get(view.user) ?? [];
    const index = stack.indexOf(view.id);
    const closing = index === -1 ? [view.id] : stack.splice(index);
    for (const id of closing.reverse()) this.markClosed(this.views.get(id), at);
  }

  clear(user: string, at: Date): void {
    const stack = this.stacks.get(user) ?? [];
    this.stacks.delete(user);
    for (const id of stack.reverse()) this.markClosed(this.views.get(id), at);
  }

  /** Slack's view object, as views.* answer and view_submission payloads carry it. */
  toApiView(view: TranscriptView, identity: AppIdentity, stateValues: Json = {}): Json {
    const d = view.definition;
    return {
      id: view.id,
      team_id: identity.teamId,
      type: d.type ?? 'modal',
      blocks: d.blocks ?? [],
      private_metadata: d.private_metadata ?? '',
      callback_id: d.callback_id ?? '',
      state: { values: stateValues },
      hash: view.hash,
      title: d.title,
      clear_on_close: d.clear_on_close ?? false,
      notify_on_close: d.notify_on_close ?? false,
      close: d.close ?? null,
      submit: d.submit ?? null,
      previous_view_id: view.previousViewId ?? null,
      root_view_id: view.rootViewId,
      app_id: identity.appId,
      external_id: view.externalId ?? '',
      app_installed_team_id: identity.teamId,
      bot_id: identity.botId,
    };
  }

  private create(user: string, definition: Json, at: Date, via: string, below: TranscriptView | undefined): TranscriptView {
    this.sequence += 1;
    const id = `V0${String(this.sequence).padStart(9, '0')}`;
    const view: TranscriptView = {
      id,
      user,
      hash: newHash(),
      rootViewId: below?.rootViewId ?? id,
      definition,
      status: 'open',
      openedAt: at,
      history: [{ at, definition, via }],
      submissions: [],
    };
    if (below) view.previousViewId = below.id;
    if (typeof definition.external_id === 'string') view.externalId = definition.external_id;
    this.views.set(id, view);
    return view;
  }

  private markClosed(view: TranscriptView | undefined, at: Date): void {
    if (!view || view.status === 'closed') return;
    view.status = 'closed';
    view.closedAt = at;
    this.emit('view_closed', view);
  }
}

/** Opaque, like Slack's; only equality matters. */
function newHash(): string {
  return randomBytes(8).toString('hex');
}
