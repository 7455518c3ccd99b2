/**
 * The RPO watch's records (0014_rpo_alerts.sql): the alert state per (pool, production) and
 * the notices the bot posts. A change is claimed by version: of the runners that read the same
 * row, one moves it (and writes its notice in the same statement); the others are told no.
 */
import { queryOne, queryRows, type Db } from './db.js';

export interface RpoAlertRead {
  open: boolean;
  sinceNoticeSeconds: number | null;
  version: number;
}

/** The alert row (created 'ok' and closed when missing); seconds since the last notice by the control DB's clock. */
export async function readRpoAlert(db: Db, pool: string, production: string): Promise<RpoAlertRead> {
  await queryRows(db, 'INSERT INTO rpo_alerts (pool, production) VALUES ($1, $2) ON CONFLICT DO NOTHING', [pool, production]);
  const row = await queryOne<{ open: boolean; since: number | null; version: number }>(
    db,
    `SELECT opened_at IS NOT NULL AS open, extract(epoch FROM now() - last_notice_at)::float8 AS since, version
       FROM rpo_alerts WHERE pool = $1 AND production = $2`,
    [pool, production],
  );
  return { open: row.open, sinceNoticeSeconds: row.since, version: row.version };
}

export interface RpoTransition {
  pool: string;
  production: string;
  /** The version read: the claim succeeds only if nobody moved the row since. */
  version: number;
  state: 'ok' | 'exposed' | 'failing';
  exposureSeconds: number | null;
  notice: { kind: 'alert' | 'reminder' | 'recovered'; text: string } | null;
}

/** Records what was seen and, when this runner wins the row, its notice; returns the notice's id (or true/false without one). */
export async function claimRpoTransition(db: Db, t: RpoTransition): Promise<{ claimed: boolean; noticeId: string | null }> {
  const row = await queryOne<{ claimed: number; notice_id: string | null }>(
    db,
    `WITH claimed AS (
       UPDATE rpo_alerts SET state = $4, exposure_seconds = $5, checked_at = now(), version = version + 1,
              opened_at = CASE $6::text WHEN 'alert' THEN now() WHEN 'recovered' THEN NULL ELSE opened_at END,
              last_notice_at = CASE WHEN $6::text IN ('alert', 'reminder') THEN now() WHEN $6::text = 'recovered' THEN NULL ELSE last_notice_at END
        WHERE pool = $1 AND production = $2 AND version = $3
        RETURNING pool, production),
     notice AS (
       INSERT INTO rpo_notices (pool, production, kind, text)
       SELECT pool, production, $6::text, $7::text FROM claimed WHERE $6::text IS NOT NULL
       RETURNING id)
     SELECT (SELECT count(*) FROM claimed)::int AS claimed, (SELECT id FROM notice)::text AS notice_id`,
    [t.pool, t.production, t.version, t.state, t.exposureSeconds, t.notice?.kind ?? null, t.notice?.text ?? null],
  );
  return { claimed: row.claimed === 1, noticeId: row.notice_id };
}

export interface RpoNotice {
  id: string;
  pool: string;
  production: string;
  /** 'drill': a restore drill's result (drills/run.ts); 'schedule-…': a scheduled backup or dump failing, then working again (control/schedule-alerts.ts); posted the same way. */
  kind: 'alert' | 'reminder' | 'recovered' | 'drill' | 'schedule-failed' | 'schedule-recovered';
  text: string;
}

/** Notices not yet posted (no ts under rpo:<id> in slack_posts) from the last `withinHours` hours, oldest first. */
export async function listUnpostedRpoNotices(db: Db, withinHours = 24): Promise<RpoNotice[]> {
  return queryRows<RpoNotice>(
    db,
    `SELECT n.id::text AS id, n.pool, n.production, n.kind, n.text FROM rpo_notices n
       LEFT JOIN slack_posts p ON p.key = 'rpo:' || n.id
      WHERE p.ts IS NULL AND n.created_at > now() - make_interval(hours => $1)
      ORDER BY n.id`,
    [withinHours],
  );
}
