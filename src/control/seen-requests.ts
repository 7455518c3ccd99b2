/**
 * Slack request keys already handled, in the control DB so that every bot instance and a
 * restarted bot agree: a signed request replayed within Slack's 5-minute signature window
 * (or delivered to a second instance) acts once. Keys older than the window are pruned.
 */
import { RecoverError } from '../errors.js';
import { queryRows, type Db } from './db.js';

/** Longer than Slack's 5-minute signature window, so a key is never pruned while its request could still be replayed. */
export const SEEN_REQUEST_WINDOW_MINUTES = 10;

/**
 * True the first time any process offers `key`, false for a repeat. Also prunes keys older
 * than the window (whose requests Slack's signature check already refuses).
 */
export async function firstSeenRequest(db: Db, key: string, windowMinutes = SEEN_REQUEST_WINDOW_MINUTES): Promise<boolean> {
  if (!key) throw new RecoverError('INTERNAL', 'firstSeenRequest: an empty request key.');
  await queryRows(db, `DELETE FROM seen_slack_requests WHERE seen_at < now() - make_interval(mins => $1)`, [windowMinutes]);
  const inserted = await queryRows<{ key: string }>(
    db,
    'INSERT INTO seen_slack_requests (key) VALUES ($1) ON CONFLICT (key) DO NOTHING RETURNING key',
    [key],
  );
  return inserted.length === 1;
}
