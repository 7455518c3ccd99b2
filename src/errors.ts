/**
 * The one error type. `message` is written for the incident channel and says what to do;
 * `cause` keeps the underlying error for the logs only (it may contain details, never secrets).
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'BAD_INPUT'
  | 'TARGET_NO_ZONE'
  | 'TARGET_OUTSIDE_WINDOW'
  | 'TARGET_CONFLICT'
  | 'WAL_GAP'
  | 'NO_BASE_BACKUP'
  /** The TCP port asked for is already taken on this host. */
  | 'PORT_IN_USE'
  | 'STORAGE_UNREACHABLE'
  | 'STORAGE_ERROR'
  /** An archived WAL or history file fails to unpack or does not match its recorded checksum. */
  | 'WAL_CORRUPT'
  | 'WAL_CONFLICT'
  | 'BACKUP_FAILED'
  | 'BACKUP_CORRUPT'
  | 'RESTORE_FAILED'
  /** A side instance of that name already exists; it is never reused or touched. */
  | 'INSTANCE_EXISTS'
  /** The instance named is not a side instance this tool created (a symlink, no marker, a server of another data directory…): nothing is stopped, removed or read. */
  | 'INSTANCE_INVALID'
  /** The relation or database named is not one recover-bot may act on (a system catalog, an extension's table, a view, template1…): refused before anything runs. */
  | 'TARGET_NOT_ALLOWED'
  /** The database to swap in is not a copy this tool made and verified (no record of it, a record of another database under that name, or failed verification). */
  | 'COPY_UNVERIFIED'
  | 'RECOVERY_FAILED'
  | 'VERIFY_FAILED'
  | 'COMMAND_FAILED'
  | 'NOT_PERMITTED'
  | 'APPROVAL_INVALID'
  | 'CANCELLED'
  | 'LEASE_LOST'
  | 'MIGRATION_INVALID'
  /** The Slack Web API refused or failed a call the bot needed (the bot's own problem, not the recovery's). */
  | 'SLACK_API_ERROR'
  /** The database named (--db, or a database to verify) does not exist there; the message names the ones that do. */
  | 'DATABASE_NOT_FOUND'
  /** Rows (or a table mode that matches rows) need a primary key the table lacks; `table --mode as-new` needs none. */
  | 'NO_PRIMARY_KEY'
  /** A `table --mode` cannot be met as the tables are: replace would orphan rows of other tables, or the table was dropped. */
  | 'MODE_REFUSED'
  /** A refusal only decidable once a side instance was restored (the side copy lacks the database or a key…): the instance is kept; exit 1, since something ran. */
  | 'REFUSED_AFTER_RESTORE'
  /** The job named already ended (succeeded, failed or cancelled): there is nothing to cancel. */
  | 'JOB_ENDED'
  /** `recover instances remove` of a side instance whose server runs, without --stop: nothing stopped or removed. */
  | 'INSTANCE_RUNNING'
  /** `recover disk --fix` found nothing it may free (WAL unarchived or still needed, storage down): nothing was changed; grow the volume or move pg_wal. */
  | 'DISK_FULL_NOTHING_SAFE'
  /** A restore that cannot fit where it would write (engine/space.ts). */
  | 'NO_SPACE'
  /** /recover dump: no complete logical dump of that database (or at that stamp) in storage. */
  | 'NO_DUMP'
  /** Roles a dump names (owners, grantees) are missing where it would be restored: refused at planning, listing them, unless owners and grants are left out (--no-owner). */
  | 'ROLES_MISSING'
  /** /recover failover cannot promote safely as things are (replay too far behind past the deadline, an old primary that answers and cannot be fenced, an unreachable one not acknowledged): nothing was promoted. */
  | 'FAILOVER_REFUSED'
  /** Azure Resource Manager refused the credential (RECOVER_AZURE_CREDENTIAL could not get a token, or 401/403): nothing was changed in Azure. */
  | 'AZURE_AUTH'
  /** Azure answered 409: the server exists already, or another operation runs on it. */
  | 'AZURE_CONFLICT'
  /** Azure kept answering 429 (throttled) after the SDK's retries, which honour Retry-After. */
  | 'AZURE_THROTTLED'
  /** A subscription or regional quota stops the operation (vCores, servers per subscription). */
  | 'AZURE_QUOTA'
  /** The region cannot take the server now (offer restricted, capacity, an outage). */
  | 'AZURE_REGION_UNAVAILABLE'
  /** An Azure long-running operation ended Failed or Canceled (its error body is in the message). */
  | 'AZURE_OPERATION_FAILED'
  /** /recover georestore cannot run as things are (no geo-redundant backup, the name is taken, the time is outside the window): nothing was created. */
  | 'GEO_RESTORE_REFUSED'
  | 'INTERNAL';

