/**
 * Requests and their plans. A plan is stored as its canonical JSON so that the digest
 * recomputed from the jsonb the runner reads back equals the digest people approved.
 */
import { RecoverError } from '../errors.js';
import type { Plan } from '../types.js';
import { appendAudit } from './audit.js';
import { queryMaybeOne, queryOne, queryRows, withTransaction, type Db, type Tx } from './db.js';
import { canonicalJson, planDigest } from './digest.js';
import {
  toPlan,
  toRequest,
  type PlanRecord,
  type PlanRow,
  type RequestRecord,
  type RequestRow,
  type RequestSlackRefs,
  type RequestStatus,
} from './model.js';

export interface NewRequest {
  teamId: string;
  channelId: string;
  requesterId: string;
  command: string;
  args: Record<string, unknown>;
  /** The runner pool that plans and runs it; 'default' when there is one pool. */
  pool?: string;
  /** The command acts on production's data directory: only a runner on the database host plans it (runner/routing.ts). */
  needsDatabaseHost?: boolean;
}

export async function createRequest(db: Db, input: NewRequest): Promise<RequestRecord> {
  return withTransaction(db, async (tx) => {
    const row = await queryOne<RequestRow>(
      tx,
      `INSERT INTO requests (team_id, channel_id, requester_id, command, args, pool, needs_database_host)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) RETURNING *`,
      [input.teamId, input.channelId, input.requesterId, input.command, canonicalJson(input.args), input.pool ?? 'default', input.needsDatabaseHost ?? false],
    );
    const request = toRequest(row);
    await appendAudit(tx, {
      actor: input.requesterId,
      action: 'request.created',
      subject: `request:${request.id}`,
      details: { teamId: input.teamId, channelId: input.channelId, command: input.command, args: request.args },
    });
    return request;
  });
}

export async function getRequest(db: Db, requestId: string): Promise<RequestRecord | null> {
  const row = await queryMaybeOne<RequestRow>(db, 'SELECT * FROM requests WHERE id = $1', [requestId]);
  return row ? toRequest(row) : null;
}

/** Merges into the stored references (the plan preview's and the approval message's ts are set separately). */
export async function setRequestSlackRefs(db: Db, requestId: string, refs: RequestSlackRefs): Promise<void> {
  await queryRows(db, `UPDATE requests SET slack_refs = slack_refs || $2::jsonb WHERE id = $1`, [requestId, JSON.stringify(refs)]);
}

/** A reject is final: job outcomes that arrive afterwards do not overwrite it. */
export async function setRequestStatus(tx: Tx, requestId: string, status: RequestStatus): Promise<void> {
  await tx.query(`UPDATE requests SET status = $2 WHERE id = $1 AND status <> 'rejected'`, [requestId, status]);
}

/** Locks the request row for the rest of the transaction; every change to a request goes through it. */
export async function lockRequest(tx: Tx, requestId: string): Promise<RequestRecord> {
  const row = await queryMaybeOne<RequestRow>(tx, 'SELECT * FROM requests WHERE id = $1 FOR UPDATE', [requestId]);
  if (!row) throw new RecoverError('BAD_INPUT', `There is no request ${requestId}.`);
  return toRequest(row);
}

export async function getCurrentPlan(db: Db, requestId: string): Promise<PlanRecord | null> {
  const row = await queryMaybeOne<PlanRow>(
    db,
    'SELECT * FROM plans WHERE request_id = $1 ORDER BY id DESC LIMIT 1',
    [requestId],
  );
  return row ? toPlan(row) : null;
}

export interface SavedPlan {
  plan: PlanRecord;
  /** False when the request already had exactly this plan. */
  changed: boolean;
  /** Approvals that stopped counting because the plan changed. */
  voidedApprovals: number;
}

/**
 * Makes `plan` the request's current plan. A different digest voids every approval given so
 * far, so a plan can never run on approvals given to another one. Refused once a job exists
 * or the request was rejected: what runs must be what was approved.
 */
export async function savePlan(
  db: Db,
  input: { requestId: string; plan: Plan; actor?: string },
): Promise<SavedPlan> {
  const digest = planDigest(input.plan, input.requestId);
  return withTransaction(db, async (tx) => {
    const request = await lockRequest(tx, input.requestId);
    if (request.status !== 'pending') {
      throw new RecoverError('NOT_PERMITTED', `This request is ${request.status}; its plan can no longer change.`, {
        hint: 'Start a new request to run a different plan.',
      });
    }
    const current = await getCurrentPlan(tx, input.requestId);
    if (current?.digest === digest) return { plan: current, changed: false, voidedApprovals: 0 };

    const row = await queryOne<PlanRow>(
      tx,
      'INSERT INTO plans (request_id, plan, digest) VALUES ($1, $2::jsonb, $3) RETURNING *',
      [input.requestId, canonicalJson(input.plan), digest],
    );
    const voided = await tx.query(
      `UPDATE approvals SET voided_at = now()
        WHERE request_id = $1 AND decision = 'approve' AND voided_at IS NULL`,
      [input.requestId],
    );
    const voidedApprovals = voided.rowCount ?? 0;
    await appendAudit(tx, {
      actor: input.actor ?? 'recover-bot',
      action: 'plan.saved',
      subject: `request:${input.requestId}`,
      details: { digest, previousDigest: current?.digest ?? null, voidedApprovals },
    });
    return { plan: toPlan(row), changed: true, voidedApprovals };
  });
}
