/**
 * Read-only directory methods: who the bot is, who a user is (the bot checks admins), who is
 * in a usergroup (approvers), and what a channel is.
 */
import { stringParam, type MethodHandler } from './api-context.js';
import { SlackApiError } from './method-table.js';

const authTest: MethodHandler = (_params, { workspace }) => ({
  url: `https://${workspace.teamDomain}.slack.com/`,
  team: workspace.teamDomain,
  user: workspace.botName,
  team_id: workspace.teamId,
  user_id: workspace.botUserId,
  bot_id: workspace.botId,
  is_enterprise_install: false,
});

const usersInfo: MethodHandler = (params, { workspace }) => {
  const id = stringParam(params, 'user') ?? '';
  // The bot is a member of the workspace too; bots look themselves up.
  const user = id === workspace.botUserId ? { id, name: workspace.botName, isBot: true } : workspace.user(id);
  if (!user) throw new SlackApiError('user_not_found');
  const realName = user.realName ?? user.name;
  return {
    user: {
      id: user.id,
      team_id: workspace.teamId,
      name: user.name,
      real_name: realName,
      deleted: user.deleted ?? false,
      is_admin: user.isAdmin ?? false,
      is_owner: user.isOwner ?? false,
      is_bot: user.isBot ?? false,
      is_restricted: false,
      is_ultra_restricted: false,
      tz: user.tz ?? 'UTC',
      profile: { real_name: realName, display_name: user.name, team: workspace.teamId },
    },
  };
};

const usergroupUsers: MethodHandler = (params, { workspace }) => {
  const members = workspace.usergroups.get(stringParam(params, 'usergroup') ?? '');
  if (!members) throw new SlackApiError('no_such_subteam');
  return { users: [...members] };
};

const conversationsInfo: MethodHandler = (params, { workspace, clock }) => {
  const channel = workspace.channel(stringParam(params, 'channel') ?? '');
  // A private channel the bot is not in does not exist for it, as in Slack.
  if (!channel || (channel.isPrivate && channel.botIsMember === false)) throw new SlackApiError('channel_not_found');
  return {
    channel: {
      id: channel.id,
      name: channel.name,
      name_normalized: channel.name,
      is_channel: !channel.isPrivate,
      is_group: false,
      is_im: false,
      is_mpim: false,
      is_private: channel.isPrivate ?? false,
      is_archived: channel.isArchived ?? false,
      is_general: false,
      is_member: channel.botIsMember ?? true,
      is_shared: false,
      is_ext_shared: false,
      is_org_shared: false,
      context_team_id: workspace.teamId,
      created: Math.floor(clock.now().getTime() / 1000),
      creator: [...workspace.users.keys()][0] ?? '',
      unlinked: 0,
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
    },
  };
};

export const directoryHandlers: Record<string, MethodHandler> = {
  'auth.test': authTest,
  'users.info': usersInfo,
  'usergroups.users.list': usergroupUsers,
  'conversations.info': conversationsInfo,
};
