/**
 * Shared pieces of the Block Kit builders: ids of interactive elements, text helpers, and
 * the guards that keep every message inside Slack's limits (≤ 50 blocks, section text
 * ≤ 3000 characters, about 13k characters of blocks JSON). Everything here is pure.
 */
import { randomBytes } from 'node:crypto';
import { parseTargetTime } from '../../catalog/targets.js';

export type Block = Record<string, unknown>;

/** What a builder returns: the notification text (also the fallback) and the blocks. */
export interface SlackMessage {
  text: string;
  blocks: Block[];
}

export const ACTIONS = {
  requestApproval: 'recover_request_approval',
  cancelRequest: 'recover_cancel_request',
  approve: 'recover_approve',
  reject: 'recover_reject',
  cancelJob: 'recover_cancel_job',
} as const;

/**
 * The buttons of a plan preview or approval message sit in a block whose id names the digest
 * of the plan the message shows: button values carry only the request id, and a click binds
 * to what the person actually saw, not to whatever plan is current when the click arrives.
 */
export function shownDigestBlockId(kind: 'plan' | 'approval', digest: string): string {
  return `${kind}:${digest}`;
}

export function shownDigest(blockId: string | undefined): string | undefined {
  const match = /^(?:plan|approval):([0-9a-f]{64})$/.exec(blockId ?? '');
  return match?.[1];
}

export const CONFIRM_VIEW = 'recover_confirm';
export const CONFIRM_BLOCK = 'confirm_name';
export const CONFIRM_INPUT = 'name';

export const MESSAGE_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  /** Slack refuses near 13 000; stay well below so a late edit cannot tip it over. */
  blocksJson: 11_500,
  text: 3000,
} as const;

/**
 * Escapes `&`, `<` and `>` so that nothing in the text is a mention, a broadcast or a link: a
 * `<@U…>`, `<!channel>`, `<!subteam^…>` or `<https://…|…>` stays literal. Idempotent: text
 * escaped once is not escaped again. The builders below do it to every text they are given.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&(?!amp;|lt;|gt;)/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/*
 * Mentions and channel links are the only `<…>` a message holds, and only those made by user(),
 * usergroup() and channelLink(). Every text given to a builder (section, context, a button's
 * confirmation, the notification text) is escaped where it becomes mrkdwn (mrkdwn()), so user
 * words, PostgreSQL's messages and runner reports can never ping or link, whichever view shows
 * them and whether or not the view escaped them. The helpers return a marker that escaping leaves
 * alone and mrkdwn() turns into the mention. The marker holds a key drawn when this module loads
 * and never sent anywhere: no text from outside can forge one.
 */
const KEY = randomBytes(8).toString('hex');
const MARKED = new RegExp(`\uE000${KEY}([@#][A-Z0-9]+|!subteam\\^[A-Z0-9]+)\uE001`, 'g');
/** What a truncation left of a marker, or look-alikes typed by someone: dropped. */
const STRAY = /\uE000[0-9a-f]{0,16}|\uE001/g;
const SLACK_ID = /^[A-Z0-9]{1,40}$/;
const marked = (inner: string): string => `\uE000${KEY}${inner}\uE001`;

/** A user mention (`<@U…>` in the message); an id that is not a Slack id shows as plain text. */
export const user = (id: string): string => (SLACK_ID.test(id) ? marked(`@${id}`) : `@${id}`);
/** A user group mention (`<!subteam^S…>`): approver groups. */
export const usergroup = (id: string): string => (SLACK_ID.test(id) ? marked(`!subteam^${id}`) : `@${id}`);
/** A channel link (`<#C…>`). */
export const channelLink = (id: string): string => (SLACK_ID.test(id) ? marked(`#${id}`) : `#${id}`);

/** Text as it becomes mrkdwn: everything escaped, then the mentions made above. */
export function mrkdwn(text: string): string {
  return escapeMrkdwn(text).replace(MARKED, '<$1>').replace(STRAY, '');
}

/** Text as it becomes plain_text (which shows no mentions): the mentions made above as `@U…`, `#C…`. */
export function plainText(text: string): string {
  return text.replace(MARKED, (_, inner: string) => (inner.startsWith('!subteam^') ? `@${inner.slice('!subteam^'.length)}` : inner)).replace(STRAY, '');
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

export const shortId = (id: string): string => id.slice(0, 8);
export const code = (text: string): string => `\`${text.replace(/`/g, "'")}\``;

export function header(text: string): Block {
  return { type: 'header', text: { type: 'plain_text', text: truncate(plainText(text), 150), emoji: true } };
}

