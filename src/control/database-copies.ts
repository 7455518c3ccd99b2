/**
 * The database copies runner jobs made and how their verification went (table
 * `database_copies`, migration 0009): what `/recover database <db> --swap <copy>` requires
 * instead of trusting a comment on production. Only the runner holding a running job can
 * write its row, in one transaction with its audit entry; a reader counts a row only when
 * that entry exists, is intact (hash and chain link) and says the same, as approvals are
 * counted (approval-state.ts). A row written straight into the table is ignored.
 */
import { RecoverError } from '../errors.js';
import { appendAudit, auditEntryHash, GENESIS_HASH, toAuditEntry, type AuditRow } from './audit.js';
import { canonicalJson } from './digest.js';
import { queryMaybeOne, queryRows, withTransaction, type Db } from './db.js';

export const COPY_RECORDED_ACTION = 'database.copy.recorded';

export interface DatabaseCopyInput {
  jobId: string;
  runnerId: string;
  production: string;
  database: string;
  restoredName: string;
  restoredOid: string;
  targetText: string;
  verified: boolean;
  failedChecks: string[];
}

export interface DatabaseCopyRow extends Omit<DatabaseCopyInput, 'runnerId'> {
  pool: string;
  recordedBy: string;
  recordedAt: Date;
  /** A matching, intact audit entry exists: only then does the row count. */
  audited: boolean;
}

interface Row {
  job_id: string;
  pool: string;
  production: string;
  database: string;
  restored_name: string;
  restored_oid: string;
  target_text: string;
  verified: boolean;
  failed_checks: string[];
  recorded_by: string;
  recorded_at: Date;
}

const COLUMNS = `job_id, pool, production, database, restored_name, restored_oid::text AS restored_oid, target_text, verified, failed_checks, recorded_by, recorded_at`;

/** What the audit entry of a row says, and what it must still say when the row is read. */
function auditDetails(row: Omit<DatabaseCopyInput, 'jobId' | 'runnerId'>): Record<string, unknown> {
  return { production: row.production, database: row.database, restoredName: row.restoredName, restoredOid: row.restoredOid, targetText: row.targetText, verified: row.verified, failedChecks: [...row.failedChecks] };
}

function toCopy(row: Row, audited: boolean): DatabaseCopyRow {
  return {
    jobId: row.job_id,
    pool: row.pool,
    production: row.production,
    database: row.database,
    restoredName: row.restored_name,
    restoredOid: row.restored_oid,
    targetText: row.target_text,
    verified: row.verified,
    failedChecks: row.failed_checks,
    recordedBy: row.recorded_by,
    recordedAt: row.recorded_at,
    audited,
  };
}

/** Records the copy a running job made; only the runner holding the job can, once per job. */
export async function recordDatabaseCopy(db: Db, input: DatabaseCopyInput): Promise<DatabaseCopyRow> {
  return withTransaction(db, async (tx) => {
    const row = await queryMaybeOne<Row>(
      tx,
      `INSERT INTO database_copies (job_id, pool, production, database, restored_name, restored_oid, target_text, verified, failed_checks, recorded_by)
       SELECT id, pool, $3, $4, $5, $6::bigint, $7, $8, $9::jsonb, $2 FROM jobs WHERE id = $1 AND runner_id = $2 AND status = 'running'
       ON CONFLICT (job_id) DO NOTHING
       RETURNING ${COLUMNS}`,
      [input.jobId, input.runnerId, input.production, input.database, input.restoredName, input.restoredOid, input.targetText, input.verified, JSON.stringify(input.failedChecks)],
    );
    if (!row) {
      // Tried again after a reply that was lost: the same job's same copy is already recorded (and audited, in that commit).
      const same = await queryMaybeOne<Row>(
        tx,
        `SELECT ${COLUMNS} FROM database_copies WHERE job_id = $1 AND recorded_by = $2 AND restored_name = $3 AND restored_oid = $4::bigint`,
        [input.jobId, input.runnerId, input.restoredName, input.restoredOid],
      );
      if (same) return toCopy(same, true);
      throw new RecoverError('LEASE_LOST', `Runner ${input.runnerId} could not record the copy ${input.restoredName} of job ${input.jobId}: it no longer holds the job, or the job already recorded a copy.`, {
        hint: `${input.restoredName} is left on production but cannot be swapped in without the record; drop it and make a new copy.`,
      });
    }
    await appendAudit(tx, { actor: input.runnerId, action: COPY_RECORDED_ACTION, subject: `job:${input.jobId}`, details: auditDetails(input) });
    return toCopy(row, true);
  });
}

interface EntryRow extends AuditRow {
  previous_hash: string | null;
}

/** Every row of a copy of `database` named `restoredName` in the pool, newest first, each with whether its audit entry matches. */
export async function findDatabaseCopies(db: Db, query: { pool: string; database: string; restoredName: string }): Promise<DatabaseCopyRow[]> {
  const rows = await queryRows<Row>(
    db,
    `SELECT ${COLUMNS} FROM database_copies WHERE pool = $1 AND database = $2 AND restored_name = $3 ORDER BY id DESC`,
    [query.pool, query.database, query.restoredName],
  );
  if (rows.length === 0) return [];
  const entries = await queryRows<EntryRow>(
    db,
    `SELECT e.seq, e.at, e.actor, e.action, e.subject, e.details, e.prev_hash, e.hash,
            (SELECT p.hash FROM audit_log p WHERE p.seq < e.seq ORDER BY p.seq DESC LIMIT 1) AS previous_hash
       FROM audit_log e WHERE e.action = $1 AND e.subject = ANY($2::text[])`,
    [COPY_RECORDED_ACTION, rows.map((row) => `job:${row.job_id}`)],
  );
  const intact = entries.filter((entry) => auditEntryHash(toAuditEntry(entry)) === entry.hash && entry.prev_hash === (entry.previous_hash ?? GENESIS_HASH));
  return rows.map((row) => {
    const copy = toCopy(row, false);
    const expected = canonicalJson(auditDetails(copy));
    const audited = intact.some((entry) => entry.subject === `job:${row.job_id}` && entry.actor === row.recorded_by && canonicalJson(entry.details) === expected);
    return { ...copy, audited };
  });
}
