/**
 * Executing one claimed job: re-check everything the bot claimed (the plan matches its digest,
 * approvals are complete, valid, audited and from the right people), then run the plan's command.
 * Authorization is decided once, when the job starts (`authorizeJob`, time limits apply);
 * `checkApprovals` before each destructive step judges as of that moment, so a long step
 * cannot expire the approvals half-way, while a reject, a changed plan or a cancel still stops it.
 */
import { assertRunsHere, reachOf } from './routing.js';
import type pg from 'pg';
import { findCommand } from '../../commands/index.js';
import { assertApprovedForRun, findOperationState, loadApprovalState, policyStamp, recordJobAuthorized, type ApprovalPolicy, type JobRecord } from '../control/index.js';
import type { Config } from '../config.js';
import type { EngineContext } from '../engine/context.js';
import { RecoverError } from '../errors.js';
import { controlCopyRecords } from './copy-records.js';
import type { Plan, Risk } from '../types.js';

export function runnerPolicy(config: Config, risk: Risk): ApprovalPolicy {
  // The runner has no Slack access: approvers named by user ID count; a member of a listed user
  // group counts when the vote's audit entry says the bot resolved that membership under these
  // same settings (vouchedByGroup: the bot's audited word, bounded by this runner's config).
  const approvers = Object.fromEntries(
    Object.entries(config.approval.approvers).map(([team, set]) => [team, { userIds: set.users, usergroupMembers: [] as string[], usergroups: set.usergroups }]),
  );
  return { approvers, required: config.approval.required[risk], ttlMinutes: config.approval.ttlMinutes, stamp: policyStamp(config.approval) };
}

async function approvedPlan(control: pg.Pool, config: Config, job: JobRecord, phase: 'start' | 'before-destructive-step') {
  const state = await loadApprovalState(control, job.id);
  const plan = state.currentPlan?.plan;
  if (!plan) throw new RecoverError('APPROVAL_INVALID', `Job ${job.id} has no plan on record; nothing ran.`, { hint: 'Start a new request with `/recover`.' });
  const evaluation = assertApprovedForRun({ policy: runnerPolicy(config, plan.risk), state, phase });
  return { plan, evaluation, digest: state.jobPlanDigest };
}

/** Runs a control-DB call again while the control DB is away (the runner's); by default once. */
export type Retry = <T>(what: string, work: () => Promise<T>) => Promise<T>;

const once: Retry = (_what, work) => work();

/**
 * At job start: throws APPROVAL_INVALID unless the approvals are complete and unexpired now
 * (the control DB's clock), then records the job as authorized as of now. The record is
 * retried as it is (same time, same approvers), so a lost reply never audits it twice.
 */
export async function authorizeJob(control: pg.Pool, config: Config, job: JobRecord, runnerId: string, retry: Retry = once): Promise<Plan> {
  const { plan, evaluation, digest } = await retry('check the approvals', () => approvedPlan(control, config, job, 'start'));
  const record = { jobId: job.id, runnerId, at: evaluation.judgedAt, approvedBy: evaluation.approvedBy, planDigest: digest };
  await retry('record the job as authorized', () => recordJobAuthorized(control, record));
  return plan;
}

/**
 * Before a destructive step: reads the state itself, every time, and throws APPROVAL_INVALID
 * (or CANCELLED) on a reject, a changed plan, an approval that no longer holds as of the
 * job's authorization, or a cancel. Time passing since the start is not a reason.
 */
export async function checkApprovals(control: pg.Pool, config: Config, job: JobRecord): Promise<Plan> {
  return (await approvedPlan(control, config, job, 'before-destructive-step')).plan;
}

/**
 * Runs the plan's command: its params are parsed with the command's own schema (a stored plan
 * is never trusted as typed), and destructive steps re-check the approvals first.
 */
/**
 * The command's result, and its verdict on it: a command that ran to the end can still have
 * failed at what it was for (a restore or a check whose verification failed). The runner
 * records such a job as failed, with the result kept, exactly as the CLI exits 1.
 */
export interface Execution {
  result: unknown;
  verdict: RecoverError | null;
}

/**
 * `fence`, when given, is what runs before each destructive step instead of checkApprovals
 * alone: the runner's, which also confirms its lease and waits out a control-DB restart.
 */
export async function executePlan(
  ctx: EngineContext,
  control: pg.Pool,
  config: Config,
  job: JobRecord,
  plan: Plan,
  fence?: (step: string) => Promise<void>,
  retry?: <T>(what: string, work: () => Promise<T>) => Promise<T>,
): Promise<Execution> {
  // Claimed only where it runs (control/queue.ts); checked again here, before anything is done.
  assertRunsHere(plan, reachOf(config));
  const command = findCommand(plan.command);
  if (!command?.run || !command.paramsSchema) {
    throw new RecoverError('BAD_INPUT', `This runner does not execute "${plan.command}" plans.`, { hint: 'Upgrade the runner, or run the command from the CLI.' });
  }
  const parsed = command.paramsSchema.safeParse(plan.params ?? {});
  if (!parsed.success) {
    throw new RecoverError('BAD_INPUT', `The plan's params for "${plan.command}" are not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const result = await command.run(
    {
      engine: ctx,
      config,
      cli: null,
      // A copy job records its copy as this job (only while this runner holds it); a swap job reads the records.
      copies: controlCopyRecords(control, { pool: job.pool, log: ctx.log, job: { id: job.id, runnerId: job.runnerId ?? '' }, ...(retry ? { retry } : {}) }),
      // An Azure operation an earlier job of this pool started and never saw end: resumed from its recorded poller state.
      operations: { find: (operation) => (retry ?? once)('read the recorded state of an Azure operation', () => findOperationState(control, operation)) },
      beforeDestructiveStep: fence ?? (async () => void (await checkApprovals(control, config, job))),
    },
    parsed.data,
  );
  return { result, verdict: command.verdict?.(result, parsed.data) ?? null };
}
