/**
 * The scheduled work of a runner pool (0012_scheduled_runs.sql): one row per (pool, kind,
 * slot). Claiming is the INSERT itself: of the runners that compute the same slot, exactly one
 * gets its row back; the others learn the slot is taken. No lock is held while the work runs.
 */
import { queryMaybeOne, queryRows, type Db } from './db.js';

export type ScheduledKind = 'backup' | 'drill' | 'dump';
export type ScheduledStatus = 'running' | 'succeeded' | 'failed' | 'skipped';

export interface ScheduledRun {
  pool: string;
  kind: ScheduledKind;
  slot: Date;
  runnerId: string;
  startedAt: Date;
  finishedAt: Date | null;
  status: ScheduledStatus;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

interface Row {
  pool: string;
  kind: ScheduledKind;
  slot: Date;
  runner_id: string;
  started_at: Date;
  finished_at: Date | null;
  status: ScheduledStatus;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

const toRun = (row: Row): ScheduledRun => ({
  pool: row.pool,
  kind: row.kind,
  slot: row.slot,
  runnerId: row.runner_id,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  status: row.status,
  result: row.result,
  error: row.error,
});

/** True when this runner now holds the slot; false when another runner (or this one, earlier) took it. */
export async function claimScheduledRun(db: Db, input: { pool: string; kind: ScheduledKind; slot: Date; runnerId: string }): Promise<boolean> {
  const row = await queryMaybeOne<{ pool: string }>(
    db,
    `INSERT INTO scheduled_runs (pool, kind, slot, runner_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (pool, kind, slot) DO NOTHING
     RETURNING pool`,
    [input.pool, input.kind, input.slot, input.runnerId],
  );
  return row !== undefined;
}

/** Records how the slot's run ended; only the runner that claimed it may. */
export async function finishScheduledRun(
  db: Db,
  input: { pool: string; kind: ScheduledKind; slot: Date; runnerId: string; status: Exclude<ScheduledStatus, 'running'>; result?: Record<string, unknown>; error?: { code: string; message: string } },
): Promise<void> {
  await queryRows(
    db,
    `UPDATE scheduled_runs SET status = $5, finished_at = now(), result = $6, error = $7
     WHERE pool = $1 AND kind = $2 AND slot = $3 AND runner_id = $4 AND status = 'running'`,
    [input.pool, input.kind, input.slot, input.runnerId, input.status, input.result ?? null, input.error ?? null],
  );
}

/** The pool's newest runs of a kind, newest slot first. */
export async function listScheduledRuns(db: Db, input: { pool: string; kind: ScheduledKind; limit?: number }): Promise<ScheduledRun[]> {
  const rows = await queryRows<Row>(db, 'SELECT * FROM scheduled_runs WHERE pool = $1 AND kind = $2 ORDER BY slot DESC LIMIT $3', [input.pool, input.kind, input.limit ?? 20]);
  return rows.map(toRun);
}
