/**
 * Plain-text rendering of a channel, roughly as a person would read it in Slack: messages in
 * order, thread replies indented under their parent, ephemerals marked with who sees them,
 * buttons in brackets. The demo prints this to the terminal; failing tests print it too.
 */
import type { TranscriptMessage } from './transcript.js';
import type { Block } from './types.js';

type RenderableMessage = Pick<TranscriptMessage, 'channel' | 'ts' | 'threadTs' | 'user' | 'botId' | 'text' | 'blocks' | 'edits' | 'deleted' | 'visibleTo'> & Partial<Pick<TranscriptMessage, 'files'>>;

function textField(value: unknown): string {
  if (typeof value === 'object' && value !== null && typeof (value as Block).text === 'string') {
    return (value as { text: string }).text;
  }
  return '';
}

function renderElement(element: unknown): string {
  if (typeof element !== 'object' || element === null) return '';
  const e = element as Block;
  const label = textField(e.text) || textField(e.placeholder) || String(e.action_id ?? e.type);
  if (e.type === 'button') return `[${label}${e.style === 'danger' ? ' (danger)' : e.style === 'primary' ? ' (primary)' : ''}]`;
  if (e.type === 'image') return `[image: ${String(e.alt_text ?? '')}]`;
  return `[${String(e.type)}: ${label}]`;
}

/** One block as lines of text (without indentation). */
export function renderBlock(block: Block): string[] {
  switch (block.type) {
    case 'header':
      return [`== ${textField(block.text)} ==`];
    case 'section': {
      const lines = textField(block.text) ? textField(block.text).split('\n') : [];
      if (Array.isArray(block.fields)) lines.push(block.fields.map(textField).join('  |  '));
      if (block.accessory !== undefined) lines.push(renderElement(block.accessory));
      return lines;
    }
    case 'divider':
      return ['----------'];
    case 'context':
      return [Array.isArray(block.elements) ? block.elements.map((e) => textField(e) || renderElement(e)).join(' · ') : ''];
    case 'actions':
      return [Array.isArray(block.elements) ? block.elements.map(renderElement).join(' ') : ''];
    case 'input':
      return [`${textField(block.label)}: ${renderElement(block.element)}`];
    case 'image':
      return [`[image: ${String(block.alt_text ?? '')}]`];
    default:
      return [`[${String(block.type)} block]`];
  }
}

function clockTime(ts: string): string {
  return new Date(Number(ts) * 1000).toISOString().slice(11, 19);
}

/** How ids read in the rendering; the transcript passes the workspace's names. */
export interface RenderNames {
  user(id: string): string;
  channel(id: string): string;
}

const IDS: RenderNames = { user: (id) => id, channel: (id) => id };

/** One message as lines; blocks take precedence over the notification text, as in Slack. */
export function renderMessage(message: RenderableMessage, names: RenderNames = IDS, prefix = ''): string {
  const author = message.botId ? `${names.user(message.user)} (bot)` : names.user(message.user);
  const flags = [
    message.visibleTo ? `only visible to ${names.user(message.visibleTo)}` : '',
    message.edits.length > 0 ? `edited ${message.edits.length}x` : '',
  ].filter(Boolean);
  const head = `${prefix}[${clockTime(message.ts)}] ${author}${flags.length ? ` (${flags.join(', ')})` : ''}:`;
  const text = message.blocks && message.blocks.length > 0 ? message.blocks.flatMap(renderBlock) : message.text.split('\n');
  const files = (message.files ?? []).map((f) => `[file ${f.name}, ${f.mimetype}, ${f.size} bytes${f.altText ? `; alt: ${f.altText}` : ''}]`);
  const body = [...(text.length === 1 && text[0] === '' && files.length > 0 ? [] : text), ...files];
  const indent = ' '.repeat(prefix.length + 4);
  return [head, ...body.map((line) => `${indent}${line}`)].join('\n');
}

export function renderChannel(channel: string, messages: RenderableMessage[], names: RenderNames = IDS): string {
  const visible = messages.filter((m) => !m.deleted);
  const topLevel = visible.filter((m) => m.threadTs === undefined || m.threadTs === m.ts);
  const lines = [`#${names.channel(channel)}`];
  for (const parent of topLevel) {
    lines.push(renderMessage(parent, names));
    for (const reply of visible.filter((m) => m.threadTs === parent.ts && m.ts !== parent.ts)) {
      lines.push(renderMessage(reply, names, '  ↳ '));
    }
  }
  const orphans = visible.filter((m) => m.threadTs !== undefined && m.threadTs !== m.ts && !topLevel.some((p) => p.ts === m.threadTs));
  for (const orphan of orphans) lines.push(renderMessage(orphan, names, `  ↳ (thread ${orphan.threadTs}) `));
  return lines.join('\n');
}

type DescribableEvent =
  | { type: 'message_posted' | 'message_updated' | 'message_deleted'; message: RenderableMessage }
  | { type: 'view_opened' | 'view_updated' | 'view_closed'; view: { id: string; user: string; definition: Block } }
  | { type: 'user_action'; action: { user: string; channel?: string; detail: string } }
  | { type: 'api_call' };

/** One change as terminal lines, for the demo's live view; Web API calls are not shown. */
export function describeEvent(event: DescribableEvent, names: RenderNames = IDS): string | undefined {
  switch (event.type) {
    case 'message_posted':
      return renderMessage(event.message, names, event.message.threadTs && event.message.threadTs !== event.message.ts ? '  ↳ ' : '');
    case 'message_updated':
      return renderMessage(event.message, names, '(updated) ');
    case 'message_deleted':
      return `(deleted message ${event.message.ts} in #${names.channel(event.message.channel)})`;
    case 'view_opened':
    case 'view_updated':
    case 'view_closed': {
      const verb = event.type.slice('view_'.length);
      return `[modal ${textField(event.view.definition.title)} ${verb} for ${names.user(event.view.user)}]`;
    }
    case 'user_action': {
      const where = event.action.channel ? ` in #${names.channel(event.action.channel)}` : '';
      return `${names.user(event.action.user)}${where}: ${event.action.detail}`;
    }
    default:
      return undefined;
  }
}
