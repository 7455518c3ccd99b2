/**
 * The bot's record of the Slack messages it posts for requests and jobs (migration 0011):
 * an intent row written before the post, the message's ts once known. With it a post is done
 * once per event even when Slack answers too late or the bot stops in between (see
 * slack/io/outbox.ts for the find-before-posting-again part).
 */
import { queryMaybeOne, queryRows, type Db } from './db.js';

export interface SlackPostIntent {
  key: string;
  /** What the message is: 'planning', 'approval', 'status', 'step', 'integrity', 'summary'. */
  kind: string;
  channel: string;
  threadTs?: string;
  /** The request an approval message belongs to. */
  requestId?: string;
}

export interface SlackPostRecord {
  key: string;
  kind: string;
  requestId: string | null;
  channel: string;
  threadTs: string | null;
  ts: string | null;
  /** Sends tried so far (each may have reached Slack). */
  attempts: number;
  createdAt: Date;
}

interface SlackPostRow {
  key: string;
  kind: string;
  request_id: string | null;
  channel: string;
  thread_ts: string | null;
  ts: string | null;
  attempts: number;
  created_at: Date;
}

const toRecord = (row: SlackPostRow): SlackPostRecord => ({
  key: row.key,
  kind: row.kind,
  requestId: row.request_id,
  channel: row.channel,
  threadTs: row.thread_ts,
  ts: row.ts,
  attempts: row.attempts,
  createdAt: row.created_at,
});

/**
 * Records the intent to post (once per key); returns the row as stored, which for a key seen
 * before may already carry a ts or earlier attempts.
 */
export async function recordSlackPostIntent(db: Db, intent: SlackPostIntent): Promise<SlackPostRecord> {
  await queryRows(
    db,
    `INSERT INTO slack_posts (key, kind, request_id, channel, thread_ts) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING`,
    [intent.key, intent.kind, intent.requestId ?? null, intent.channel, intent.threadTs ?? null],
  );
  const row = await queryMaybeOne<SlackPostRow>(db, 'SELECT * FROM slack_posts WHERE key = $1', [intent.key]);
  if (!row) throw new Error(`slack_posts: the intent ${intent.key} vanished`);
  return toRecord(row);
}

/** Counts a send about to go out: from now on the message may exist without our knowing its ts. */
export async function markSlackPostAttempt(db: Db, key: string): Promise<void> {
  await queryRows(db, 'UPDATE slack_posts SET attempts = attempts + 1 WHERE key = $1', [key]);
}

/** Saves the ts Slack answered with (or the one found by the key); the first one saved wins. */
export async function saveSlackPostTs(db: Db, key: string, ts: string): Promise<string> {
  const row = await queryMaybeOne<{ ts: string }>(
    db,
    `UPDATE slack_posts SET ts = COALESCE(ts, $2), posted_at = COALESCE(posted_at, now()) WHERE key = $1 RETURNING ts`,
    [key, ts],
  );
  return row?.ts ?? ts;
}

export async function getSlackPost(db: Db, key: string): Promise<SlackPostRecord | null> {
  const row = await queryMaybeOne<SlackPostRow>(db, 'SELECT * FROM slack_posts WHERE key = $1', [key]);
  return row ? toRecord(row) : null;
}

/**
 * Approval messages whose request does not know its message's ts (the bot stopped between
 * posting and saving it), newest requests first, from the last `withinHours` hours.
 */
export async function listUnlinkedApprovalPosts(db: Db, withinHours = 24): Promise<SlackPostRecord[]> {
  const rows = await queryRows<SlackPostRow>(
    db,
    `SELECT p.* FROM slack_posts p JOIN requests r ON r.id = p.request_id
      WHERE p.kind = 'approval' AND NOT (r.slack_refs ? 'approvalTs')
        AND p.created_at > now() - make_interval(hours => $1)
      ORDER BY p.created_at DESC`,
    [withinHours],
  );
  return rows.map(toRecord);
}
