/**
 * Job queue: runners claim approved jobs of their pool with `SELECT … FOR UPDATE SKIP
 * LOCKED` and hold them with a lease they renew by heartbeat.
 *
 * Why not graphile-worker (0.16.6, the version that runs on Node 20; not a dependency), when
 * the design (ARCHITECTURE.md, "The control DB and the queue") prefers a proven job-queue
 * library unless there is a written reason:
 * - Its crash detection is a fixed 4-hour lock timeout (`locked_at < now() - interval
 *   '4 hours'` in get_job and resetLockedAt), with no heartbeat to renew or shorten it. Our
 *   RTO is 2 hours: a dead runner would be noticed after the recovery should have finished.
 *   Here a lease is tens of seconds, renewed by heartbeat.
 * - When that lock expires it makes the job available again and runs it a second time. For a
 *   plan that may have stopped production half-way, the right answer to "the runner
 *   vanished" is to stop and tell people (RUNNER_LOST), not to start over unattended.
 * - It runs task functions inside its own worker loop; claiming a single job and handing it
 *   back to our runner is internal API (getJob is not exported). It would also be a second
 *   job table (graphile_worker._private_jobs) to keep consistent with `jobs`, which holds
 *   the plan digest, cancel flag and Slack references, plus a second migration system.
 * What we give up is its retry/backoff and cron, neither of which a recovery job wants.
 *
 * Decision on lost runners: a job whose lease expired is always marked failed with
 * RUNNER_LOST and never re-queued, even if no step had started; a person looks at the host
 * and decides what to do next (a new request). This also keeps a job that crashes its runner
 * from crashing every runner in turn. Every runner reaps on each pass and so does the bot
 * (job-watcher), so a lost job is reported even when no runner of its pool is alive.
 *
 * All lease times use the database clock, so runners with skewed clocks agree.
 */
import { RecoverError } from '../errors.js';
import type { EngineEvent } from '../types.js';
import { appendAudit } from './audit.js';
import { queryMaybeOne, queryRows, withTransaction, type Db, type Tx } from './db.js';
import { canonicalJson } from './digest.js';
import { appendEvent } from './events.js';
import { activeJobOf, getJob } from './jobs.js';
import { toJob, type JobRecord, type JobRow } from './model.js';
import { getCurrentPlan, lockRequest, setRequestStatus } from './requests.js';
import { inPlaceLost } from './runner-lost.js';

function assertLeaseSeconds(leaseSeconds: number): void {
  if (!Number.isFinite(leaseSeconds) || leaseSeconds <= 0) {
    throw new RecoverError('BAD_INPUT', `A lease must be a positive number of seconds, not ${leaseSeconds}.`);
  }
}

function leaseLost(jobId: string, runnerId: string): RecoverError {
  return new RecoverError('LEASE_LOST', `Runner ${runnerId} no longer holds job ${jobId}; stop working on it.`, {
    hint: 'Its lease expired and it was marked failed (RUNNER_LOST), or it already finished; this runner does nothing more for it.',
  });
}

export interface EnqueueInput {
  requestId: string;
  planDigest: string;
  pool: string;
  /** An earlier failed or cancelled job of the same plan whose finished steps are skipped. */
  resumeOf?: string;
  actor?: string;
}

/** Idempotent while a job is active: a second enqueue returns the queued or running job. */
export async function enqueueJob(db: Db, input: EnqueueInput): Promise<{ job: JobRecord; created: boolean }> {
  return withTransaction(db, async (tx) => {
    const request = await lockRequest(tx, input.requestId);
    const active = await activeJobOf(tx, input.requestId);
    if (active) return { job: active, created: false };
    if (request.status === 'rejected' || request.status === 'succeeded') {
      throw new RecoverError('NOT_PERMITTED', `This request is ${request.status}; no new job will start.`, {
        hint: 'Start a new request if recovery is still needed.',
      });
    }
    if (request.approvalRequestedAt === null) {
      throw new RecoverError('NOT_PERMITTED', 'Approval was never requested for this request; no job was started.', {
        hint: 'The requester clicks *Request approval* on the plan preview; approvers then approve it.',
      });
    }
    const plan = await getCurrentPlan(tx, input.requestId);
    if (plan?.digest !== input.planDigest) {
      throw new RecoverError('APPROVAL_INVALID', 'The plan changed since it was approved; no job was started.', {
        hint: 'Review the current plan and approve it.',
      });
    }
    if (input.resumeOf !== undefined) await assertResumable(tx, input.resumeOf, input);
    const row = await queryMaybeOne<JobRow>(
      tx,
      'INSERT INTO jobs (request_id, plan_digest, pool, resume_of) VALUES ($1, $2, $3, $4) RETURNING *',
      [input.requestId, input.planDigest, input.pool, input.resumeOf ?? null],
    );
    if (!row) throw new RecoverError('INTERNAL', 'Inserting a job returned nothing.');
    await setRequestStatus(tx, input.requestId, 'queued');
    await appendAudit(tx, {
      actor: input.actor ?? 'recover-bot',
      action: 'job.enqueued',
      subject: `job:${row.id}`,
      details: { requestId: input.requestId, planDigest: input.planDigest, pool: input.pool, resumeOf: input.resumeOf ?? null },
    });
    return { job: toJob(row), created: true };
  });
}

