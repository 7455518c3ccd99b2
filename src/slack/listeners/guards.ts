/**
 * Small pure guards in front of every request: where `/recover` is allowed, and which
 * requests were already seen (Slack retries, and a captured signed request can be replayed
 * verbatim within Bolt's 5-minute timestamp window: neither may act twice).
 */

/** `inc-*` style patterns: `*` any run of characters, `?` one; case-insensitive. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/^#/, '')
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

const CHANNEL_ID = /^[CGD][A-Z0-9]+$/; // Slack ids are upper case; channel names never are

/**
 * Whether a channel matches one of the allowed patterns: a channel id (exact) or a name
 * pattern. Direct messages and unnamed channels only match by id.
 */
export function isChannelAllowed(channel: { id: string; name?: string | undefined }, patterns: readonly string[]): boolean {
  return patterns.some((raw) => {
    const pattern = raw.trim();
    if (!pattern) return false;
    if (CHANNEL_ID.test(pattern)) return pattern === channel.id;
    const name = channel.name;
    return name !== undefined && name !== '' && name !== 'directmessage' && name !== 'privategroup' && globToRegExp(pattern).test(name);
  });
}

/**
 * Slack's slash command names a private channel `privategroup` (a direct message
 * `directmessage`), never by its name: true when the channel's real name must be asked of
 * Slack (conversations.info) before name patterns can be checked — a channel that is not a
 * direct message, not already allowed by its id, while some pattern is a name.
 */
export function needsNameLookup(channel: { id: string; name?: string | undefined }, patterns: readonly string[]): boolean {
  const name = channel.name ?? '';
  if (name !== '' && name !== 'privategroup') return false;
  if (channel.id.startsWith('D')) return false;
  const trimmed = patterns.map((p) => p.trim()).filter(Boolean);
  return !trimmed.includes(channel.id) && trimmed.some((p) => !CHANNEL_ID.test(p));
}

/**
 * A bounded set of recently seen request keys (trigger_id, else the signature), each kept for
 * `ttlMs`. Bounded so a flood cannot grow memory; the oldest keys go first.
 */
export class RecentKeys {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = 10 * 60_000,
    private readonly max = 5000,
  ) {}

  /** True the first time a key is offered (within the TTL), false for a repeat. */
  firstTime(key: string): boolean {
    const now = this.now();
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.ttlMs) return false;
    this.seen.delete(key);
    this.seen.set(key, now);
    this.evict(now);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private evict(now: number): void {
    for (const [key, at] of this.seen) {
      if (this.seen.size <= this.max && now - at < this.ttlMs) break;
      this.seen.delete(key);
    }
  }
}

/**
 * The key that identifies one delivery of a slash command or interaction: its trigger_id,
 * which Slack issues fresh for every user action, so a verbatim replay (same body, same
 * signature) carries the same one. Socket Mode envelopes carry it too.
 */
export function requestKey(body: unknown): string | undefined {
  const b = body as { trigger_id?: unknown } | null;
  return b && typeof b.trigger_id === 'string' && b.trigger_id ? `trigger:${b.trigger_id}` : undefined;
}
