/**
 * A channel as one person sees it in the web view: top-level messages in order, each with its
 * thread replies under it, ephemeral messages only for the person they were sent to, edits in
 * place (marked "edited"), uploaded files (images shown when the bytes or a URL are there), and
 * the modal on top of that person's screen. Pure: HTML from transcript records.
 */
import type { TranscriptMessage } from '../transcript.js';
import { compareTs } from '../transcript.js';
import type { TranscriptView } from '../view-store.js';
import { blocksHtml, type BlockContext } from './blocks-html.js';
import { escapeHtml, mrkdwnToHtml, safeImageUrl, textObjectToHtml, textOfObject } from './mrkdwn.js';

export type WebMessage = Pick<TranscriptMessage, 'channel' | 'ts' | 'threadTs' | 'user' | 'botId' | 'text' | 'blocks' | 'edits' | 'deleted' | 'visibleTo'>
  & { files?: unknown };

/** A file as the stand-in keeps it on a message (files.completeUploadExternal); read loosely. */
export interface FileLike {
  id?: unknown;
  name?: unknown;
  title?: unknown;
  mimetype?: unknown;
  altText?: unknown;
  url?: unknown;
  url_private?: unknown;
  /** The uploaded bytes (served by the web view at /web/files/<id>, not inlined in every state). */
  bytes?: unknown;
}

/** Image types the page shows; anything else (SVG included: it can hold script) is only named. */
export const SHOWN_IMAGE_TYPES = /^image\/(png|jpeg|gif|webp)$/;

/** The files a message carries (none when it has no list). */
export const filesOf = (message: WebMessage): FileLike[] =>
  (Array.isArray(message.files) ? message.files.filter((f): f is FileLike => typeof f === 'object' && f !== null) : []);

/** The file's bytes, when it has them. */
export const fileBytes = (file: FileLike): Buffer | undefined => (file.bytes instanceof Uint8Array ? Buffer.from(file.bytes) : undefined);

function fileSource(file: FileLike): string | undefined {
  const mimetype = typeof file.mimetype === 'string' ? file.mimetype : '';
  if (fileBytes(file) && typeof file.id === 'string' && SHOWN_IMAGE_TYPES.test(mimetype)) return `/web/files/${encodeURIComponent(file.id)}`;
  for (const url of [file.url, file.url_private]) if (typeof url === 'string' && safeImageUrl(url)) return url;
  return undefined;
}

export function filesHtml(files: unknown): string {
  if (!Array.isArray(files) || files.length === 0) return '';
  const items = files.map((raw: unknown) => {
    const file = (typeof raw === 'object' && raw !== null ? raw : {}) as FileLike;
    const label = String(file.title ?? file.name ?? file.id ?? 'file');
    const alt = typeof file.altText === 'string' && file.altText !== '' ? file.altText : label;
    const src = fileSource(file);
    const caption = `<figcaption>${escapeHtml(label)}</figcaption>`;
    return src ? `<figure class="file">${caption}<img src="${escapeHtml(src)}" alt="${escapeHtml(alt)}"></figure>` : `<figure class="file">📎 ${caption}</figure>`;
  });
  return `<div class="files">${items.join('')}</div>`;
}

function clockTime(ts: string): string {
  const date = new Date(Number(ts.split('.')[0]) * 1000);
  return Number.isNaN(date.getTime()) ? ts : date.toISOString().slice(11, 19);
}

/** One message (without its replies); blocks take the place of the text, as in Slack. */
export function messageHtml(message: WebMessage, context: BlockContext, viewer: string, replies = ''): string {
  const isBot = message.botId !== undefined;
  const author = message.user === 'USLACKBOT' ? 'Slackbot' : context.names.user(message.user);
  const flags = [
    isBot ? '<span class="tag">APP</span>' : '',
    `<time>${escapeHtml(clockTime(message.ts))}</time>`,
    message.edits.length > 0 ? '<span class="edited">(edited)</span>' : '',
    message.visibleTo === viewer ? '<span class="only-you">Only visible to you</span>' : '',
  ].filter(Boolean);
  const body = message.blocks && message.blocks.length > 0 ? blocksHtml(message.blocks, context) : `<div class="text">${mrkdwnToHtml(message.text, context.names)}</div>`;
  const classes = ['message', isBot ? 'bot' : '', message.visibleTo !== undefined ? 'ephemeral' : ''].filter(Boolean).join(' ');
  return `<article class="${classes}" data-channel="${escapeHtml(message.channel)}" data-ts="${escapeHtml(message.ts)}">`
    + `<div class="meta"><span class="author">${escapeHtml(author)}</span> ${flags.join(' ')}</div>`
    + `<div class="body">${body}${filesHtml(message.files)}</div>${replies}</article>`;
}

const isReply = (m: WebMessage): boolean => m.threadTs !== undefined && m.threadTs !== m.ts;

/** The channel for `viewer`: what everyone sees plus the ephemerals sent to them. */
export function channelHtml(messages: WebMessage[], context: BlockContext, viewer: string): string {
  const visible = messages
    .filter((m) => !m.deleted && (m.visibleTo === undefined || m.visibleTo === viewer))
    .sort((a, b) => compareTs(a.ts, b.ts));
  const parents = new Set(visible.filter((m) => !isReply(m)).map((m) => m.ts));
  const html = visible
    // A reply whose parent is gone (or hidden from this viewer) shows where it was posted.
    .filter((m) => !isReply(m) || !parents.has(m.threadTs ?? ''))
    .map((m) => {
      const replies = visible.filter((r) => isReply(r) && r.threadTs === m.ts);
      const thread = replies.length === 0 ? ''
        : `<section class="thread" data-thread-ts="${escapeHtml(m.ts)}"><div class="thread-count">${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}</div>`
          + `${replies.map((r) => messageHtml(r, context, viewer)).join('')}</section>`;
      return messageHtml(m, context, viewer, thread);
    });
  return html.length > 0 ? html.join('') : '<p class="empty">No messages yet. Type a slash command below, e.g. <code>/recover help</code>.</p>';
}

/** The modal on top of the viewer's stack, as a form the page submits through view_submission. */
export function modalHtml(view: TranscriptView | undefined, context: BlockContext, depth = 1): string {
  if (!view) return '';
  const d = view.definition;
  const submit = d.submit === undefined ? '' : `<button type="submit" class="btn primary" data-submit>${escapeHtml(textOfObject(d.submit) || 'Submit')}</button>`;
  const close = escapeHtml(textOfObject(d.close) || (d.submit === undefined ? 'Close' : 'Cancel'));
  const stack = depth > 1 ? `<span class="stack-depth">${depth} of ${depth}</span>` : '';
  return `<div class="modal-backdrop"><form class="modal" data-view-id="${escapeHtml(view.id)}">`
    + `<header class="modal-title">${textObjectToHtml(d.title, context.names)} ${stack}</header>`
    + `<div class="modal-body">${blocksHtml(d.blocks, context)}</div>`
    + `<footer class="modal-buttons"><button type="button" class="btn" data-close>${close}</button>${submit}</footer></form></div>`;
}
