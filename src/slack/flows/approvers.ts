/**
 * Who may approve, from `config.approval`: per Slack team, user ids and user groups. Groups
 * are resolved with `usergroups.users.list` (cached for a few minutes). The runner, which has
 * no Slack access, counts a group member's vote only by the vote's audit entry: the bot records
 * there which listed group it found the voter in, and the stamp of its approval settings. The number of approvals
 * comes from the plan's risk, and a plan with a destructive step needs at least one.
 */
import type { ApprovalConfig } from '../../config.js';
import { isConfiguredApprover, policyStamp, stampDifferences, type ApprovalPolicy, type ApproverSet, type ApproverVia, type PolicyStamp } from '../../control/index.js';
import { RecoverError } from '../../errors.js';
import type { Plan } from '../../types.js';
import { slackFailure } from '../io/slack-errors.js';
import { user, usergroup } from '../views/common.js';

export function requiredApprovals(config: ApprovalConfig, plan: Plan): number {
  const configured = config.required[plan.risk] ?? 1;
  return Math.max(configured, plan.steps.some((s) => s.destructive) ? 1 : 0);
}

/**
 * CONFIG_INVALID when the runner planned this under other approval settings than the bot's
 * (it would refuse the job the bot queued, or count votes the bot refused): shown in the
 * channel instead of the approve buttons, and refused when someone votes anyway.
 */
export function settingsMismatch(config: ApprovalConfig, plan: Plan): RecoverError | null {
  if (!plan.approvalPolicy) return null;
  const differ = stampDifferences(policyStamp(config), plan.approvalPolicy, ['bot', 'runner']);
  if (!differ.length) return null;
  return new RecoverError('CONFIG_INVALID', `The bot and the runner that planned this have different approval settings: ${differ.join('; ')}. No approval is collected for this plan.`, {
    hint: 'Give the bot and every runner of the pool the same RECOVER_APPROVERS, RECOVER_APPROVALS_REQUIRED and RECOVER_APPROVAL_TTL_MINUTES, restart them, then start a new request with `/recover`.',
  });
}

export class ApproverDirectory {
  private readonly groups = new Map<string, { members: string[]; at: number }>();

  constructor(
    private readonly config: ApprovalConfig,
    private readonly lookup: (usergroup: string) => Promise<string[]>,
    private readonly now: () => number = Date.now,
    private readonly cacheMs = 5 * 60_000,
  ) {}

  /** How the approvers read in a message: mentions of the users and groups (`<@U…>`, `<!subteam^S…>` once built). */
  mentions(teamId: string): string[] {
    const set = this.config.approvers[teamId];
    if (!set) return [];
    return [...set.users.map(user), ...set.usergroups.map(usergroup)];
  }

  private async members(group: string): Promise<string[]> {
    const cached = this.groups.get(group);
    if (cached && this.now() - cached.at < this.cacheMs) return cached.members;
    try {
      const members = await this.lookup(group);
      this.groups.set(group, { members, at: this.now() });
      return members;
    } catch (error) {
      throw slackFailure(`to list the members of approver group ${group}`, error);
    }
  }

  async approverSet(teamId: string): Promise<ApproverSet> {
    const set = this.config.approvers[teamId];
    if (!set) return { userIds: [], usergroupMembers: [] };
    const members = await Promise.all(set.usergroups.map((g) => this.members(g)));
    return { userIds: set.users, usergroupMembers: [...new Set(members.flat())] };
  }

  async policy(teamId: string, plan: Plan): Promise<ApprovalPolicy> {
    return {
      approvers: { [teamId]: await this.approverSet(teamId) },
      required: requiredApprovals(this.config, plan),
      ttlMinutes: this.config.ttlMinutes,
      stamp: this.stamp(),
    };
  }

  stamp(): PolicyStamp {
    return policyStamp(this.config);
  }

  /**
   * How this person is an approver: listed by id, or a member of a listed group (the first
   * that has them). Recorded in the vote's audit entry, which is what the runner counts a group
   * member's vote by. Null: not an approver.
   */
  async via(teamId: string, userId: string): Promise<ApproverVia | null> {
    const set = this.config.approvers[teamId];
    if (!set) return null;
    if (set.users.includes(userId)) return { kind: 'user' };
    for (const group of set.usergroups) {
      if ((await this.members(group)).includes(userId)) return { kind: 'usergroup', usergroup: group };
    }
    return null;
  }

  async isApprover(teamId: string, userId: string): Promise<boolean> {
    const set = this.config.approvers[teamId];
    if (set?.users.includes(userId)) return true;
    const policy: ApprovalPolicy = { approvers: { [teamId]: await this.approverSet(teamId) }, required: 0, ttlMinutes: this.config.ttlMinutes };
    return isConfiguredApprover(policy, teamId, userId);
  }
}
