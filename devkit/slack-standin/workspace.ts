/**
 * The fake workspace: team, bot identity, users, usergroups, channels and granted scopes,
 * plus Slack-style message timestamps. Built once from the options; tests may add users or
 * channels later through the returned object.
 */
import { defaultScopes } from './method-table.js';
import type { Clock, SlackStandInOptions, StandInChannel, StandInUser } from './types.js';

export interface Workspace {
  teamId: string;
  teamDomain: string;
  appId: string;
  botUserId: string;
  botId: string;
  botName: string;
  users: Map<string, StandInUser>;
  usergroups: Map<string, string[]>;
  channels: Map<string, StandInChannel>;
  scopes: Set<string>;
  /** A unique, increasing message ts ("seconds.micros"), as Slack's are within a channel. */
  nextTs(): string;
  permalink(channel: string, ts: string, threadTs?: string): string;
  user(id: string): StandInUser | undefined;
  channel(idOrName: string): StandInChannel | undefined;
}

const DEFAULT_USERS: StandInUser[] = [
  { id: 'U0ALICE', name: 'alice', realName: 'Alice Admin', isAdmin: true },
  { id: 'U0BOB', name: 'bob', realName: 'Bob Builder' },
];
const DEFAULT_CHANNELS: StandInChannel[] = [{ id: 'C0INCIDENT', name: 'incident' }];

export function createWorkspace(options: SlackStandInOptions, clock: Clock): Workspace {
  const teamId = options.teamId ?? 'T0STANDIN';
  const teamDomain = options.teamDomain ?? 'standin';
  const users = new Map((options.users ?? DEFAULT_USERS).map((u) => [u.id, u] as const));
  const channels = new Map((options.channels ?? DEFAULT_CHANNELS).map((c) => [c.id, c] as const));
  let lastMicros = 0;

  return {
    teamId,
    teamDomain,
    appId: options.appId ?? 'A0STANDIN',
    botUserId: options.botUserId ?? 'U0RECOVERBOT',
    botId: options.botId ?? 'B0RECOVERBOT',
    botName: options.botName ?? 'recover-bot',
    users,
    usergroups: new Map(Object.entries(options.usergroups ?? {})),
    channels,
    scopes: new Set(options.scopes ?? defaultScopes()),
    nextTs() {
      // Two messages in the same millisecond still get distinct, ordered timestamps.
      lastMicros = Math.max(lastMicros + 1, clock.now().getTime() * 1000);
      const seconds = Math.floor(lastMicros / 1_000_000);
      return `${seconds}.${String(lastMicros % 1_000_000).padStart(6, '0')}`;
    },
    permalink(channel, ts, threadTs) {
      const base = `https://${teamDomain}.slack.com/archives/${channel}/p${ts.replace('.', '')}`;
      return threadTs && threadTs !== ts ? `${base}?thread_ts=${threadTs}&cid=${channel}` : base;
    },
    user: (id) => users.get(id),
    channel(idOrName) {
      const byId = channels.get(idOrName);
      if (byId) return byId;
      const name = idOrName.replace(/^#/, '');
      return [...channels.values()].find((c) => c.name === name);
    },
  };
}
