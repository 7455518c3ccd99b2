/**
 * Restore drill history (0015_restore_drills.sql): one row per drill, and its result as a
 * notice the bot posts to RECOVER_ALERT_CHANNEL (rpo_notices kind 'drill', posted by
 * slack/flows/rpo-notices.ts like the RPO watch's), written in one statement.
 */
import { queryOne, queryRows, type Db } from './db.js';

export interface DrillRecord {
  pool: string;
  trigger: 'schedule' | 'command';
  requestedAt: Date;
  ok: boolean;
  backupId: string | null;
  target: string | null;
  rtoSeconds: number | null;
  error: { code: string; message: string } | null;
}

export interface DrillRow extends DrillRecord {
  id: string;
  finishedAt: Date;
}

/** Records a drill and, with `notice`, the text to post (production names the notice's row); returns the drill's id. */
export async function recordDrill(db: Db, drill: DrillRecord, notice?: { production: string; text: string }): Promise<string> {
  const row = await queryOne<{ id: string }>(
    db,
    `WITH drill AS (
       INSERT INTO restore_drills (pool, trigger, requested_at, ok, backup_id, target, rto_seconds, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id),
     notice AS (
       INSERT INTO rpo_notices (pool, production, kind, text)
       SELECT $1, $9::text, 'drill', $10::text WHERE $10::text IS NOT NULL)
     SELECT id::text AS id FROM drill`,
    [drill.pool, drill.trigger, drill.requestedAt, drill.ok, drill.backupId, drill.target, drill.rtoSeconds, drill.error, notice?.production ?? null, notice?.text ?? null],
  );
  return row.id;
}

interface Row {
  id: string;
  pool: string;
  trigger: DrillRecord['trigger'];
  requested_at: Date;
  finished_at: Date;
  ok: boolean;
  backup_id: string | null;
  target: string | null;
  rto_seconds: number | null;
  error: DrillRecord['error'];
}

/** The pool's newest drills, newest first. */
export async function listDrills(db: Db, pool: string, limit = 10): Promise<DrillRow[]> {
  const rows = await queryRows<Row>(db, 'SELECT * FROM restore_drills WHERE pool = $1 ORDER BY requested_at DESC, id DESC LIMIT $2', [pool, limit]);
  return rows.map((r) => ({
    id: r.id,
    pool: r.pool,
    trigger: r.trigger,
    requestedAt: r.requested_at,
    finishedAt: r.finished_at,
    ok: r.ok,
    backupId: r.backup_id,
    target: r.target,
    rtoSeconds: r.rto_seconds,
    error: r.error,
  }));
}
