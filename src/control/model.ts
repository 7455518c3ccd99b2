/**
 * Records of the control DB as the rest of the code sees them (camelCase, Dates), and the
 * mapping from rows. Row types list exactly the columns the SQL returns.
 */
import type { EngineEvent, Plan } from '../types.js';
import type { ApprovalDecision } from './approval-policy.js';
import { safeInteger } from './db.js';

export type RequestStatus = 'pending' | 'rejected' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type StepStatus = 'running' | 'succeeded' | 'failed';

export interface RequestRecord {
  id: string;
  teamId: string;
  channelId: string;
  requesterId: string;
  command: string;
  args: Record<string, unknown>;
  createdAt: Date;
  status: RequestStatus;
  /** The runner pool that plans and runs this request. */
  pool: string;
  /** Where the bot posted the plan preview and the approval message. */
  slackRefs: RequestSlackRefs;
  /** Why the runner refused to plan it (a RecoverError's code, message and hint). */
  planningError: { code: string; message: string; hint: string | null } | null;
  /** When the requester asked for approval; approvals are accepted only after that. */
  approvalRequestedAt: Date | null;
}

export interface RequestSlackRefs {
  channel?: string;
  planTs?: string;
  approvalTs?: string;
}

export interface PlanRecord {
  id: number;
  requestId: string;
  /** As stored: bigints and Dates of the original have become strings. */
  plan: Plan;
  digest: string;
  createdAt: Date;
}

export interface ApprovalRecord {
  requestId: string;
  approverId: string;
  planDigest: string;
  decision: ApprovalDecision;
  createdAt: Date;
  expiresAt: Date;
  voidedAt: Date | null;
}

export interface SlackRefs {
  channel?: string;
  statusTs?: string;
  threadTs?: string;
  /** The last job event the bot has posted about (step reply, report, summary), so a restarted bot neither repeats nor skips posts. */
  postedEventId?: number;
}

export interface JobRecord {
  id: string;
  requestId: string;
  planDigest: string;
  pool: string;
  status: JobStatus;
  runnerId: string | null;
  leaseExpiresAt: Date | null;
  heartbeatAt: Date | null;
  cancelRequested: boolean;
  cancelRequestedBy: string | null;
  cancelRequestedAt: Date | null;
  resumeOf: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  result: unknown;
  error: { code: string; message: string } | null;
  slackRefs: SlackRefs;
  /** When the runner found the approvals complete at job start (see authorizeJob). */
  authorizedAt: Date | null;
}

export interface StepCheckpoint {
  jobId: string;
  stepIndex: number;
  kind: string;
  status: StepStatus;
  startedAt: Date;
  finishedAt: Date | null;
  detail: Record<string, unknown>;
}

export interface EventRecord {
  id: number;
  jobId: string;
  event: EngineEvent;
  /** When the control DB stored it (the event's own `at` is the runner's clock). */
  storedAt: Date;
}

export interface RequestRow {
  id: string;
  team_id: string;
  channel_id: string;
  requester_id: string;
  command: string;
  args: Record<string, unknown>;
  created_at: Date;
  status: RequestStatus;
  pool: string;
  slack_refs: RequestSlackRefs;
  planning_error: RequestRecord['planningError'];
  approval_requested_at: Date | null;
}

export function toRequest(row: RequestRow): RequestRecord {
  return {
    id: row.id,
    teamId: row.team_id,
    channelId: row.channel_id,
    requesterId: row.requester_id,
    command: row.command,
    args: row.args,
    createdAt: row.created_at,
    status: row.status,
    pool: row.pool,
    slackRefs: row.slack_refs ?? {},
    planningError: row.planning_error ?? null,
    approvalRequestedAt: row.approval_requested_at ?? null,
  };
}

export interface PlanRow {
  id: string;
  request_id: string;
  plan: Plan;
  digest: string;
  created_at: Date;
}

export function toPlan(row: PlanRow): PlanRecord {
  return {
    id: safeInteger(row.id, 'plan id'),
    requestId: row.request_id,
    plan: row.plan,
    digest: row.digest,
    createdAt: row.created_at,
  };
}

export interface ApprovalRow {
  request_id: string;
  approver_id: string;
  plan_digest: string;
  decision: ApprovalDecision;
  created_at: Date;
  expires_at: Date;
  voided_at: Date | null;
}

export function toApproval(row: ApprovalRow): ApprovalRecord {
  return {
    requestId: row.request_id,
    approverId: row.approver_id,
    planDigest: row.plan_digest,
    decision: row.decision,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    voidedAt: row.voided_at,
  };
}

export interface JobRow {
  id: string;
  request_id: string;
  plan_digest: string;
  pool: string;
  status: JobStatus;
  runner_id: string | null;
  lease_expires_at: Date | null;
  heartbeat_at: Date | null;
  cancel_requested: boolean;
  cancel_requested_by: string | null;
  cancel_requested_at: Date | null;
  resume_of: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  result: unknown;
  error: { code: string; message: string } | null;
  slack_refs: SlackRefs;
  authorized_at: Date | null;
}

export function toJob(row: JobRow): JobRecord {
  return {
    id: row.id,
    requestId: row.request_id,
    planDigest: row.plan_digest,
    pool: row.pool,
    status: row.status,
    runnerId: row.runner_id,
    leaseExpiresAt: row.lease_expires_at,
    heartbeatAt: row.heartbeat_at,
    cancelRequested: row.cancel_requested,
    cancelRequestedBy: row.cancel_requested_by,
    cancelRequestedAt: row.cancel_requested_at,
    resumeOf: row.resume_of,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    result: row.result,
    error: row.error,
    slackRefs: row.slack_refs,
    authorizedAt: row.authorized_at ?? null,
  };
}

export interface StepRow {
  job_id: string;
  step_index: number;
  kind: string;
  status: StepStatus;
  started_at: Date;
  finished_at: Date | null;
  detail: Record<string, unknown>;
}

export function toStep(row: StepRow): StepCheckpoint {
  return {
    jobId: row.job_id,
    stepIndex: row.step_index,
    kind: row.kind,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    detail: row.detail,
  };
}

export interface EventRow {
  id: string;
  job_id: string;
  payload: EngineEvent;
  at: Date;
}

export function toEvent(row: EventRow): EventRecord {
  return { id: safeInteger(row.id, 'event id'), jobId: row.job_id, event: row.payload, storedAt: row.at };
}
