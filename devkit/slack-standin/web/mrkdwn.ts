/**
 * Slack text as HTML for the stand-in's web view, minimally: mrkdwn's *bold*, _italic_, ~strike~,
 * `code`, ```blocks```, links <url|text>, mentions <@U…>, <#C…>, <!here>, <!subteam^S…>, the
 * emoji the bot uses, its text progress bars, and plain_text. Everything else is text: every character that could make
 * markup is escaped, so a message can show "<script>" but never run it, and a link only ever
 * points at http(s) or mailto.
 */

/** How ids read in the page; the web view passes the workspace's names. */
export interface WebNames {
  user(id: string): string;
  channel(id: string): string;
}

export const ID_NAMES: WebNames = { user: (id) => id, channel: (id) => id };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** Slack's own escapes in message text (&amp; &lt; &gt;) back to the characters they stand for. */
function unescapeSlack(text: string): string {
  return text.replace(/&(amp|lt|gt);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>' })[name] ?? '');
}

/** A link target the page may point at, or undefined: never javascript:, data: or a relative path. */
export function safeLinkUrl(url: string): string | undefined {
  return /^(https?:\/\/|mailto:)[^\s"<>]+$/i.test(url) ? url : undefined;
}

/** An image source the page may load: http(s), or an inline PNG/JPEG/GIF/WebP. */
export function safeImageUrl(url: string): string | undefined {
  return /^https?:\/\/[^\s"<>]+$/i.test(url) || /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/.test(url) ? url : undefined;
}

/** The shortcodes the bot's messages use; others stay as typed. */
const EMOJI: Record<string, string> = {
  warning: '⚠️', x: '❌', white_check_mark: '✅', no_entry_sign: '🚫', no_entry: '⛔', information_source: 'ℹ️',
  arrows_counterclockwise: '🔄', octagonal_sign: '🛑', lock: '🔒', hourglass: '⌛', hourglass_flowing_sand: '⏳',
  heavy_minus_sign: '➖', grey_question: '❔', white_large_square: '⬜', rotating_light: '🚨', tada: '🎉',
  large_green_circle: '🟢', red_circle: '🔴', bar_chart: '📊', chart_with_upwards_trend: '📈', stopwatch: '⏱️',
};

function emoji(html: string): string {
  return html.replace(/:([a-z][a-z0-9_+-]*):/g, (whole, name: string) => EMOJI[name] ?? whole);
}

/** The bot's text progress bars (`[#####-----] 51%`) get a drawn bar in front; the text stays. */
function progressBars(html: string): string {
  return html.replace(/\[[#-]{4,}\] {0,3}(\d{1,3})%/g, (whole, percent: string) => `<meter class="progress" min="0" max="100" value="${Math.min(100, Number(percent))}"></meter> ${whole}`);
}

/** What a `<…>` control sequence shows; undefined when it is not one (then it is text). */
function controlSequence(inner: string, names: WebNames): string | undefined {
  const [target = '', ...rest] = inner.split('|');
  const label = rest.length > 0 ? unescapeSlack(rest.join('|')) : undefined;
  const mention = (text: string, kind: string) => `<span class="mention ${kind}">${escapeHtml(text)}</span>`;
  let match = /^@([UW][A-Z0-9]+)$/.exec(target);
  if (match?.[1]) return mention(`@${names.user(match[1])}`, 'user');
  match = /^#(C[A-Z0-9]+)$/.exec(target);
  if (match?.[1]) return mention(`#${label ?? names.channel(match[1])}`, 'channel');
  match = /^!(here|channel|everyone)$/.exec(target);
  if (match?.[1]) return mention(`@${match[1]}`, 'broadcast');
  match = /^!subteam\^(S[A-Z0-9]+)$/.exec(target);
  if (match?.[1]) return mention(label ?? `@${match[1]}`, 'usergroup');
  if (/^!date\^/.test(target)) return label === undefined ? undefined : escapeHtml(label);
  const url = safeLinkUrl(unescapeSlack(target));
  if (url === undefined) return undefined;
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(label ?? url)}</a>`;
}

/** One style marker (`*`, `_`, `~`) around words, as Slack reads it: not inside a word, not across lines. */
function styled(html: string, marker: string, tag: string): string {
  const m = marker === '*' ? '\\*' : marker;
  const pattern = new RegExp(`(^|[^A-Za-z0-9${m}])${m}(?=[^\\s${m}])([^\\n]*?[^\\s${m}])${m}(?![A-Za-z0-9${m}])`, 'g');
  return html.replace(pattern, (_, before: string, body: string) => `${before}<${tag}>${body}</${tag}>`);
}

/** Mrkdwn outside code blocks: code spans and control sequences are held aside, the rest escaped and styled. */
function inline(text: string, names: WebNames): string {
  const held: string[] = [];
  const hold = (html: string): string => `\u0000${held.push(html) - 1}\u0001`;
  let s = text.replace(/`([^`\n]+)`/g, (_, body: string) => hold(`<code>${escapeHtml(unescapeSlack(body))}</code>`));
  s = s.replace(/<([^<>\s][^<>]*)>/g, (whole, inner: string) => {
    const html = controlSequence(inner, names);
    return html === undefined ? whole : hold(html);
  });
  s = escapeHtml(unescapeSlack(s));
  s = styled(styled(styled(s, '*', 'strong'), '_', 'em'), '~', 'del');
  s = progressBars(emoji(s)).replace(/\n/g, '<br>');
  return s.replace(/\u0000(\d+)\u0001/g, (_, index: string) => held[Number(index)] ?? '');
}

/** A mrkdwn text (a message's `text`, a mrkdwn text object) as HTML. */
export function mrkdwnToHtml(text: string, names: WebNames = ID_NAMES): string {
  // The markers used to hold parts aside cannot come from outside.
  const clean = text.replace(/[\u0000\u0001]/g, '');
  const parts = clean.split(/```([\s\S]*?)```/);
  return parts
    .map((part, i) => (i % 2 === 1 ? `<pre>${escapeHtml(unescapeSlack(part.replace(/^\n/, '')))}</pre>` : inline(part, names)))
    .join('');
}

/** A plain_text object's text: shown exactly as written (Slack formats nothing in it). */
export function plainTextToHtml(text: string, withEmoji = true): string {
  const html = escapeHtml(text);
  return (withEmoji ? emoji(html) : html).replace(/\n/g, '<br>');
}

/** A Block Kit text object (or a bare string, read as mrkdwn) as HTML; anything else is empty. */
export function textObjectToHtml(value: unknown, names: WebNames = ID_NAMES): string {
  if (typeof value === 'string') return mrkdwnToHtml(value, names);
  if (typeof value !== 'object' || value === null) return '';
  const { type, text, emoji: withEmoji } = value as { type?: unknown; text?: unknown; emoji?: unknown };
  if (typeof text !== 'string') return '';
  return type === 'mrkdwn' ? mrkdwnToHtml(text, names) : plainTextToHtml(text, withEmoji !== false);
}

/** A text object's text as it reads, without markup (button labels in notices, titles). */
export function textOfObject(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { text?: unknown }).text === 'string') return (value as { text: string }).text;
  return '';
}
