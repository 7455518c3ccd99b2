/**
 * Reading jobs, cancelling them, and keeping their Slack message references. The claim and
 * lease side of jobs is in queue.ts.
 */
import { RecoverError } from '../errors.js';
import { appendAudit } from './audit.js';
import { queryMaybeOne, queryOne, queryRows, withTransaction, type Db } from './db.js';
import { canonicalJson } from './digest.js';
import { appendEvent } from './events.js';
import { toJob, type JobRecord, type JobRow, type SlackRefs } from './model.js';
import { setRequestStatus } from './requests.js';

export async function getJob(db: Db, jobId: string): Promise<JobRecord | null> {
  const row = await queryMaybeOne<JobRow>(db, 'SELECT * FROM jobs WHERE id = $1', [jobId]);
  return row ? toJob(row) : null;
}

export async function activeJobOf(db: Db, requestId: string): Promise<JobRecord | null> {
  const row = await queryMaybeOne<JobRow>(
    db,
    `SELECT * FROM jobs WHERE request_id = $1 AND status IN ('queued', 'running')`,
    [requestId],
  );
  return row ? toJob(row) : null;
}

/** Active jobs (all of them) followed by the `recentLimit` most recently created finished ones. */
export function listJobsSql(filter: { byPool: boolean }): string {
  const poolClause = filter.byPool ? 'AND pool = $2' : '';
  return `
    (SELECT * FROM jobs WHERE status IN ('queued', 'running') ${poolClause})
    UNION ALL
    (SELECT * FROM jobs WHERE status NOT IN ('queued', 'running') ${poolClause}
      ORDER BY created_at DESC LIMIT $1)
    ORDER BY created_at DESC`;
}

export async function listJobs(db: Db, options: { recentLimit?: number; pool?: string } = {}): Promise<JobRecord[]> {
  const values: unknown[] = [options.recentLimit ?? 20];
  if (options.pool !== undefined) values.push(options.pool);
  const rows = await queryRows<JobRow>(db, listJobsSql({ byPool: options.pool !== undefined }), values);
  return rows.map(toJob);
}

/** Merges into the stored references, so the status ts and the thread ts can be set separately. */
export async function setJobSlackRefs(db: Db, jobId: string, refs: SlackRefs): Promise<JobRecord> {
  const row = await queryMaybeOne<JobRow>(
    db,
    'UPDATE jobs SET slack_refs = slack_refs || $2::jsonb WHERE id = $1 RETURNING *',
    [jobId, canonicalJson(refs)],
  );
  if (!row) throw new RecoverError('BAD_INPUT', `There is no job ${jobId}.`);
  return toJob(row);
}

/**
 * How long the runner of a running job has not renewed its lease, and the lease it took, both
 * by the control DB's clock (the one the reaper goes by); null unless the job is running.
 */
export async function heartbeatSilence(db: Db, jobId: string): Promise<{ silentSeconds: number; leaseSeconds: number } | null> {
  const row = await queryMaybeOne<{ silent: number; lease: number }>(
    db,
    `SELECT extract(epoch FROM now() - heartbeat_at)::float8 AS silent, extract(epoch FROM lease_expires_at - heartbeat_at)::float8 AS lease
       FROM jobs WHERE id = $1 AND status = 'running' AND heartbeat_at IS NOT NULL`,
    [jobId],
  );
  return row ? { silentSeconds: row.silent, leaseSeconds: row.lease } : null;
}

/** heartbeatSilence of the running job of `runnerId` renewed longest ago (a runner's /readyz); null when it runs none. */
export async function runnerHeartbeatSilence(db: Db, runnerId: string): Promise<{ silentSeconds: number; leaseSeconds: number } | null> {
  const row = await queryMaybeOne<{ silent: number; lease: number }>(
    db,
    `SELECT extract(epoch FROM now() - heartbeat_at)::float8 AS silent, extract(epoch FROM lease_expires_at - heartbeat_at)::float8 AS lease
       FROM jobs WHERE runner_id = $1 AND status = 'running' AND heartbeat_at IS NOT NULL ORDER BY heartbeat_at LIMIT 1`,
    [runnerId],
  );
  return row ? { silentSeconds: row.silent, leaseSeconds: row.lease } : null;
}

export async function isCancelRequested(db: Db, jobId: string): Promise<boolean> {
  const row = await queryMaybeOne<{ cancel_requested: boolean }>(
    db,
    'SELECT cancel_requested FROM jobs WHERE id = $1',
    [jobId],
  );
  if (!row) throw new RecoverError('BAD_INPUT', `There is no job ${jobId}.`);
  return row.cancel_requested;
}

export type CancelEffect = 'cancelled' | 'requested' | 'already-requested' | 'already-finished';

/**
 * A queued job is cancelled at once (no runner holds it); a running one gets a flag that its
 * runner sees on its next heartbeat or isCancelRequested, and stops at a safe point.
 * `about`: more for the audit entry (the CLI: its OS user and host).
 */
export async function requestCancel(db: Db, jobId: string, by: string, about: Record<string, unknown> = {}): Promise<{ job: JobRecord; effect: CancelEffect }> {
  return withTransaction(db, async (tx) => {
    const current = await queryMaybeOne<JobRow>(tx, 'SELECT * FROM jobs WHERE id = $1 FOR UPDATE', [jobId]);
    if (!current) throw new RecoverError('BAD_INPUT', `There is no job ${jobId}.`);
    if (current.status === 'running' && current.cancel_requested) {
      return { job: toJob(current), effect: 'already-requested' };
    }
    if (current.status !== 'running' && current.status !== 'queued') {
      return { job: toJob(current), effect: 'already-finished' };
    }
    const row = await queryOne<JobRow>(
      tx,
      `UPDATE jobs SET cancel_requested = true, cancel_requested_by = $2, cancel_requested_at = now(),
              status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
              finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END
        WHERE id = $1 RETURNING *`,
      [jobId, by],
    );
    const job = toJob(row);
    const effect: CancelEffect = job.status === 'cancelled' ? 'cancelled' : 'requested';
    if (effect === 'cancelled') {
      await setRequestStatus(tx, job.requestId, 'cancelled');
      await appendEvent(tx, jobId, { type: 'job.cancelled', at: (job.finishedAt ?? new Date()).toISOString() });
    }
    await appendAudit(tx, { actor: by, action: 'job.cancel', subject: `job:${jobId}`, details: { ...about, effect } });
    return { job, effect };
  });
}
