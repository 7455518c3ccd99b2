/**
 * Recording approvals and reading back what the runner needs to check them. Eligibility is
 * checked here as well as in the pure policy, so that the database never holds a reject
 * that ended a request on behalf of someone who was not allowed to.
 */
import { RecoverError } from '../errors.js';
import type { Plan } from '../types.js';
import {
  voterRefusal,
  type ApprovalDecision,
  type ApprovalPolicy,
  type ApprovalState,
  type RefusalReason,
} from './approval-policy.js';
import { appendAudit } from './audit.js';
import { queryMaybeOne, queryRows, withTransaction, type Db, type Tx } from './db.js';
import { toApproval, type ApprovalRecord, type ApprovalRow, type RequestStatus } from './model.js';
import { activeJobOf, requestCancel } from './jobs.js';
import { getCurrentPlan, lockRequest } from './requests.js';

export interface ApprovalInput {
  requestId: string;
  approverId: string;
  decision: ApprovalDecision;
  /** The digest of the plan the person was shown. */
  planDigest: string;
  policy: ApprovalPolicy;
}

export interface RecordedApproval {
  approval: ApprovalRecord;
  /** False for a repeated click: the existing, still valid vote was kept as it was. */
  changed: boolean;
  requestStatus: RequestStatus;
}

const NOT_ALLOWED: Record<Exclude<RefusalReason, 'plan-changed' | 'expired'>, string> = {
  'own-request': 'You asked for this recovery, so your approval does not count.',
  'not-an-approver': 'Only configured approvers can approve or reject a recovery.',
};

// A vote is rewritten only if it changes something: same person, same plan, same decision
// and still valid is a double click and keeps its original time and expiry.
const UPSERT_APPROVAL = `
  INSERT INTO approvals (request_id, approver_id, plan_digest, decision, created_at, expires_at)
  VALUES ($1, $2, $3, $4, now(), now() + make_interval(mins => $5))
  ON CONFLICT (request_id, approver_id) DO UPDATE
     SET plan_digest = EXCLUDED.plan_digest, decision = EXCLUDED.decision,
         created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, voided_at = NULL
   WHERE approvals.plan_digest <> EXCLUDED.plan_digest
      OR approvals.decision <> EXCLUDED.decision
      OR approvals.expires_at <= now()
      OR approvals.voided_at IS NOT NULL
  RETURNING *`;

export async function recordApproval(db: Db, input: ApprovalInput): Promise<RecordedApproval> {
  return withTransaction(db, async (tx) => {
    const request = await lockRequest(tx, input.requestId);
    const refusal = voterRefusal(input.policy, {
      teamId: request.teamId,
      requesterId: request.requesterId,
      userId: input.approverId,
      decision: input.decision,
    });
    if (refusal === 'own-request' || refusal === 'not-an-approver') {
      throw new RecoverError('NOT_PERMITTED', NOT_ALLOWED[refusal], { hint: 'Ask one of the configured approvers.' });
    }
    if (request.status === 'rejected') {
      throw new RecoverError('NOT_PERMITTED', 'This request was already rejected; nothing will run.', {
        hint: 'Start a new request if recovery is still needed.',
      });
    }
    const current = await getCurrentPlan(tx, input.requestId);
    // A reject counts whatever the person saw; an approval only for the plan in force.
    if (input.decision === 'approve' && current?.digest !== input.planDigest) {
      throw new RecoverError('APPROVAL_INVALID', 'The plan changed since you looked at it; your approval was not recorded.', {
        hint: 'Review the new plan and approve that one.',
      });
    }

    const upserted = await queryMaybeOne<ApprovalRow>(tx, UPSERT_APPROVAL, [
      input.requestId,
      input.approverId,
      input.planDigest,
      input.decision,
      input.policy.ttlMinutes,
    ]);
    const row =
      upserted ??
      (await queryMaybeOne<ApprovalRow>(tx, 'SELECT * FROM approvals WHERE request_id = $1 AND approver_id = $2', [
        input.requestId,
        input.approverId,
      ]));
    if (!row) throw new RecoverError('INTERNAL', 'An approval vanished while it was being recorded.');

    let requestStatus: RequestStatus = request.status;
    if (upserted && input.decision === 'reject') {
      requestStatus = await endRejectedRequest(tx, input.requestId, input.approverId);
    }
    if (upserted) {
      await appendAudit(tx, {
        actor: input.approverId,
        action: `approval.${input.decision}`,
        subject: `request:${input.requestId}`,
        details: { planDigest: input.planDigest, expiresAt: row.expires_at },
      });
    }
    return { approval: toApproval(row), changed: upserted !== undefined, requestStatus };
  });
}

/** A reject ends the request: a queued job is cancelled, a running one is asked to stop. */
async function endRejectedRequest(tx: Tx, requestId: string, by: string): Promise<RequestStatus> {
  const active = await activeJobOf(tx, requestId);
  if (active) await requestCancel(tx, active.id, by);
  await tx.query(`UPDATE requests SET status = 'rejected' WHERE id = $1`, [requestId]);
  return 'rejected';
}

export async function listApprovals(db: Db, requestId: string): Promise<ApprovalRecord[]> {
  const rows = await queryRows<ApprovalRow>(db, 'SELECT * FROM approvals WHERE request_id = $1 ORDER BY created_at', [
    requestId,
  ]);
  return rows.map(toApproval);
}

interface StateRow {
  job_id: string;
  request_id: string;
  team_id: string;
  requester_id: string;
  request_status: string;
  job_plan_digest: string;
  plan: Plan | null;
  digest: string | null;
  approvals: Array<Omit<ApprovalRow, 'created_at' | 'expires_at' | 'voided_at'> & {
    created_at: string;
    expires_at: string;
    voided_at: string | null;
  }>;
  now: Date;
}

// One statement, so job, plan, approvals and clock come from one snapshot.
const APPROVAL_STATE = `
  SELECT j.id AS job_id, r.id AS request_id, r.team_id, r.requester_id, r.status AS request_status,
         j.plan_digest AS job_plan_digest, p.plan, p.digest, now() AS now,
         (SELECT coalesce(json_agg(a ORDER BY a.created_at), '[]'::json)
            FROM approvals a WHERE a.request_id = r.id) AS approvals
    FROM jobs j
    JOIN requests r ON r.id = j.request_id
    LEFT JOIN LATERAL (SELECT plan, digest FROM plans WHERE request_id = r.id ORDER BY id DESC LIMIT 1) p ON true
   WHERE j.id = $1`;

/** Everything `assertApprovedForRun` needs, read by the runner itself. */
export async function loadApprovalState(db: Db, jobId: string): Promise<ApprovalState> {
  const row = await queryMaybeOne<StateRow>(db, APPROVAL_STATE, [jobId]);
  if (!row) throw new RecoverError('BAD_INPUT', `There is no job ${jobId}.`);
  return {
    jobId: row.job_id,
    requestId: row.request_id,
    teamId: row.team_id,
    requesterId: row.requester_id,
    requestStatus: row.request_status,
    jobPlanDigest: row.job_plan_digest,
    currentPlan: row.plan && row.digest ? { plan: row.plan, digest: row.digest } : null,
    approvals: row.approvals.map((a) =>
      toApproval({
        ...a,
        created_at: new Date(a.created_at),
        expires_at: new Date(a.expires_at),
        voided_at: a.voided_at === null ? null : new Date(a.voided_at),
      }),
    ),
    now: row.now,
  };
}
