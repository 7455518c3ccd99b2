/**
 * Shares a file in a channel or thread the way Slack takes uploads now (files.upload is
 * retired): files.getUploadURLExternal with the name, size and alt text (what a screen reader
 * says), a POST of the bytes to the single-use URL it answers, then files.completeUploadExternal
 * into the channel (thread_ts for a thread reply). Needs the files:write scope. The upload URL
 * carries its own authorization, so the token is not sent there.
 */
import type { webApi } from '@slack/bolt';
import { withRateLimitRetry } from './slack-errors.js';

/** Runs one Web API call, waiting out 429s (the outbox's counts them for /metrics). */
export type Retrying = <T>(method: string, call: () => Promise<T>) => Promise<T>;
const uncounted: Retrying = (_method, call) => withRateLimitRetry(call);

export interface FileToShare {
  channel: string;
  threadTs?: string;
  filename: string;
  title: string;
  bytes: Buffer;
  /** At most 1000 characters (Slack answers alt_txt_too_large past that). */
  altText: string;
}

/** How long the bytes' POST may take. */
export const UPLOAD_TIMEOUT_MS = 30_000;

export async function shareFile(client: webApi.WebClient, file: FileToShare, retrying: Retrying = uncounted, timeoutMs = UPLOAD_TIMEOUT_MS): Promise<string> {
  // alt_txt is the name Slack documents; @slack/web-api's type calls it alt_text.
  const target = await retrying('files.getUploadURLExternal', () => client.files.getUploadURLExternal({ filename: file.filename, length: file.bytes.length, alt_txt: file.altText } as unknown as webApi.FilesGetUploadURLExternalArguments));
  if (!target.upload_url || !target.file_id) throw new Error('files.getUploadURLExternal answered no upload URL');
  const response = await fetch(target.upload_url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(file.bytes), signal: AbortSignal.timeout(timeoutMs) });
  const answer = await response.text();
  if (!response.ok) throw new Error(`the upload URL answered ${response.status}: ${answer.slice(0, 200)}`);
  const files: [{ id: string; title: string }] = [{ id: target.file_id, title: file.title }];
  await retrying('files.completeUploadExternal', () => client.files.completeUploadExternal(file.threadTs ? { files, channel_id: file.channel, thread_ts: file.threadTs } : { files, channel_id: file.channel }));
  return target.file_id;
}
