/**
 * The proof a swap requires: a record, kept by recover-bot itself, that it made a database copy
 * and verified it. A comment on the database (the marker the copy job also writes, for people
 * looking at `\l+`) is not proof: anyone with COMMENT rights on production can write one on a
 * database they created. A record binds the copy's name to its database oid, read right after
 * CREATE DATABASE and again after verification; a database dropped and created again under that
 * name has another oid and is refused.
 *
 * Where records are kept is the process's business, handed to commands in their context
 * (`CommandContext.copies`): the runner keeps them in the control DB (written by the copy job,
 * with an audit entry), the CLI in files under RECOVER_STATE_DIR on its own disk (and reads the
 * control DB's too when RECOVER_CONTROL_URL is set). Never on production.
 */
import { z } from 'zod';

export interface CopyRecord {
  /** The copy's identity: the copy job's id (runner) or a random id (CLI). Swap plans carry it (bound into the digest). */
  copyId: string;
  /** For people: `job <id> (runner <id>)`, `recover CLI on <host>`. */
  madeBy: string;
  /** The production cluster as people name it (RECOVER_PRODUCTION_NAME) when the copy was made. */
  production: string;
  database: string;
  restoredName: string;
  /** pg_database.oid of the copy when it was created and verified. */
  restoredOid: string;
  targetText: string;
  verified: boolean;
  /** Names of the checks that failed (empty when verified). */
  failedChecks: string[];
  /** ISO time. */
  recordedAt: string;
}

export type NewCopyRecord = Omit<CopyRecord, 'copyId' | 'madeBy' | 'recordedAt'>;

export interface CopyRecords {
  /** Where the records are kept, for messages: `the control DB (pool default)`, `/var/lib/recover-bot/state`. */
  readonly where: string;
  /** Fails early (before a copy is made) when records could not be written. */
  ready(): Promise<void>;
  /** Records a finished copy, verified or not. */
  record(copy: NewCopyRecord): Promise<CopyRecord>;
  /** Every record of a copy of `database` named `restoredName`, newest first. */
  find(query: { database: string; restoredName: string }): Promise<CopyRecord[]>;
}

/** A record as stored (file) or read back: checked, never trusted as typed. */
export const copyRecordSchema = z.object({
  copyId: z.string().regex(/^[\w:.-]{1,80}$/),
  madeBy: z.string().max(200),
  production: z.string().max(63),
  database: z.string().max(63),
  restoredName: z.string().max(63),
  restoredOid: z.string().regex(/^\d{1,10}$/),
  targetText: z.string().max(500),
  verified: z.boolean(),
  failedChecks: z.array(z.string().max(200)).max(100),
  recordedAt: z.string().max(40),
});

export type RecordCheck = { ok: true; record: CopyRecord } | { ok: false; reason: string };

/**
 * Pure: whether the database named `restoredName` (oid `restoredOid` now) is a copy recover-bot
 * recorded as made and verified, and if not, why. Used when the swap is planned and again by
 * the job, which also requires the record to be the one the plan was approved with.
 */
export function recordedCopyCheck(records: readonly CopyRecord[], now: { restoredOid: string }, names: { database: string; restoredName: string }, where: string): RecordCheck {
  const ours = records.filter((record) => record.database === names.database && record.restoredName === names.restoredName);
  if (ours.length === 0) {
    return { ok: false, reason: `${names.restoredName} is not a copy recover-bot made and verified: there is no record of it in ${where} (a comment on the database is not proof); nothing is swapped.` };
  }
  const same = ours.filter((record) => record.restoredOid === now.restoredOid);
  const verified = same.find((record) => record.verified);
  if (verified) return { ok: true, record: verified };
  if (same.length > 0) {
    const failed = same[0]!;
    return { ok: false, reason: `${names.restoredName} was made by ${failed.madeBy} at ${failed.recordedAt} but FAILED verification (${failed.failedChecks.join(', ') || 'checks failed'}); an unverified copy is never swapped in.` };
  }
  const newest = ours[0]!;
  return {
    ok: false,
    reason: `${names.restoredName} is not the database recover-bot made under that name: the record (${newest.madeBy}, ${newest.recordedAt}) is of database oid ${newest.restoredOid}, the database now has oid ${now.restoredOid} (it was dropped and created again since); nothing is swapped.`,
  };
}

/** What to do instead, for every refusal above. */
export function recordedCopyHint(database: string): string {
  return `Make a verified copy first: /recover database ${database} --at <time with offset>; it records the copy, then swap in the name it reports.`;
}