async function assertResumable(tx: Tx, previousJobId: string, input: EnqueueInput): Promise<void> {
  const previous = await getJob(tx, previousJobId);
  const resumable =
    previous?.requestId === input.requestId &&
    previous.planDigest === input.planDigest &&
    (previous.status === 'failed' || previous.status === 'cancelled');
  if (!resumable) {
    throw new RecoverError('BAD_INPUT', `Job ${previousJobId} cannot be resumed by this job.`, {
      hint: 'Only a failed or cancelled job of the same request and plan can be resumed.',
    });
  }
}

// A plan bound to a database host (plan.runsOn, runner/routing.ts) is claimed only by the runner
// there: same host ($4) and same production data directory ($5).
const CLAIM_NEXT_JOB = `
  WITH next AS (
    SELECT id FROM jobs
     WHERE status = 'queued' AND pool = $2
       AND NOT EXISTS (SELECT 1 FROM plans p
                        WHERE p.request_id = jobs.request_id AND p.digest = jobs.plan_digest AND p.plan ? 'runsOn'
                          AND (p.plan->'runsOn'->>'host' IS DISTINCT FROM $4::text OR p.plan->'runsOn'->>'dataDir' IS DISTINCT FROM $5::text))
     ORDER BY created_at, id
     LIMIT 1
     FOR UPDATE SKIP LOCKED)
  UPDATE jobs SET status = 'running', runner_id = $1, started_at = now(), heartbeat_at = now(),
                  lease_expires_at = now() + make_interval(secs => $3)
    FROM next WHERE jobs.id = next.id
  RETURNING jobs.*`;

/** `reach`: the runner's host and production data directory; without it, no job bound to a host is claimed. */
export async function claimNextJob(
  db: Db,
  input: { runnerId: string; poolName: string; leaseSeconds: number; reach?: { host: string; dataDir: string | null } },
): Promise<JobRecord | null> {
  assertLeaseSeconds(input.leaseSeconds);
  return withTransaction(db, async (tx) => {
    const row = await queryMaybeOne<JobRow>(tx, CLAIM_NEXT_JOB, [input.runnerId, input.poolName, input.leaseSeconds, input.reach?.host ?? null, input.reach?.dataDir ?? null]);
    if (!row) return null;
    await setRequestStatus(tx, row.request_id, 'running');
    await appendAudit(tx, {
      actor: input.runnerId,
      action: 'job.claimed',
      subject: `job:${row.id}`,
      details: { pool: input.poolName },
    });
    return toJob(row);
  });
}

/**
 * A job this runner claimed without hearing back: the claim committed, and its reply was lost
 * to a control-DB restart. Nothing ran for it (it is not authorized yet), so it is handed back
 * to its runner with a fresh lease rather than left to expire as RUNNER_LOST. Only for the
 * runner that saw a claim fail that way; the claim's audit entry is already there.
 */
export async function reclaimUnstartedJob(
  db: Db,
  input: { runnerId: string; poolName: string; leaseSeconds: number },
): Promise<JobRecord | null> {
  assertLeaseSeconds(input.leaseSeconds);
  const row = await queryMaybeOne<JobRow>(
    db,
    `UPDATE jobs SET heartbeat_at = now(), lease_expires_at = now() + make_interval(secs => $3)
      WHERE id = (SELECT id FROM jobs
                   WHERE status = 'running' AND runner_id = $1 AND pool = $2 AND authorized_at IS NULL
                   ORDER BY started_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING *`,
    [input.runnerId, input.poolName, input.leaseSeconds],
  );
  return row ? toJob(row) : null;
}

/**
 * Renews the lease; call it every third of the lease or so. Throws LEASE_LOST if the job was
 * reaped meanwhile, so the runner stops instead of working on a job marked failed.
 */
export async function heartbeat(
  db: Db,
  input: { jobId: string; runnerId: string; leaseSeconds: number },
): Promise<{ leaseExpiresAt: Date; cancelRequested: boolean }> {
  assertLeaseSeconds(input.leaseSeconds);
  const row = await queryMaybeOne<{ lease_expires_at: Date; cancel_requested: boolean }>(
    db,
    `UPDATE jobs SET heartbeat_at = now(), lease_expires_at = now() + make_interval(secs => $3)
      WHERE id = $1 AND runner_id = $2 AND status = 'running'
      RETURNING lease_expires_at, cancel_requested`,
    [input.jobId, input.runnerId, input.leaseSeconds],
  );
  if (!row) throw leaseLost(input.jobId, input.runnerId);
  return { leaseExpiresAt: row.lease_expires_at, cancelRequested: row.cancel_requested };
}

