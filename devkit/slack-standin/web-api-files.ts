/**
 * File uploads the way Slack takes them since files.upload was retired: files.getUploadURLExternal
 * (name, length, alt_txt) answers an upload URL and a file id; the bytes are POSTed to that URL
 * (once: the URL is single-use, and the body must be exactly `length` bytes); then
 * files.completeUploadExternal shares the uploaded files in a channel (a thread with thread_ts),
 * which lands in the transcript as a bot message carrying the files, bytes included, so tests
 * (and the web view of the channel) can look at them. Without channel_id the file stays private.
 */
import { randomBytes } from 'node:crypto';
import { jsonParam, stringParam, type ApiContext, type MethodHandler } from './api-context.js';
import { SlackApiError, validationError } from './method-table.js';
import type { TranscriptFile } from './transcript.js';

/** Slack's limit for one file (1 GB); the stand-in can be given a smaller one. */
export const MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;
/** files.getUploadURLExternal answers alt_txt_too_large past this. */
export const MAX_ALT_TEXT = 1000;

interface PendingUpload {
  id: string;
  token: string;
  filename: string;
  length: number;
  altText?: string;
  bytes?: Buffer;
  /** The URL took its bytes (it is then spent); completed once shared or completed privately. */
  completed: boolean;
}

export type UploadAnswer = { status: number; text: string };

/** What the file's first bytes say it is (Slack sniffs content rather than trusting the name). */
export function mimetypeOf(bytes: Buffer, filename: string): string {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))) return 'image/jpeg';
  if (/\.(txt|log)$/i.test(filename)) return 'text/plain';
  return 'application/octet-stream';
}

export class UploadStore {
  private readonly pending = new Map<string, PendingUpload>();
  private readonly byToken = new Map<string, PendingUpload>();
  /** Where upload URLs point; set by the HTTP layer once it listens. */
  baseUrl = 'http://127.0.0.1/';

  constructor(readonly maxBytes = MAX_UPLOAD_BYTES) {}

  start(filename: string, length: number, altText: string | undefined): PendingUpload {
    const upload: PendingUpload = { id: `F${randomBytes(5).toString('hex').toUpperCase()}`, token: randomBytes(12).toString('hex'), filename, length, completed: false, ...(altText === undefined ? {} : { altText }) };
    this.pending.set(upload.id, upload);
    this.byToken.set(upload.token, upload);
    return upload;
  }

  urlOf(upload: PendingUpload): string {
    return `${this.baseUrl}upload/${upload.token}`;
  }

  /** The POST to an upload URL: 200 "OK - <length>" once, with exactly the announced bytes. */
  receive(token: string, body: Buffer): UploadAnswer {
    const upload = this.byToken.get(token);
    if (!upload) return { status: 404, text: 'unknown upload URL' };
    // Single use: a second POST finds nothing, whatever the first one did.
    this.byToken.delete(token);
    if (body.length !== upload.length) return { status: 400, text: `expected ${upload.length} bytes, received ${body.length}` };
    upload.bytes = body;
    return { status: 200, text: `OK - ${body.length}` };
  }

  /** The uploads completeUploadExternal names, checked: each known, uploaded and not yet completed. */
  complete(ids: readonly string[]): Array<PendingUpload & { bytes: Buffer }> {
    const uploads = ids.map((id) => this.pending.get(id));
    if (uploads.some((u) => !u || !u.bytes || u.completed)) throw new SlackApiError('file_not_found');
    for (const u of uploads) u!.completed = true;
    return uploads as Array<PendingUpload & { bytes: Buffer }>;
  }
}

const getUploadURLExternal: MethodHandler = (params, context) => {
  const filename = stringParam(params, 'filename') ?? '';
  const length = Number(stringParam(params, 'length'));
  if (!Number.isInteger(length) || length < 0) throw validationError('invalid_arguments', ['[ERROR] length must be a whole number of bytes']);
  // Slack's documented answer to a length of 0.
  if (length === 0) throw new SlackApiError('missing_argument');
  if (length > context.uploads.maxBytes) throw new SlackApiError('file_upload_size_restricted');
  // alt_txt is Slack's documented name; @slack/web-api's filesUploadV2 sends alt_text.
  const altText = stringParam(params, 'alt_txt') ?? stringParam(params, 'alt_text');
  if (altText !== undefined && altText.length > MAX_ALT_TEXT) throw new SlackApiError('alt_txt_too_large');
  const upload = context.uploads.start(filename, length, altText);
  return { upload_url: context.uploads.urlOf(upload), file_id: upload.id };
};

function filesParam(params: Record<string, unknown>): Array<{ id: string; title?: string }> {
  const files = jsonParam(params, 'files', 'invalid_arguments');
  const valid = Array.isArray(files) && files.length > 0 && files.every((f) => typeof f === 'object' && f !== null && typeof (f as { id?: unknown }).id === 'string');
  if (!valid) throw validationError('invalid_arguments', ['[ERROR] files must be a non-empty array of {"id", "title"} objects']);
  return files as Array<{ id: string; title?: string }>;
}

function shareIn(context: ApiContext, channelId: string): string {
  const channel = context.workspace.channel(channelId);
  if (!channel) throw new SlackApiError('channel_not_found');
  if (channel.botIsMember === false) throw new SlackApiError('not_in_channel');
  return channel.id;
}

const completeUploadExternal: MethodHandler = (params, context) => {
  const files = filesParam(params);
  const channelId = stringParam(params, 'channel_id');
  const threadTs = stringParam(params, 'thread_ts');
  if (threadTs !== undefined && channelId === undefined) throw validationError('invalid_arguments', ['[ERROR] thread_ts needs channel_id']);
  const channel = channelId === undefined ? undefined : shareIn(context, channelId);
  const uploads = context.uploads.complete(files.map((f) => f.id));
  const shared: TranscriptFile[] = uploads.map((u, i) => ({
    id: u.id,
    name: u.filename,
    title: files[i]!.title ?? u.filename,
    mimetype: mimetypeOf(u.bytes, u.filename),
    size: u.bytes.length,
    ...(u.altText === undefined ? {} : { altText: u.altText }),
    bytes: u.bytes,
  }));
  if (channel !== undefined) {
    context.transcript.addMessage({
      channel,
      ts: context.workspace.nextTs(),
      user: context.workspace.botUserId,
      botId: context.workspace.botId,
      text: stringParam(params, 'initial_comment') ?? '',
      ...(threadTs === undefined ? {} : { threadTs }),
      files: shared,
      postedAt: context.clock.now(),
      via: 'web_api',
    });
  }
  return { files: shared.map((f) => ({ id: f.id, title: f.title, name: f.name, mimetype: f.mimetype, size: f.size })) };
};

export const fileHandlers: Record<string, MethodHandler> = {
  'files.getUploadURLExternal': getUploadURLExternal,
  'files.completeUploadExternal': completeUploadExternal,
};
