/**
 * Recording approvals (the bot's side: requester asks, approvers vote). Eligibility is
 * checked here as well as in the pure policy, so that the database never holds a reject
 * that ended a request on behalf of someone who was not allowed to. Approvals are accepted
 * only once the requester asked for them (`markApprovalRequested`), whichever process calls.
 * What the runner reads back to check them (and the audit-log match) is in approval-state.ts.
 */
import { RecoverError } from '../errors.js';
import {
  voterRefusal,
  type ApprovalDecision,
  type ApprovalPolicy,
  type ApproverVia,
  type RefusalReason,
} from './approval-policy.js';
import { appendAudit } from './audit.js';
import { queryMaybeOne, queryRows, withTransaction, type Db, type Tx } from './db.js';
import { toApproval, toRequest, type ApprovalRecord, type ApprovalRow, type RequestRecord, type RequestRow, type RequestStatus } from './model.js';
import { activeJobOf, requestCancel } from './jobs.js';
import { getCurrentPlan, lockRequest } from './requests.js';

export interface ApprovalInput {
  requestId: string;
  approverId: string;
  decision: ApprovalDecision;
  /** The digest of the plan the person was shown. */
  planDigest: string;
  policy: ApprovalPolicy;
  /**
   * How the caller (the bot) judged the voter an approver: named in the vote's audit entry with
   * the policy's stamp, which is what lets the runner count a group member's vote (vouchedByGroup).
   */
  via?: ApproverVia;
}

export interface RecordedApproval {
  approval: ApprovalRecord;
  /** False for a repeated click: the existing, still valid vote was kept as it was. */
  changed: boolean;
  requestStatus: RequestStatus;
}

const NOT_ALLOWED: Record<Exclude<RefusalReason, 'plan-changed' | 'expired' | 'not-audited'>, string> = {
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

/**
 * The requester asks for approval of the plan they were shown (after the typed confirmation
 * for destructive plans): from now on approvals are accepted. Idempotent; refused unless the
 * request is pending, the caller is its requester and `planDigest` is its current plan.
 */
export async function markApprovalRequested(
  db: Db,
  input: { requestId: string; userId: string; planDigest: string },
): Promise<{ request: RequestRecord; changed: boolean }> {
  return withTransaction(db, async (tx) => {
    const request = await lockRequest(tx, input.requestId);
    if (input.userId !== request.requesterId) {
      throw new RecoverError('NOT_PERMITTED', `Only @${request.requesterId}, who asked for this recovery, can request approval for it.`, {
        hint: 'Approvers vote on the approval message once the requester posts it.',
      });
    }
    if (request.status !== 'pending') {
      throw new RecoverError('NOT_PERMITTED', `This request is already ${request.status}; nothing to approve.`, {
        hint: 'Start a new request if recovery is still needed.',
      });
    }
    const current = await getCurrentPlan(tx, input.requestId);
    if (!current || current.digest !== input.planDigest) {
      throw new RecoverError('APPROVAL_INVALID', 'The plan changed since it was shown; approval was not requested.', {
        hint: 'Review the new plan preview, then request approval again.',
      });
    }
    if (request.approvalRequestedAt) return { request, changed: false };
    const row = await queryMaybeOne<RequestRow>(
      tx,
      `UPDATE requests SET approval_requested_at = now(), approval_requested_by = $2 WHERE id = $1 RETURNING *`,
      [input.requestId, input.userId],
    );
    if (!row) throw new RecoverError('INTERNAL', 'A request vanished while approval was being requested.');
    await appendAudit(tx, {
      actor: input.userId,
      action: 'approval.requested',
      subject: `request:${input.requestId}`,
      details: { planDigest: input.planDigest },
    });
    return { request: toRequest(row), changed: true };
  });
}

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
    // A reject (or the requester withdrawing) is always possible while pending; an approval
    // only once the requester asked for approvals and only while nothing runs yet.
    if (input.decision === 'approve' && (request.status !== 'pending' || request.approvalRequestedAt === null)) {
      // A double click that arrives after the first one queued the job: the same vote, kept.
      const existing = await queryMaybeOne<ApprovalRow>(tx, 'SELECT * FROM approvals WHERE request_id = $1 AND approver_id = $2', [
        input.requestId,
        input.approverId,
      ]);
      if (existing && existing.decision === 'approve' && existing.plan_digest === input.planDigest && existing.voided_at === null) {
        return { approval: toApproval(existing), changed: false, requestStatus: request.status };
      }
      const why = request.status !== 'pending' ? `it is already ${request.status}` : 'its requester has not requested approval yet';
      throw new RecoverError('NOT_PERMITTED', `This request is not awaiting approval (${why}); your approval was not recorded.`, {
        hint: request.status !== 'pending'
          ? 'Nothing more to approve here; start a new request if recovery is still needed.'
          : 'Wait for the requester to click *Request approval* on the plan preview, then approve on the approval message.',
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
        details: {
          planDigest: input.planDigest,
          expiresAt: row.expires_at,
          ...(input.via ? { via: input.via } : {}),
          ...(input.policy.stamp ? { policy: input.policy.stamp } : {}),
        },
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