/** Fences writes by a runner that lost its job; keeps the row locked until the caller commits. */
export async function assertJobOwned(tx: Tx, jobId: string, runnerId: string): Promise<JobRecord> {
  const row = await queryMaybeOne<JobRow>(
    tx,
    `SELECT * FROM jobs WHERE id = $1 AND runner_id = $2 AND status = 'running' FOR SHARE`,
    [jobId, runnerId],
  );
  if (!row) throw leaseLost(jobId, runnerId);
  return toJob(row);
}

export type JobOutcome =
  | { status: 'succeeded'; result?: unknown }
  /** `result` when the command ran to the end but its verdict is a failure (e.g. verification failed). */
  | { status: 'failed'; error: { code: string; message: string }; result?: unknown }
  | { status: 'cancelled' };

/** Records the outcome and appends the matching terminal event in the same transaction. */
export async function finishJob(
  db: Db,
  input: { jobId: string; runnerId: string; outcome: JobOutcome },
): Promise<JobRecord> {
  const { outcome } = input;
  const result = outcome.status !== 'cancelled' && outcome.result !== undefined ? canonicalJson(outcome.result) : outcome.status === 'succeeded' ? canonicalJson(null) : null;
  const error = outcome.status === 'failed' ? canonicalJson(outcome.error) : null;
  return withTransaction(db, async (tx) => {
    const row = await queryMaybeOne<JobRow>(
      tx,
      `UPDATE jobs SET status = $3, finished_at = now(), result = $4::jsonb, error = $5::jsonb
        WHERE id = $1 AND runner_id = $2 AND status = 'running' RETURNING *`,
      [input.jobId, input.runnerId, outcome.status, result, error],
    );
    if (!row) {
      // Finished exactly so already: an earlier try committed and its reply was lost (the
      // runner retries while the control DB restarts). Nothing is appended a second time.
      const done = await queryMaybeOne<JobRow>(tx, 'SELECT * FROM jobs WHERE id = $1 AND runner_id = $2 AND status = $3', [input.jobId, input.runnerId, outcome.status]);
      if (done && (outcome.status !== 'failed' || done.error?.code === outcome.error.code)) return toJob(done);
      throw leaseLost(input.jobId, input.runnerId);
    }
    const job = toJob(row);
    const at = (job.finishedAt ?? new Date()).toISOString();
    const event: EngineEvent =
      outcome.status === 'succeeded'
        ? { type: 'job.succeeded', at, result: job.result }
        : outcome.status === 'failed'
          ? { type: 'job.failed', at, code: outcome.error.code, message: outcome.error.message }
          : { type: 'job.cancelled', at };
    await appendEvent(tx, job.id, event);
    await setRequestStatus(tx, job.requestId, outcome.status);
    await appendAudit(tx, {
      actor: input.runnerId,
      action: `job.${outcome.status}`,
      subject: `job:${job.id}`,
      details: { error: job.error },
    });
    return job;
  });
}

const REAP_EXPIRED_LEASES = `
  WITH expired AS (
    SELECT id FROM jobs
     WHERE status = 'running' AND lease_expires_at < now()
     ORDER BY lease_expires_at
     LIMIT $1
     FOR UPDATE SKIP LOCKED)
  UPDATE jobs SET status = 'failed', finished_at = now(),
         error = jsonb_build_object(
           'code', 'RUNNER_LOST',
           'message', format('Runner %s stopped renewing its lease (last heartbeat %s): it crashed, was stopped or lost '
                             'the control DB, and the job was marked failed. Steps that had started may be half done. '
                             'On the runner host, check whether production is running and which data directory it uses '
                             '(an in-place restore keeps the old one beside it), restart the runner, then start a new '
                             'request with /recover if recovery is still needed.',
                             jobs.runner_id, to_char(jobs.heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS" UTC"')))
    FROM expired WHERE jobs.id = expired.id
  RETURNING jobs.*`;

/**
 * Marks jobs whose runner stopped heartbeating as failed (RUNNER_LOST). Safe to call from
 * every runner and the bot at once: each expired job is reaped exactly once.
 */
export async function reapExpiredLeases(db: Db, options: { limit?: number } = {}): Promise<JobRecord[]> {
  return withTransaction(db, async (tx) => {
    const rows = await queryRows<JobRow>(tx, REAP_EXPIRED_LEASES, [options.limit ?? 100]);
    const jobs: JobRecord[] = [];
    for (const row of rows) jobs.push(await inPlaceLost(tx, toJob(row)));
    for (const job of jobs) {
      const error = job.error ?? { code: 'RUNNER_LOST', message: 'The runner was lost.' };
      const at = (job.finishedAt ?? new Date()).toISOString();
      await appendEvent(tx, job.id, { type: 'job.failed', at, code: error.code, message: error.message });
      await setRequestStatus(tx, job.requestId, 'failed');
      await appendAudit(tx, {
        actor: 'lease-reaper',
        action: 'job.runner_lost',
        subject: `job:${job.id}`,
        details: { runnerId: job.runnerId },
      });
    }
    return jobs;
  });
}