export class RecoverError extends Error {
  readonly code: ErrorCode;
  /** What the operator should do next; shown after the message. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RecoverError';
    this.code = code;
    this.hint = options.hint;
  }

  /** Text for Slack or the terminal: message plus the fix. */
  forChannel(): string {
    return this.hint ? `${this.message}\n${this.hint}` : this.message;
  }
}

/**
 * The CLI's exit status for a failure, decided here and nowhere else:
 * 2 = bad input (the words or settings are wrong; nothing ran), 3 = refused (the words are
 * fine but the plan cannot be met: the target is outside the window, WAL is missing, the
 * name or port is taken; nothing ran), 1 = anything that failed while running (including a
 * failed verification). Success is 0. `wal-fetch`/`wal-push` keep PostgreSQL's own contract.
 */
export const EXIT = { ok: 0, failed: 1, badInput: 2, refused: 3 } as const;

const EXIT_BY_CODE: Partial<Record<ErrorCode, number>> = {
  BAD_INPUT: EXIT.badInput,
  TARGET_NO_ZONE: EXIT.badInput,
  TARGET_CONFLICT: EXIT.badInput,
  CONFIG_INVALID: EXIT.badInput,
  TARGET_OUTSIDE_WINDOW: EXIT.refused,
  WAL_GAP: EXIT.refused,
  NO_BASE_BACKUP: EXIT.refused,
  INSTANCE_EXISTS: EXIT.refused,
  INSTANCE_INVALID: EXIT.refused,
  TARGET_NOT_ALLOWED: EXIT.refused,
  COPY_UNVERIFIED: EXIT.refused,
  PORT_IN_USE: EXIT.refused,
  DATABASE_NOT_FOUND: EXIT.refused,
  NO_PRIMARY_KEY: EXIT.refused,
  MODE_REFUSED: EXIT.refused,
  JOB_ENDED: EXIT.refused,
  INSTANCE_RUNNING: EXIT.refused,
  DISK_FULL_NOTHING_SAFE: EXIT.refused,
  NO_SPACE: EXIT.refused,
  NO_DUMP: EXIT.refused,
  ROLES_MISSING: EXIT.refused,
  FAILOVER_REFUSED: EXIT.refused,
  GEO_RESTORE_REFUSED: EXIT.refused,
  AZURE_CONFLICT: EXIT.refused,
};

export function exitCodeFor(code: ErrorCode): number {
  return EXIT_BY_CODE[code] ?? EXIT.failed;
}

export function isRecoverError(error: unknown): error is RecoverError {
  return error instanceof RecoverError;
}

/** Wraps anything thrown into a RecoverError so every failure can reach the channel. */
export function toRecoverError(error: unknown, fallbackCode: ErrorCode = 'INTERNAL'): RecoverError {
  if (error instanceof RecoverError) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new RecoverError('CANCELLED', 'The job was cancelled.', { cause: error });
  }
  const text = error instanceof Error ? error.message : String(error);
  return new RecoverError(fallbackCode, `Unexpected failure: ${text}`, {
    hint: 'See the runner log for details; nothing further was changed after this point.',
    cause: error,
  });
}
