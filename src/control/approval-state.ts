/**
 * The runner's side of approvals: everything it needs to judge a job's approvals itself, read
 * in one snapshot, and the record that it authorized the job at start. It counts an approval
 * only if the approval's audit-log entry exists, is intact (hash and chain link) and matches
 * the row (approver, decision, plan digest, expiry): a row written straight into the table is
 * not enough.
 */
import { RecoverError } from '../errors.js';
import type { Plan } from '../types.js';
import { isPolicyStamp, type ApprovalState, type ApprovalVote, type ApproverVia } from './approval-policy.js';
import { appendAudit, auditEntryHash, GENESIS_HASH, toAuditEntry, type AuditRow } from './audit.js';
import { queryMaybeOne, queryRows, withTransaction, type Db } from './db.js';
import { toApproval, type ApprovalRecord, type ApprovalRow } from './model.js';

interface StateRow {
  job_id: string;
  request_id: string;
  team_id: string;
  requester_id: string;
  request_status: string;
  approval_requested_at: Date | null;
  job_plan_digest: string;
  job_cancel_requested: boolean;
  authorized_at: Date | null;
  plan: Plan | null;
  digest: string | null;
  approvals: Array<Omit<ApprovalRow, 'created_at' | 'expires_at' | 'voided_at'> & {
    created_at: string;
    expires_at: string;
    voided_at: string | null;
  }>;
  now: Date;
}

/** An approval's audit entry with the hash of the entry before it in the chain. */
interface VoteAuditRow extends AuditRow {
  previous_hash: string | null;
}

// One statement, so job, plan, approvals and clock come from one snapshot.
const APPROVAL_STATE = `
  SELECT j.id AS job_id, r.id AS request_id, r.team_id, r.requester_id, r.status AS request_status,
         r.approval_requested_at, j.plan_digest AS job_plan_digest, j.cancel_requested AS job_cancel_requested,
         j.authorized_at, p.plan, p.digest, now() AS now,
         (SELECT coalesce(json_agg(a ORDER BY a.created_at), '[]'::json)
            FROM approvals a WHERE a.request_id = r.id) AS approvals
    FROM jobs j
    JOIN requests r ON r.id = j.request_id
    LEFT JOIN LATERAL (SELECT plan, digest FROM plans WHERE request_id = r.id ORDER BY id DESC LIMIT 1) p ON true
   WHERE j.id = $1`;

const VOTE_AUDIT = `
  SELECT e.seq, e.at, e.actor, e.action, e.subject, e.details, e.prev_hash, e.hash,
         (SELECT p.hash FROM audit_log p WHERE p.seq < e.seq ORDER BY p.seq DESC LIMIT 1) AS previous_hash
    FROM audit_log e
   WHERE e.subject = $1 AND e.action IN ('approval.approve', 'approval.reject')`;

/**
 * Whether an entry is intact: its hash matches its content and it links to the entry before
 * it (or is the first). A rewritten or inserted-out-of-chain entry fails one of the two.
 */
function intact(row: VoteAuditRow): boolean {
  return auditEntryHash(toAuditEntry(row)) === row.hash && row.prev_hash === (row.previous_hash ?? GENESIS_HASH);
}

/** recordApproval audits each vote it writes with its digest and expiry: the row must match one (the newest that does). */
function auditEntryOf(entries: readonly VoteAuditRow[], vote: ApprovalRecord): VoteAuditRow | undefined {
  return [...entries].reverse().find((e) => {
    if (e.actor !== vote.approverId || e.action !== `approval.${vote.decision}`) return false;
    if (e.details.planDigest !== vote.planDigest || typeof e.details.expiresAt !== 'string') return false;
    // Both sides went through a JS Date (millisecond precision, truncated by two parsers).
    return Math.abs(new Date(e.details.expiresAt).getTime() - vote.expiresAt.getTime()) <= 1;
  });
}

/** How the bot judged the voter and under which settings, as its audit entry says (ignored unless well-formed). */
function judgedBy(entry: VoteAuditRow | undefined): Pick<ApprovalVote, 'via' | 'policy'> {
  if (!entry) return {};
  const via = entry.details.via as ApproverVia | undefined;
  const validVia = via?.kind === 'user' || (via?.kind === 'usergroup' && typeof via.usergroup === 'string');
  return { ...(validVia ? { via } : {}), ...(isPolicyStamp(entry.details.policy) ? { policy: entry.details.policy } : {}) };
}

/** Everything `assertApprovedForRun` needs, read by the runner itself. */
export async function loadApprovalState(db: Db, jobId: string): Promise<ApprovalState> {
  const row = await queryMaybeOne<StateRow>(db, APPROVAL_STATE, [jobId]);
  if (!row) throw new RecoverError('BAD_INPUT', `There is no job ${jobId}.`);
  const audit = (await queryRows<VoteAuditRow>(db, VOTE_AUDIT, [`request:${row.request_id}`])).filter(intact);
  return {
    jobId: row.job_id,
    requestId: row.request_id,
    teamId: row.team_id,
    requesterId: row.requester_id,
    requestStatus: row.request_status,
    approvalRequestedAt: row.approval_requested_at,
    jobPlanDigest: row.job_plan_digest,
    jobCancelRequested: row.job_cancel_requested,
    authorizedAt: row.authorized_at,
    currentPlan: row.plan && row.digest ? { plan: row.plan, digest: row.digest } : null,
    approvals: row.approvals.map((a) => {
      const vote = toApproval({
        ...a,
        created_at: new Date(a.created_at),
        expires_at: new Date(a.expires_at),
        voided_at: a.voided_at === null ? null : new Date(a.voided_at),
      });
      const entry = auditEntryOf(audit, vote);
      return { ...vote, audited: entry !== undefined, ...judgedBy(entry) };
    }),
    now: row.now,
  };
}

/**
 * Records that the job is authorized as of `at` (the time `assertApprovedForRun` judged the
 * approvals at job start), with the approvers that counted, in the audit log. Only the runner
 * holding the job can do it, once.
 */
export async function recordJobAuthorized(
  db: Db,
  input: { jobId: string; runnerId: string; at: Date; approvedBy: readonly string[]; planDigest: string },
): Promise<void> {
  await withTransaction(db, async (tx) => {
    const row = await queryMaybeOne<{ id: string }>(
      tx,
      `UPDATE jobs SET authorized_at = $3
        WHERE id = $1 AND runner_id = $2 AND status = 'running' AND authorized_at IS NULL RETURNING id`,
      [input.jobId, input.runnerId, input.at],
    );
    if (!row) {
      // This very authorization, recorded by an earlier try whose reply was lost (the runner
      // retries while the control DB restarts): done already, and its audit entry with it.
      const same = await queryMaybeOne<{ id: string }>(
        tx,
        `SELECT id FROM jobs WHERE id = $1 AND runner_id = $2 AND status = 'running' AND authorized_at = $3`,
        [input.jobId, input.runnerId, input.at],
      );
      if (same) return;
      throw new RecoverError('LEASE_LOST', `Runner ${input.runnerId} could not record job ${input.jobId} as authorized: it no longer holds it, or it was already authorized.`, {
        hint: 'Nothing ran. Check the job with `/recover status`; start a new request if recovery is still needed.',
      });
    }
    await appendAudit(tx, {
      actor: input.runnerId,
      action: 'job.authorized',
      subject: `job:${input.jobId}`,
      details: { planDigest: input.planDigest, approvedBy: [...input.approvedBy], at: input.at.toISOString() },
    });
  });
}
