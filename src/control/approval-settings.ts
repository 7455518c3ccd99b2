/**
 * The approval settings bot and runner must share (RECOVER_APPROVERS, RECOVER_APPROVALS_REQUIRED,
 * RECOVER_APPROVAL_TTL_MINUTES), as a stamp both compute: the runner stamps each plan with its
 * own, the bot records its own with each vote, and a difference is refused naming the setting.
 */
import { RecoverError } from '../errors.js';
import type { Plan, PolicyStamp, Risk } from '../types.js';
import type { ApprovalPolicy, ApprovalState } from './approval-policy.js';
import { canonicalJson, sha256Hex } from './digest.js';

/** The approval settings both processes read from their environment (config.approval). */
export interface ApprovalSettings {
  approvers: Readonly<Record<string, { users: readonly string[]; usergroups: readonly string[] }>>;
  required: Readonly<Record<Risk, number>>;
  ttlMinutes: number;
}

export function policyStamp(settings: ApprovalSettings): PolicyStamp {
  const approvers = Object.fromEntries(
    Object.entries(settings.approvers)
      .map(([team, set]) => [team, { users: [...new Set(set.users)].sort(), usergroups: [...new Set(set.usergroups)].sort() }] as const)
      .filter(([, set]) => set.users.length + set.usergroups.length > 0),
  );
  const required = { 'read-only': settings.required['read-only'], 'side-copy': settings.required['side-copy'], destructive: settings.required.destructive };
  const approversHash = sha256Hex(canonicalJson(approvers)).slice(0, 16);
  const digest = sha256Hex(canonicalJson({ approvers: approversHash, required, ttlMinutes: settings.ttlMinutes }));
  return { digest, approvers: approversHash, required, ttlMinutes: settings.ttlMinutes };
}

/** The settings two stamps disagree on, named as the environment variables people set (empty: they agree). */
export function stampDifferences(a: PolicyStamp, b: PolicyStamp, names: [string, string]): string[] {
  if (a.digest === b.digest) return [];
  const [an, bn] = names;
  const out: string[] = [];
  if (a.approvers !== b.approvers) out.push(`RECOVER_APPROVERS (the approver users and groups differ)`);
  if (canonicalJson(a.required) !== canonicalJson(b.required)) {
    out.push(`RECOVER_APPROVALS_REQUIRED (${an}: ${canonicalJson(a.required)}, ${bn}: ${canonicalJson(b.required)})`);
  }
  if (a.ttlMinutes !== b.ttlMinutes) out.push(`RECOVER_APPROVAL_TTL_MINUTES (${an}: ${a.ttlMinutes}, ${bn}: ${b.ttlMinutes})`);
  return out.length ? out : ['the approval settings (same values, different digest: different versions of recover-bot?)'];
}

/** Whether a stored value is a PolicyStamp (plans and audit entries come back from jsonb). */
export function isPolicyStamp(value: unknown): value is PolicyStamp {
  const v = value as PolicyStamp | null;
  return typeof v === 'object' && v !== null && typeof v.digest === 'string' && typeof v.approvers === 'string'
    && typeof v.ttlMinutes === 'number' && typeof v.required === 'object' && v.required !== null;
}

/**
 * Bot and runner must judge approvals by the same settings (who approves, how many, for how
 * long), or an approval the bot accepted fails here late, or one it refused would count:
 * CONFIG_INVALID naming the setting, when the plan (stamped by the runner that planned it) or
 * a vote's audit entry (stamped by the bot that recorded it) was made under other settings.
 */
export function assertSameSettings(policy: ApprovalPolicy, plan: Plan, state: ApprovalState, nothingMore: string): void {
  const mine = policy.stamp;
  if (!mine) return;
  const fix = 'Give the bot and every runner of the pool the same RECOVER_APPROVERS, RECOVER_APPROVALS_REQUIRED and '
    + 'RECOVER_APPROVAL_TTL_MINUTES, restart them, then start a new request with `/recover`.';
  if (plan.approvalPolicy) {
    const differ = stampDifferences(plan.approvalPolicy, mine, ['planning runner', 'this runner']);
    if (differ.length) {
      throw new RecoverError('CONFIG_INVALID', `This request was planned under other approval settings than this runner has: ${differ.join('; ')}. ${nothingMore}`, { hint: fix });
    }
  }
  for (const vote of state.approvals) {
    if (vote.audited !== true || !vote.policy) continue;
    const differ = stampDifferences(vote.policy, mine, ['bot', 'runner']);
    if (differ.length) {
      throw new RecoverError('CONFIG_INVALID', `The bot and this runner have different approval settings: ${differ.join('; ')}. @${vote.approverId}'s ${vote.decision} was recorded under the bot's. ${nothingMore}`, { hint: fix });
    }
  }
}
