/**
 * Who may approve, from `config.approval`: per Slack team, user ids and user groups. Groups
 * are resolved with `usergroups.users.list` (cached for a few minutes; the runner, which has
 * no Slack access, trusts the approvals the control DB checked). The number of approvals
 * comes from the plan's risk, and a plan with a destructive step needs at least one.
 */
import type { ApprovalConfig } from '../../config.js';
import { isConfiguredApprover, type ApprovalPolicy, type ApproverSet } from '../../control/index.js';
import type { Plan } from '../../types.js';
import { slackFailure } from '../io/slack-errors.js';
import { user, usergroup } from '../views/common.js';

export function requiredApprovals(config: ApprovalConfig, plan: Plan): number {
  const configured = config.required[plan.risk] ?? 1;
  return Math.max(configured, plan.steps.some((s) => s.destructive) ? 1 : 0);
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
    };
  }

  async isApprover(teamId: string, userId: string): Promise<boolean> {
    const set = this.config.approvers[teamId];
    if (set?.users.includes(userId)) return true;
    const policy: ApprovalPolicy = { approvers: { [teamId]: await this.approverSet(teamId) }, required: 0, ttlMinutes: this.config.ttlMinutes };
    return isConfiguredApprover(policy, teamId, userId);
  }
}
