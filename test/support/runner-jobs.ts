/**
 * Jobs for tests that run `recover runner` as its own process: a pitr request filed in the
 * control DB as the bot files it, planned by the runner, approved by a second person with the
 * runner's own policy, and queued; and the wait for one of its steps to be running.
 */
import type pg from 'pg';
import { pitr } from '../../commands/pitr.js';
import { loadConfig } from '../../src/config.js';
import { createRequest, enqueueJob, getCurrentPlan, getRequest, markApprovalRequested, recordApproval, type PlanRecord } from '../../src/control/index.js';
import { runnerPolicy } from '../../src/runner/execute.js';
import { TEAM_ID } from '../../devkit/world.js';
import { until } from './until.js';

export interface PitrJobInput {
  /** Who may approve, as RECOVER_APPROVERS: U0ALICE asks, U0BOB approves. */
  approvers: string;
  target: Date;
  /** The words after the target, e.g. ['--to', 'in-place']. */
  words: string[];
  risk: 'destructive' | 'side-copy';
  channelId: string;
  timeoutMs: number;
}

/** Filed, planned by the runner (a planning refusal fails the wait with its reason), approved, queued. */
export async function approvedPitrJob(control: pg.Pool, input: PitrJobInput): Promise<{ jobId: string; plan: PlanRecord }> {
  const config = loadConfig({ RECOVER_APPROVERS: input.approvers, RECOVER_PRODUCTION_NAME: 'aiagent_prod', LOG_LEVEL: 'silent' });
  const request = await createRequest(control, { teamId: TEAM_ID, channelId: input.channelId, requesterId: 'U0ALICE', command: 'pitr', args: pitr.parse([input.target.toISOString(), ...input.words]) as Record<string, unknown> });
  const plan = await until('the plan', async () => {
    const stored = await getRequest(control, request.id);
    if (stored?.planningError) throw new Error(`planning refused: ${JSON.stringify(stored.planningError)}`);
    return (await getCurrentPlan(control, request.id)) ?? undefined;
  }, input.timeoutMs);
  await markApprovalRequested(control, { requestId: request.id, userId: 'U0ALICE', planDigest: plan.digest });
  await recordApproval(control, { requestId: request.id, approverId: 'U0BOB', decision: 'approve', planDigest: plan.digest, policy: runnerPolicy(config, input.risk) });
  const { job } = await enqueueJob(control, { requestId: request.id, planDigest: plan.digest, pool: 'default' });
  return { jobId: job.id, plan };
}

/** Until the job's step of this kind is running (its checkpoint says so). */
export async function stepRunning(control: pg.Pool, jobId: string, kind: string, timeoutMs: number): Promise<void> {
  await until(`step ${kind} of job ${jobId} to run`, async () => {
    const { rows } = await control.query(`SELECT 1 FROM step_checkpoints WHERE job_id = $1 AND kind = $2 AND status = 'running'`, [jobId, kind]);
    return rows.length > 0 ? true : undefined;
  }, timeoutMs);
}