export function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(mrkdwn(text), MESSAGE_LIMITS.sectionText) || ' ' } };
}

export function context(...texts: string[]): Block {
  const elements = texts.filter(Boolean).slice(0, 10).map((text) => ({ type: 'mrkdwn', text: truncate(mrkdwn(text), 3000) }));
  return { type: 'context', elements: elements.length > 0 ? elements : [{ type: 'mrkdwn', text: ' ' }] };
}

export const divider = (): Block => ({ type: 'divider' });

export interface ButtonSpec {
  actionId: string;
  text: string;
  value: string;
  style?: 'primary' | 'danger';
  confirm?: { title: string; text: string; confirm: string; deny: string };
}

export function actions(blockId: string, buttons: ButtonSpec[]): Block {
  return {
    type: 'actions',
    block_id: blockId,
    elements: buttons.map((b) => ({
      type: 'button',
      action_id: b.actionId,
      text: { type: 'plain_text', text: truncate(plainText(b.text), 75), emoji: true },
      value: b.value,
      ...(b.style ? { style: b.style } : {}),
      ...(b.confirm
        ? {
            confirm: {
              title: { type: 'plain_text', text: truncate(b.confirm.title, 100) },
              text: { type: 'mrkdwn', text: truncate(mrkdwn(b.confirm.text), 300) },
              confirm: { type: 'plain_text', text: truncate(b.confirm.confirm, 30) },
              deny: { type: 'plain_text', text: truncate(b.confirm.deny, 30) },
            },
          }
        : {}),
    })),
  };
}

/**
 * Packs lines into as few sections as possible, each ≤ the section limit; a single line
 * longer than the limit is cut. At most `maxSections`; what does not fit is summarised.
 */
export function sectionsFromLines(lines: string[], maxSections = 10, limit = 2900): Block[] {
  const chunks: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = truncate(raw, limit);
    if (current && current.length + 1 + line.length > limit) {
      chunks.push(current);
      current = line;
    } else {
      current = current ? `${current}\n${line}` : line;
    }
  }
  if (current) chunks.push(current);
  if (chunks.length > maxSections) {
    const dropped = chunks.length - maxSections + 1;
    return [...chunks.slice(0, maxSections - 1).map(section), context(`…${dropped} more part(s) left out to fit Slack's limits.`)];
  }
  return chunks.map(section);
}

/**
 * The last guard of every builder: keeps a message within the block count and JSON size
 * Slack accepts by dropping blocks from the end (before a trailing actions block, which must
 * stay clickable) and saying so.
 */
export function fitMessage(message: SlackMessage): SlackMessage {
  const blocks = [...message.blocks];
  const tail = blocks.at(-1)?.type === 'actions' ? [blocks.pop()!] : [];
  const size = (list: Block[]): number => JSON.stringify([...list, ...tail]).length;
  let dropped = 0;
  while (blocks.length > 0 && (blocks.length + tail.length + (dropped ? 1 : 0) > MESSAGE_LIMITS.blocks || size(blocks) > MESSAGE_LIMITS.blocksJson - 200)) {
    blocks.pop();
    dropped += 1;
  }
  const note = dropped > 0 ? [context(`…${dropped} block(s) left out to fit Slack's message limits.`)] : [];
  // The notification text is mrkdwn too: whatever it quotes must not turn into @here or a link.
  return { text: truncate(mrkdwn(message.text), MESSAGE_LIMITS.text), blocks: [...blocks, ...note, ...tail] };
}


/** `2025-01-15 14:29:58 UTC`; milliseconds kept only when present and `precise`. */
export function formatUtc(value: Date | string | null | undefined, precise = false): string {
  if (value === null || value === undefined) return '—';
  // Recovery targets and reached times carry microseconds: a Date would drop three digits.
  if (precise && typeof value === 'string' && /\.\d{4,6}(Z|[+-]\d\d(:?\d\d)?)$/i.test(value)) {
    try {
      const utc = parseTargetTime(value).utc;
      return `${utc.slice(0, 10)} ${utc.slice(11, -1)} UTC`;
    } catch {
      return value; // not a time we can read exactly: show it as given rather than a wrong one
    }
  }
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) return String(value);
  const iso = date.toISOString();
  const time = precise && !iso.endsWith('.000Z') ? iso.slice(11, 23) : iso.slice(11, 19);
  return `${iso.slice(0, 10)} ${time} UTC`;
}

// Shared with the terminal's progress lines (src/cli/progress.ts).
export { formatDuration } from '../../util/format.js';

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
