/**
 * The audit log: append-only (enforced by triggers, see 0003_audit_log.sql) and hash-chained
 * so that tampering by someone who can bypass the triggers (a superuser) is still detected
 * by `verifyAudit`. Deleting the newest entries leaves a valid shorter chain; publishing the
 * tip hash elsewhere (e.g. in the job summary in Slack) is what catches that.
 */
import { canonicalJson, sha256Hex } from './digest.js';
import { LOCK_NAMESPACE, queryOne, queryRows, safeInteger, withTransaction, type Db } from './db.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditInput {
  actor: string;
  action: string;
  subject: string;
  details?: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type AuditVerification = { ok: true; rows: number } | { ok: false; brokenAtSeq: number; reason: string };

/** The hash stored with an entry; `at` is hashed at millisecond precision, as stored. */
export function auditEntryHash(entry: Omit<AuditEntry, 'hash'>): string {
  return sha256Hex(
    canonicalJson({
      seq: String(entry.seq),
      at: entry.at.toISOString(),
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      details: entry.details,
      prev_hash: entry.prevHash,
    }),
  );
}

export interface AuditRow {
  seq: string;
  at: Date;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    seq: safeInteger(row.seq, 'audit seq'),
    at: row.at,
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * Appends one entry. The transaction-scoped lock is held until the caller's commit, so a
 * concurrent appender reads the tip only after this entry is visible and the chain never
 * forks. Pass a Tx to make the entry part of the change it records.
 */
export async function appendAudit(db: Db, input: AuditInput): Promise<AuditEntry> {
  return withTransaction(db, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_NAMESPACE.auditChain]);
    const tip = await queryRows<{ hash: string }>(tx, 'SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    const next = await queryOne<{ seq: string; at: Date }>(
      tx,
      `SELECT nextval(pg_get_serial_sequence('audit_log', 'seq')) AS seq,
              date_trunc('milliseconds', clock_timestamp()) AS at`,
    );
    // Hash what jsonb will give back (bigints and Dates already strings), not the caller's objects.
    const details = JSON.parse(canonicalJson(input.details ?? {})) as Record<string, unknown>;
    const unhashed = {
      seq: safeInteger(next.seq, 'audit seq'),
      at: next.at,
      actor: input.actor,
      action: input.action,
      subject: input.subject,
      details,
      prevHash: tip[0]?.hash ?? GENESIS_HASH,
    };
    const entry = { ...unhashed, hash: auditEntryHash(unhashed) };
    await tx.query(
      `INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`,
      [next.seq, entry.at, entry.actor, entry.action, entry.subject, canonicalJson(details), entry.prevHash, entry.hash],
    );
    return entry;
  });
}

/** Checks every link and every hash from the first entry on, in pages of `pageSize`. */
export async function verifyAudit(db: Db, options: { pageSize?: number } = {}): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? 1000;
  let expectedPrev = GENESIS_HASH;
  let afterSeq = 0;
  let rows = 0;
  for (;;) {
    const page = await queryRows<AuditRow>(
      db,
      `SELECT seq, at, actor, action, subject, details, prev_hash, hash
         FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [afterSeq, pageSize],
    );
    for (const row of page) {
      const entry = toAuditEntry(row);
      if (entry.prevHash !== expectedPrev) {
        const reason = 'prev_hash does not match the previous entry (an entry was removed or reordered)';
        return { ok: false, brokenAtSeq: entry.seq, reason };
      }
      if (auditEntryHash(entry) !== entry.hash) {
        const reason = 'hash does not match the entry content (the entry was modified)';
        return { ok: false, brokenAtSeq: entry.seq, reason };
      }
      expectedPrev = entry.hash;
      afterSeq = entry.seq;
      rows += 1;
    }
    if (page.length < pageSize) return { ok: true, rows };
  }
}

export async function listAudit(db: Db, options: { subject?: string; limit?: number } = {}): Promise<AuditEntry[]> {
  const rows = await queryRows<AuditRow>(
    db,
    `SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log
      WHERE $1::text IS NULL OR subject = $1 ORDER BY seq DESC LIMIT $2`,
    [options.subject ?? null, options.limit ?? 100],
  );
  return rows.map(toAuditEntry);
}
