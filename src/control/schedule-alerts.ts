/**
 * Failure streaks of scheduled backups and dumps (0016_scheduled_dumps_and_alerts.sql): one row per
 * (pool, kind). A failed slot opens a streak unless one is open (or a later slot already
 * succeeded); a succeeded slot later than the streak's first failure closes it. Each change writes
 * its notice into rpo_notices in the same transaction, under the row's lock, so the bot posts one
 * alert per streak and one recovery notice, whichever runners ran the slots.
 */
import { queryMaybeOne, queryRows, withTransaction, type Db } from './db.js';

export type AlertedKind = 'backup' | 'dump';

export interface ScheduleOutcome {
  pool: string;
  kind: AlertedKind;
  /** Names the notice's production (rpo_notices.production). */
  production: string;
  slot: Date;
  ok: boolean;
}

/**
 * Records a slot's outcome; when it opens or closes a streak, writes the notice `text(change)`
 * (with, for a recovery, the slot that opened the streak) and returns its id; null otherwise.
 */
export async function recordScheduleOutcome(
  db: Db,
  outcome: ScheduleOutcome,
  text: (change: { kind: 'failed' } | { kind: 'recovered'; failingSince: Date }) => string,
): Promise<string | null> {
  const { pool, kind, slot } = outcome;
  return withTransaction(db, async (tx) => {
    await queryRows(tx, 'INSERT INTO schedule_alerts (pool, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING', [pool, kind]);
    const row = await queryMaybeOne<{ failing_since: Date | null; last_ok_slot: Date | null }>(tx, 'SELECT failing_since, last_ok_slot FROM schedule_alerts WHERE pool = $1 AND kind = $2 FOR UPDATE', [pool, kind]);
    const { failing_since: failingSince, last_ok_slot: lastOk } = row ?? { failing_since: null, last_ok_slot: null };
    let notice: { kind: 'schedule-failed' | 'schedule-recovered'; text: string } | null = null;
    if (!outcome.ok) {
      if (failingSince !== null || (lastOk !== null && lastOk >= slot)) return null;
      await queryRows(tx, 'UPDATE schedule_alerts SET failing_since = $3 WHERE pool = $1 AND kind = $2', [pool, kind, slot]);
      notice = { kind: 'schedule-failed', text: text({ kind: 'failed' }) };
    } else {
      const closes = failingSince !== null && failingSince < slot;
      await queryRows(tx, 'UPDATE schedule_alerts SET last_ok_slot = greatest(last_ok_slot, $3), failing_since = CASE WHEN $4 THEN NULL ELSE failing_since END WHERE pool = $1 AND kind = $2', [pool, kind, slot, closes]);
      if (!closes) return null;
      notice = { kind: 'schedule-recovered', text: text({ kind: 'recovered', failingSince: failingSince! }) };
    }
    const inserted = await queryMaybeOne<{ id: string }>(tx, 'INSERT INTO rpo_notices (pool, production, kind, text) VALUES ($1, $2, $3, $4) RETURNING id::text AS id', [pool, outcome.production, notice.kind, notice.text]);
    return inserted?.id ?? null;
  });
}
