/**
 * Step checkpoints: which steps of a job started and finished. They let a resumed job skip
 * finished steps, and tell people after a crash which step may be half done (status still
 * 'running'). Also the runner's job events. Writes are fenced: a runner that lost its job
 * cannot record progress on it. Every write here may be retried after a lost reply (the
 * runner retries while the control DB restarts) and then records nothing a second time.
 */
import { RecoverError } from '../errors.js';
import type { EngineEvent } from '../types.js';
import { LOCK_NAMESPACE, queryMaybeOne, queryRows, withTransaction, type Db } from './db.js';
import { canonicalJson } from './digest.js';
import { toEvent, toStep, type EventRecord, type EventRow, type StepCheckpoint, type StepRow } from './model.js';
import { assertJobOwned } from './queue.js';

export interface StepRef {
  jobId: string;
  runnerId: string;
  stepIndex: number;
}

// Restarting a failed or interrupted step is allowed; restarting a finished one is not.
const START_STEP = `
  INSERT INTO step_checkpoints (job_id, step_index, kind, status) VALUES ($1, $2, $3, 'running')
  ON CONFLICT (job_id, step_index) DO UPDATE
     SET kind = EXCLUDED.kind, status = 'running', started_at = now(), finished_at = NULL, detail = '{}'::jsonb
   WHERE step_checkpoints.status <> 'succeeded'
  RETURNING *`;

export async function startStep(db: Db, step: StepRef & { kind: string }): Promise<StepCheckpoint> {
  return withTransaction(db, async (tx) => {
    await assertJobOwned(tx, step.jobId, step.runnerId);
    const row = await queryMaybeOne<StepRow>(tx, START_STEP, [step.jobId, step.stepIndex, step.kind]);
    if (!row) {
      throw new RecoverError('INTERNAL', `Step ${step.stepIndex} of job ${step.jobId} already finished; it must not run again.`, {
        hint: 'The runner should skip the steps listFinishedSteps returns.',
      });
    }
    return toStep(row);
  });
}

export async function finishStep(
  db: Db,
  step: StepRef & { status: 'succeeded' | 'failed'; detail?: Record<string, unknown> },
): Promise<StepCheckpoint> {
  return withTransaction(db, async (tx) => {
    await assertJobOwned(tx, step.jobId, step.runnerId);
    const row = await queryMaybeOne<StepRow>(
      tx,
      `UPDATE step_checkpoints SET status = $3, finished_at = now(), detail = $4::jsonb
        WHERE job_id = $1 AND step_index = $2 AND status = 'running' RETURNING *`,
      [step.jobId, step.stepIndex, step.status, canonicalJson(step.detail ?? {})],
    );
    if (row) return toStep(row);
    // Already finished the same way: an earlier try committed and its reply was lost (the
    // runner retries writes while the control DB restarts). The same outcome again is a no-op.
    const current = await queryMaybeOne<StepRow>(tx, 'SELECT * FROM step_checkpoints WHERE job_id = $1 AND step_index = $2', [step.jobId, step.stepIndex]);
    if (current?.status === step.status) return toStep(current);
    throw new RecoverError('INTERNAL', `Step ${step.stepIndex} of job ${step.jobId} was not running, so it cannot finish.`);
  });
}

/**
 * Keeps a long-running operation's serialized poller state with the running step (its detail:
 * { operation, resumeFrom }), fenced like every write; finishing the step replaces it. Repeating
 * it after a lost reply writes the same again.
 */
export async function saveStepState(db: Db, step: StepRef & { operation: string; resumeFrom: string }): Promise<void> {
  await withTransaction(db, async (tx) => {
    await assertJobOwned(tx, step.jobId, step.runnerId);
    await tx.query(
      `UPDATE step_checkpoints SET detail = $3::jsonb WHERE job_id = $1 AND step_index = $2 AND status = 'running'`,
      [step.jobId, step.stepIndex, canonicalJson({ operation: step.operation, resumeFrom: step.resumeFrom })],
    );
  });
}

/** The newest state saved under `operation` by a step that never finished (its runner was lost mid-poll); null: none. */
export async function findOperationState(db: Db, operation: string): Promise<string | null> {
  const row = await queryMaybeOne<{ resume_from: string }>(
    db,
    `SELECT detail->>'resumeFrom' AS resume_from FROM step_checkpoints
      WHERE status = 'running' AND detail->>'operation' = $1 AND detail ? 'resumeFrom'
      ORDER BY started_at DESC LIMIT 1`,
    [operation],
  );
  return row?.resume_from ?? null;
}

export async function listStepCheckpoints(db: Db, jobId: string): Promise<StepCheckpoint[]> {
  const rows = await queryRows<StepRow>(db, 'SELECT * FROM step_checkpoints WHERE job_id = $1 ORDER BY step_index', [
    jobId,
  ]);
  return rows.map(toStep);
}

// A job and the chain of jobs it resumes, as long as they ran the same plan.
const FINISHED_STEPS = `
  WITH RECURSIVE lineage AS (
    SELECT id, resume_of, plan_digest FROM jobs WHERE id = $1
    UNION ALL
    SELECT earlier.id, earlier.resume_of, earlier.plan_digest
      FROM jobs earlier JOIN lineage ON earlier.id = lineage.resume_of
     WHERE earlier.plan_digest = lineage.plan_digest)
  SELECT DISTINCT step_index FROM step_checkpoints
   WHERE status = 'succeeded' AND job_id IN (SELECT id FROM lineage)
   ORDER BY step_index`;

/** Indexes of the steps already finished by this job or the jobs it resumes. */
export async function listFinishedSteps(db: Db, jobId: string): Promise<number[]> {
  const rows = await queryRows<{ step_index: number }>(db, FINISHED_STEPS, [jobId]);
  return rows.map((row) => row.step_index);
}

/**
 * Appends an event of the job this runner holds, numbered by the runner (`seq`, from 1 per
 * job). The same number again is the same event, retried after a lost reply: not inserted
 * twice (migration 0010), and null is returned. Same per-job lock as appendEvent, so ids
 * become visible in order.
 */
export async function appendRunnerEvent(db: Db, ref: { jobId: string; runnerId: string; seq: number }, event: EngineEvent): Promise<EventRecord | null> {
  return withTransaction(db, async (tx) => {
    // The job row first, then the event lock: the order finishJob and the reaper take them in.
    await assertJobOwned(tx, ref.jobId, ref.runnerId);
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE.jobEvents, ref.jobId]);
    const row = await queryMaybeOne<EventRow>(
      tx,
      `INSERT INTO events (job_id, type, payload, seq) VALUES ($1, $2, $3::jsonb, $4)
       ON CONFLICT (job_id, seq) DO NOTHING
       RETURNING id, job_id, payload, at`,
      [ref.jobId, event.type, canonicalJson(event), ref.seq],
    );
    return row ? toEvent(row) : null;
  });
}
