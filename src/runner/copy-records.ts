/**
 * The runner's record of database copies (engine/database/copy-records.ts) over the control DB:
 * a copy job writes its row (only the runner holding the job can, with an audit entry);
 * planning and the swap job read the pool's rows, counting only those whose audit entry matches.
 * Planning has no job, so it can read but never record.
 */
import type pg from 'pg';
import { findDatabaseCopies, recordDatabaseCopy, type DatabaseCopyRow } from '../control/index.js';
import type { CopyRecord, CopyRecords } from '../engine/database/copy-records.js';
import { RecoverError } from '../errors.js';
import type { Logger } from '../types.js';

function toRecord(row: DatabaseCopyRow): CopyRecord {
  return {
    copyId: row.jobId,
    madeBy: `job ${row.jobId} (runner ${row.recordedBy})`,
    production: row.production,
    database: row.database,
    restoredName: row.restoredName,
    restoredOid: row.restoredOid,
    targetText: row.targetText,
    verified: row.verified,
    failedChecks: row.failedChecks,
    recordedAt: row.recordedAt.toISOString(),
  };
}

/** Reads the records of a pool: what the runner's planning uses, and the CLI when RECOVER_CONTROL_URL is set. */
export async function controlCopyRecordsOf(control: pg.Pool, pool: string, query: { database: string; restoredName: string }, log: Logger): Promise<CopyRecord[]> {
  const rows = await findDatabaseCopies(control, { pool, ...query });
  const unaudited = rows.filter((row) => !row.audited);
  if (unaudited.length > 0) log.warn({ jobs: unaudited.map((row) => row.jobId), restoredName: query.restoredName }, 'ignoring database copy records without a matching audit entry');
  return rows.filter((row) => row.audited).map(toRecord);
}

/**
 * `retry`: the runner's retry of control-DB writes (a copy made while the control DB restarts is
 * still recorded once it is back, within the lease; the write is idempotent).
 */
export function controlCopyRecords(control: pg.Pool, options: { pool: string; log: Logger; job?: { id: string; runnerId: string }; retry?: <T>(what: string, work: () => Promise<T>) => Promise<T> }): CopyRecords {
  const { pool, log, job } = options;
  const retry = options.retry ?? (<T>(_what: string, work: () => Promise<T>) => work());
  return {
    where: `the control DB (runner pool ${pool})`,
    ready: async () => undefined,
    async record(copy) {
      if (!job) throw new RecoverError('INTERNAL', 'Planning cannot record a database copy: only the copy job does.');
      return toRecord(await retry(`record the database copy ${copy.restoredName} of job ${job.id}`, () => recordDatabaseCopy(control, { ...copy, jobId: job.id, runnerId: job.runnerId })));
    },
    find: (query) => controlCopyRecordsOf(control, pool, query, log),
  };
}
