/**
 * What the channel is told when a runner is lost in the middle of an in-place restore: the
 * generic RUNNER_LOST text ("steps may be half done") hides that production itself may be
 * stopped. Pure; the reaper (queue.ts) fills it from the plan's params and the step records.
 */
import { appendAudit } from './audit.js';
import { queryMaybeOne, queryRows, withTransaction, type Db, type Tx } from './db.js';
import { appendEvent } from './events.js';
import { toJob, type JobRecord, type JobRow } from './model.js';

export interface InPlaceLostFacts {
  runnerId: string;
  lastHeartbeat: string;
  /** Production's data directory (the plan's params; absent in plans made before it was recorded). */
  dataDir: string | null;
  /** Where the move-aside step put production's data directory, when it was recorded. */
  keptDir: string | null;
  /** The step that was running (null: between steps or none recorded). */
  runningStep: string | null;
  /** Finished steps of the job, by kind. */
  finished: readonly string[];
}

/** Whether a stored plan is an in-place restore of production (pitr --to in-place). */
export function isInPlacePlan(plan: { command?: unknown; params?: unknown } | null | undefined): boolean {
  const params = plan?.params as { to?: unknown } | undefined;
  return plan?.command === 'pitr' && params?.to === 'in-place';
}

export function inPlaceRunnerLostMessage(facts: InPlaceLostFacts): string {
  const data = facts.dataDir ?? "production's data directory";
  const at = facts.runningStep ? ` during step ${facts.runningStep}` : facts.finished.length ? ` after step ${facts.finished.at(-1)}` : '';
  const stopped = facts.finished.includes('stop-production') || facts.runningStep === 'stop-production' || facts.keptDir !== null;
  const head = `Runner ${facts.runnerId} stopped renewing its lease (last heartbeat ${facts.lastHeartbeat})${at} of an IN-PLACE restore of production, and the job was marked failed. `;
  const state = stopped ? 'PRODUCTION MAY BE STOPPED. ' : 'Production may have been stopped. ';
  const kept = facts.keptDir
    ? `Its previous data directory is kept, not deleted, at ${facts.keptDir}; ${data} may hold a half-restored cluster. `
    : `Its data directory ${data} was not recorded as moved aside (look for ${data}.before-pitr-* beside it). `;
  const auto = `A runner of this pool on that host with RECOVER_SOURCE_DATA_DIR set puts it right by itself within seconds of starting (from ${data}.recover-journal.json): it stops the half-restored server, keeps it as ${data}.failed-pitr-<time>, puts the previous directory back, starts production and posts what it did. `;
  const manual = facts.keptDir && facts.dataDir
    ? `By hand instead, as root on that host: runuser -u postgres -- pg_ctl stop -D ${facts.dataDir} -m immediate; mv ${facts.dataDir} ${facts.dataDir}.failed-pitr-manual; mv ${facts.keptDir} ${facts.dataDir}; runuser -u postgres -- pg_ctl start -D ${facts.dataDir} (add -o "-c config_file=…" if its configuration lives outside the data directory, or use your usual start command); then check production answers and remove ${facts.dataDir}.recover-journal.json.`
    : `By hand instead: if production is not running, start it the usual way (runuser -u postgres -- pg_ctl start -D ${data}); if ${data}.before-pitr-* exists, stop the server on ${data} (pg_ctl stop -m immediate), mv ${data} ${data}.failed-pitr-manual, mv the .before-pitr- directory back to ${data} and start it; then remove ${data}.recover-journal.json.`;
  return `${head}${state}${kept}${auto}${manual}`;
}

/**
 * A lost in-place restore may have left production stopped: its RUNNER_LOST message says so,
 * names the kept directory (the move-aside step's record) and gives the commands.
 */
export async function inPlaceLost(tx: Tx, job: JobRecord): Promise<JobRecord> {
  const plan = await queryMaybeOne<{ plan: { command?: string; params?: { dataDir?: string } } }>(
    tx,
    'SELECT plan FROM plans WHERE request_id = $1 AND digest = $2 ORDER BY id DESC LIMIT 1',
    [job.requestId, job.planDigest],
  );
  if (!isInPlacePlan(plan?.plan)) return job;
  const steps = await queryRows<{ kind: string; status: string; detail: { detail?: string } | null }>(
    tx,
    'SELECT kind, status, detail FROM step_checkpoints WHERE job_id = $1 ORDER BY step_index',
    [job.id],
  );
  const moved = steps.find((s) => s.kind === 'move-aside' && s.status === 'succeeded')?.detail?.detail ?? null;
  const message = inPlaceRunnerLostMessage({
    runnerId: job.runnerId ?? '?',
    lastHeartbeat: job.heartbeatAt ? `${job.heartbeatAt.toISOString().slice(0, 19).replace('T', ' ')} UTC` : 'never',
    dataDir: plan?.plan.params?.dataDir ?? (moved ? moved.replace(/\.before-pitr-[^/]*$/, '') : null),
    keptDir: moved,
    runningStep: steps.find((s) => s.status === 'running')?.kind ?? null,
    finished: steps.filter((s) => s.status === 'succeeded').map((s) => s.kind),
  });
  const row = await queryMaybeOne<JobRow>(
    tx,
    `UPDATE jobs SET error = jsonb_build_object('code', 'RUNNER_LOST', 'message', $2::text) WHERE id = $1 RETURNING *`,
    [job.id, message],
  );
  return row ? toJob(row) : job;
}

/**
 * A runner put right what a job whose runner was lost left behind: an in-place restore rolled
 * back or finished (engine/in-place-recovery.ts), or a side instance's half-restored server
 * and working files (engine/work-tidy.ts). The job's error says what it did, and a job.failed
 * event carries it to the channel.
 */
export async function recordLostJobRecovery(db: Db, input: { jobId: string; runnerId: string; message: string; action: 'job.in_place_recovered' | 'job.work_tidied' }): Promise<void> {
  await withTransaction(db, async (tx) => {
    const row = await queryMaybeOne<JobRow>(
      tx,
      `UPDATE jobs SET error = jsonb_build_object('code', COALESCE(error->>'code', 'RUNNER_LOST'),
                                                 'message', COALESCE(error->>'message', '') || E'\n\n' || $2::text)
        WHERE id = $1 AND status <> 'running' RETURNING *`,
      [input.jobId, input.message],
    );
    if (!row) return;
    const job = toJob(row);
    await appendEvent(tx, job.id, { type: 'job.failed', at: new Date().toISOString(), code: job.error?.code ?? 'RUNNER_LOST', message: input.message });
    await appendAudit(tx, { actor: input.runnerId, action: input.action, subject: `job:${job.id}`, details: { message: input.message } });
  });
}
