/**
 * A channel's real name, asked of Slack (conversations.info) and remembered for a while.
 * Needed because a slash command from a private channel names it `privategroup`, not by its
 * name, so `RECOVER_ALLOWED_CHANNELS`' name patterns (`inc-*`) could never match one. The
 * name comes from the Web API with the bot's token, never from the request. Found names are
 * kept `ttlMs` (a renamed channel is seen within that time); failed look-ups are not kept, so
 * inviting the bot works at once.
 */
import { BoundedMap } from '../context.js';

/** What the allowed-channel check needs to know of a conversation. */
export interface ChannelFacts {
  /** Undefined for direct messages and group DMs: those are matched by id only. */
  name: string | undefined;
}

/** conversations.info's channel object, the fields read here. */
export interface ConversationInfo {
  name?: string;
  is_im?: boolean;
  is_mpim?: boolean;
}

export function channelFacts(info: ConversationInfo | undefined): ChannelFacts {
  const named = info && !info.is_im && !info.is_mpim && typeof info.name === 'string' && info.name !== '';
  return { name: named ? info.name : undefined };
}

export class ChannelNames {
  private readonly known = new BoundedMap<string, { facts: ChannelFacts; at: number }>(1000);
  private readonly asking = new Map<string, Promise<ChannelFacts>>();

  constructor(
    private readonly lookup: (channelId: string) => Promise<ConversationInfo | undefined>,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  /** The channel's facts; rejects with the look-up's error (e.g. Slack's channel_not_found). */
  facts(channelId: string): Promise<ChannelFacts> {
    const kept = this.known.get(channelId);
    if (kept && this.now() - kept.at < this.ttlMs) return Promise.resolve(kept.facts);
    const pending = this.asking.get(channelId);
    if (pending) return pending;
    const asked = this.lookup(channelId)
      .then((info) => {
        const facts = channelFacts(info);
        this.known.set(channelId, { facts, at: this.now() });
        return facts;
      })
      .finally(() => this.asking.delete(channelId));
    this.asking.set(channelId, asked);
    return asked;
  }
}
