/**
 * chat.postMessage done once per event, whatever Slack's answer times are. A post that timed
 * out may still have been made (Slack answers late, the Web API client gave up): sending it
 * again is how "Step done" appeared three times in a 40 s stall. So every post:
 *
 * 1. is recorded as an intent under its key in the control DB before it goes out (keyed posts:
 *    the planning, approval and status messages, step replies, integrity report, summary; other
 *    notices get a key of their own for this process only);
 * 2. carries the key in its metadata ({event_type: 'recover_bot_post', event_payload: {key}});
 * 3. saves the ts Slack answered with;
 * 4. after a timeout, a network error or a 5xx (or when an earlier attempt, maybe by a bot that
 *    has since restarted, may have reached Slack), first looks for a message of ours with that
 *    key (conversations.replies for a thread reply, conversations.history otherwise, since
 *    shortly before the intent) and adopts its ts; only if there is none does it post again.
 *
 * The Web API client used for the send has no retries of its own (see app-options.ts), so
 * nothing is re-sent behind this logic's back. A 429 was not processed: it is waited out and
 * sent again without a look.
 */
import { randomUUID } from 'node:crypto';
import type { types, webApi } from '@slack/bolt';
import type pg from 'pg';
import { markSlackPostAttempt, recordSlackPostIntent, saveSlackPostTs, type SlackPostIntent } from '../../control/index.js';
import type { Logger } from '../../types.js';
import type { Metrics } from '../../metrics/registry.js';
import type { SlackMessage } from '../views/common.js';
import { isPermanentSlackError, rateLimitSeconds, sleep, slackFailure } from './slack-errors.js';

export const POST_EVENT_TYPE = 'recover_bot_post';
/** How far before the intent's time the search starts: the control DB's clock and Slack's may differ. */
const LOOKBACK_MS = 10 * 60_000;
const PAGE = 200;
const MAX_PAGES = 5;

/** What a post is about; without one the post gets a key of its own (this process only). */
export type PostKey = Omit<SlackPostIntent, 'channel' | 'threadTs'>;

export interface PostsOnceOptions {
  /** Sends chat.postMessage; must not retry on its own. */
  writer: webApi.WebClient;
  /** Reads (auth.test, conversations.*); may retry. */
  reader: webApi.WebClient;
  control: pg.Pool;
  log: Logger;
  /** Sends per post before giving up (the caller may try again later; the key stays). */
  attempts?: number;
  backoffMs?: number;
  wait?: (ms: number) => Promise<void>;
  /** Counts each send tried again (/metrics). */
  metrics?: Pick<Metrics, 'slackRetries'>;
}

interface FoundMessage {
  ts?: string;
  user?: string;
  bot_id?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/**
 * A failure after which the message may exist: no answer (timeout, connection reset), an HTTP
 * 5xx, or Slack saying it failed internally. A 429 and other platform errors mean it does not.
 */
export function mayHavePosted(error: unknown): boolean {
  if (rateLimitSeconds(error) !== undefined) return false;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'slack_webapi_request_error' || code === 'slack_webapi_http_error') return true;
  if (code === 'slack_webapi_platform_error') return !isPermanentSlackError(error);
  return !(error instanceof Error && 'data' in error);
}

/** The earliest message of ours in `messages` marked with `key`. */
export function findMarked(messages: readonly FoundMessage[], key: string, self: { userId?: string; botId?: string }): string | undefined {
  const ours = messages.filter(
    (m) => m.metadata?.event_type === POST_EVENT_TYPE && m.metadata.event_payload?.key === key && typeof m.ts === 'string'
      && ((self.botId !== undefined && m.bot_id === self.botId) || (self.userId !== undefined && m.user === self.userId)),
  );
  return ours.map((m) => m.ts!).sort((a, b) => Number(a) - Number(b))[0];
}

export class PostsOnce {
  private self: Promise<{ userId?: string; botId?: string }> | null = null;
  /** Keyed posts under way in this process. */
  private readonly underWay = new Map<string, Promise<string>>();

  constructor(private readonly options: PostsOnceOptions) {}

