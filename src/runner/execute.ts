/**
 * Executing one claimed job: re-check everything the bot claimed (the plan matches its digest,
 * approvals are complete, valid and from the right people), then run the plan's command.
 */
import type pg from 'pg';
import { targetFromArgs, type PitrArgs } from '../../commands/pitr.js';
import { assertApprovedForRun, loadApprovalState, type ApprovalPolicy, type JobRecord } from '../control/index.js';
import type { Config } from '../config.js';
import type { EngineContext } from '../engine/context.js';
import { runPitr } from '../engine/pitr.js';
import { RecoverError } from '../errors.js';
import type { Plan, Risk } from '../types.js';

export function runnerPolicy(config: Config, risk: Risk): ApprovalPolicy {
  // The runner has no Slack access: only approvers named by user ID count here.
  const approvers = Object.fromEntries(
    Object.entries(config.approval.approvers).map(([team, set]) => [team, { userIds: set.users, usergroupMembers: [] as string[] }]),
  );
  return { approvers, required: config.approval.required[risk], ttlMinutes: config.approval.ttlMinutes };
}

/** Throws APPROVAL_INVALID unless the job may run now; reads the state itself, every time. */
export async function checkApprovals(control: pg.Pool, config: Config, job: JobRecord): Promise<Plan> {
  const state = await loadApprovalState(control, job.id);
  const plan = state.currentPlan?.plan;
  if (!plan) throw new RecoverError('APPROVAL_INVALID', `Job ${job.id} has no plan on record; nothing will run.`, { hint: 'Start a new request.' });
  assertApprovedForRun({ policy: runnerPolicy(config, plan.risk), state });
  return plan;
}

export async function executePlan(ctx: EngineContext, control: pg.Pool, config: Config, job: JobRecord, plan: Plan): Promise<unknown> {
  switch (plan.command) {
    case 'pitr': {
      const params = plan.params as Omit<PitrArgs, 'db' | 'backupId'> & { backupId: string; instanceName: string | null; databases: string[] | null };
      return runPitr(ctx, config, {
        target: targetFromArgs(params.target),
        inclusive: params.inclusive,
        action: params.action,
        to: params.to,
        backupId: params.backupId,
        ...(params.instanceName ? { instanceName: params.instanceName } : {}),
        ...(params.databases ? { databases: params.databases } : {}),
        beforeDestructiveStep: async () => void (await checkApprovals(control, config, job)),
      });
    }
    default:
      throw new RecoverError('BAD_INPUT', `This runner does not execute "${plan.command}" plans.`, { hint: 'Upgrade the runner, or run the command from the CLI.' });
  }
}
