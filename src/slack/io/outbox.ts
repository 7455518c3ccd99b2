/**
 * The bot's only way to talk to Slack: posts (each done once per event, see posts-once.ts),
 * ephemerals (with 429 retries), updates (always through the shared UpdateScheduler), modals
 * and files (file-upload.ts). Failures become RecoverErrors
 * with Slack's error code, so callers can show them in the channel; nothing here logs a
 * token or a request body.
 */
import type { types, webApi } from '@slack/bolt';
import type { Logger } from '../../types.js';
import { escapeMrkdwn, type Block, type SlackMessage } from '../views/common.js';
import { notice } from '../views/help.js';
import { ChannelNames } from './channel-names.js';
import type { PostKey, PostsOnce } from './posts-once.js';
import type { Metrics } from '../../metrics/registry.js';
import { shareFile, type FileToShare } from './file-upload.js';
import { UpdateScheduler, type UpdateBudget } from './scheduler.js';
import { slackFailure, withRateLimitRetry } from './slack-errors.js';

/** Interactive messages (plan previews, approvals) go before progress updates. */
export const PRIORITY = { progress: 0, interactive: 10 } as const;

const asBlocks = (blocks: Block[]): types.KnownBlock[] => blocks as unknown as types.KnownBlock[];

export class Outbox {
  readonly scheduler: UpdateScheduler;
  /** Channels' real names (conversations.info), for private channels that slash commands name `privategroup`. */
  readonly channels = new ChannelNames(async (channel) => {
    const result = await this.retrying('conversations.info', () => this.client.conversations.info({ channel }));
    return result.channel;
  });

  constructor(
    private readonly client: webApi.WebClient,
    private readonly log: Logger,
    budget: UpdateBudget | undefined,
    private readonly posts: PostsOnce,
    private readonly metrics?: Pick<Metrics, 'slackRetries'>,
  ) {
    this.scheduler = new UpdateScheduler({
      send: async (update) => {
        await this.client.chat.update({ channel: update.channel, ts: update.ts, text: update.text, blocks: asBlocks(update.blocks ?? []) });
      },
      ...(budget ? { budget } : {}),
      onGiveUp: (update, error) => this.updateFailed(update.channel, update.text, error),
      onRetry: (reason) => this.metrics?.slackRetries.inc({ method: 'chat.update', reason }),
    });
  }

  /**
   * Posts a message (a thread reply with `threadTs`) once; returns its ts. With `about` (what
   * request or job event it is for) the post is recorded in the control DB first, so a repeat
   * with the same key (a retry, a restarted bot) finds the message instead of posting again.
   */
  post(channel: string, message: SlackMessage, threadTs?: string, about?: PostKey): Promise<string> {
    return this.posts.post(channel, message, threadTs, about);
  }

  /** The ts of our message marked with `key` (posted since shortly before `since`), if Slack has one. */
  findPosted(channel: string, threadTs: string | undefined, key: string, since: Date): Promise<string | undefined> {
    return this.posts.find(channel, threadTs, key, since);
  }

  /** Shows a message to one person; false (and logged) if Slack refused, e.g. outside the bot's channels. */
  async ephemeral(channel: string, user: string, message: SlackMessage): Promise<boolean> {
    try {
      await this.retrying('chat.postEphemeral', () => this.client.chat.postEphemeral({ channel, user, text: message.text, blocks: asBlocks(message.blocks) }));
      return true;
    } catch (error) {
      this.log.error({ err: slackFailure('to show an ephemeral message', error), channel, user }, 'could not show an ephemeral message');
      return false;
    }
  }

  /** Replaces a message's content, coalesced and within the chat.update budget. */
  update(channel: string, ts: string, message: SlackMessage, priority: number = PRIORITY.progress): void {
    this.scheduler.set({ channel, ts, text: message.text, blocks: message.blocks }, priority);
  }

  async openView(triggerId: string, view: Block): Promise<void> {
    try {
      await this.client.views.open({ trigger_id: triggerId, view: view as unknown as types.ModalView });
    } catch (error) {
      throw slackFailure('to open the confirmation dialog', error);
    }
  }

  /** Shares a file (an image with its alt text) in a channel or thread; its file id. */
  async shareFile(file: FileToShare): Promise<string> {
    try {
      return await shareFile(this.client, file, (method, call) => this.retrying(method, call));
    } catch (error) {
      throw slackFailure('to attach a file', error);
    }
  }

  async usergroupMembers(usergroup: string): Promise<string[]> {
    const result = await this.retrying('usergroups.users.list', () => this.client.usergroups.users.list({ usergroup }));
    return result.users ?? [];
  }

  /** A Web API call with its 429s waited out, each retry counted for /metrics. */
  private retrying<T>(method: string, call: () => Promise<T>): Promise<T> {
    return withRateLimitRetry(call, undefined, undefined, () => this.metrics?.slackRetries.inc({ method, reason: 'rate_limited' }));
  }

  /** An update that can never be applied: say so with a new message carrying the latest text. */
  private updateFailed(channel: string, text: string, error: unknown): void {
    const failure = slackFailure('to update a message', error);
    this.log.error({ err: failure, channel }, 'gave up updating a message');
    const message = notice(`:warning: recover-bot could not update a message: ${escapeMrkdwn(failure.message)}\nLatest state: ${escapeMrkdwn(text)}`);
    this.post(channel, message).catch((postError: unknown) => {
      this.log.error({ err: postError, channel }, 'could not report a failed update either');
    });
  }
}