  /**
   * Posts `message` (a thread reply with `threadTs`) once for `about`; returns its ts. A second
   * post of a key already under way here waits for that one: started together, both read the
   * intent before either counted a send, so neither looked first and both posted.
   */
  post(channel: string, message: SlackMessage, threadTs?: string, about?: PostKey): Promise<string> {
    if (!about) return this.postOnce(channel, message, threadTs, about);
    const pending = this.underWay.get(about.key);
    if (pending) {
      this.options.log.debug({ channel, key: about.key }, 'a post with this key is under way here; waiting for it instead of posting again');
      return pending;
    }
    const posting = this.postOnce(channel, message, threadTs, about).finally(() => this.underWay.delete(about.key));
    this.underWay.set(about.key, posting);
    return posting;
  }

  private async postOnce(channel: string, message: SlackMessage, threadTs?: string, about?: PostKey): Promise<string> {
    const { control, writer } = this.options;
    const what = threadTs ? 'to post a thread reply' : 'to post a message';
    const intent = about ? { ...about, channel, ...(threadTs ? { threadTs } : {}) } : null;
    const key = intent?.key ?? `adhoc:${randomUUID()}`;
    const record = intent ? await recordSlackPostIntent(control, intent) : { ts: null, attempts: 0, createdAt: new Date() };
    if (record.ts) return record.ts;
    // An earlier attempt (this process or one before a restart) may have made the message.
    let maybeSent = record.attempts > 0;
    const max = this.options.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        if (maybeSent) {
          const found = await this.find(channel, threadTs, key, record.createdAt);
          if (found) {
            this.options.log.info({ channel, key, ts: found }, 'found the message an unanswered post had made; not posting it again');
            return intent ? await saveSlackPostTs(control, key, found) : found;
          }
        }
        if (intent) await markSlackPostAttempt(control, key);
        const result = await writer.chat.postMessage({
          channel,
          text: message.text,
          blocks: message.blocks as unknown as types.KnownBlock[],
          ...(threadTs ? { thread_ts: threadTs } : {}),
          metadata: { event_type: POST_EVENT_TYPE, event_payload: { key } },
        });
        if (!result.ts) throw new Error('chat.postMessage returned no ts');
        return intent ? await saveSlackPostTs(control, key, result.ts) : result.ts;
      } catch (error) {
        const seconds = rateLimitSeconds(error);
        const transient = seconds !== undefined || mayHavePosted(error);
        if (seconds === undefined) maybeSent = true; // a 429 was refused unprocessed; anything else may have landed
        if (!transient || attempt >= max) throw slackFailure(what, error);
        this.options.log.warn({ channel, key, attempt, err: slackFailure(what, error) }, 'a post got no usable answer; looking for it before posting again');
        this.options.metrics?.slackRetries.inc({ method: 'chat.postMessage', reason: seconds !== undefined ? 'rate_limited' : 'no_answer' });
        await (this.options.wait ?? sleep)(seconds !== undefined ? Math.max(200, seconds * 1000) : (this.options.backoffMs ?? 500) * 2 ** (attempt - 1));
      }
    }
  }

  /** Our message carrying `key` in the thread (or channel) since shortly before `since`. */
  async find(channel: string, threadTs: string | undefined, key: string, since: Date): Promise<string | undefined> {
    const { reader } = this.options;
    const self = await this.identity();
    const oldest = (Math.max(0, since.getTime() - LOOKBACK_MS) / 1000).toFixed(6);
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const common = { channel, oldest, limit: PAGE, include_all_metadata: true, ...(cursor ? { cursor } : {}) };
      let result;
      try {
        result = threadTs ? await reader.conversations.replies({ ...common, ts: threadTs }) : await reader.conversations.history(common);
      } catch (error) {
        // Without the history scopes the bot cannot look: it posts as before, and says so.
        if (isPermanentSlackError(error)) {
          this.options.log.warn({ err: slackFailure('to read the channel history', error), channel }, 'cannot look for an unanswered post; posting it again');
          return undefined;
        }
        throw error;
      }
      const found = findMarked((result.messages ?? []) as FoundMessage[], key, self);
      if (found) return found;
      cursor = result.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  private identity(): Promise<{ userId?: string; botId?: string }> {
    this.self ??= this.options.reader.auth.test().then(
      (r) => ({ ...(r.user_id ? { userId: r.user_id } : {}), ...(r.bot_id ? { botId: r.bot_id } : {}) }),
      (error: unknown) => {
        this.self = null;
        throw error;
      },
    );
    return this.self;
  }
}
