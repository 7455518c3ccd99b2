/**
 * Job events: appended by the runner (and by the control layer for cancellations and lost
 * runners), read by the bot and the CLI. Readers page with `afterId`, so ids of one job must
 * become visible in increasing order; see appendEvent.
 */
import type pg from 'pg';
import type { EngineEvent } from '../types.js';
import { LOCK_NAMESPACE, queryOne, queryRows, withTransaction, type Db } from './db.js';
import { canonicalJson } from './digest.js';
import { toEvent, type EventRecord, type EventRow } from './model.js';

export const EVENTS_CHANNEL = 'recover_events';

/**
 * Appends one event. Ids come from a sequence and could otherwise commit out of order (the
 * runner and the lease reaper may write to the same job at once), letting a reader that
 * already moved past id N miss a late N-1; a per-job lock held to commit prevents that.
 */
export async function appendEvent(db: Db, jobId: string, event: EngineEvent): Promise<EventRecord> {
  return withTransaction(db, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_NAMESPACE.jobEvents, jobId]);
    const row = await queryOne<EventRow>(
      tx,
      `INSERT INTO events (job_id, type, payload) VALUES ($1, $2, $3::jsonb)
       RETURNING id, job_id, payload, at`,
      [jobId, event.type, canonicalJson(event)],
    );
    return toEvent(row);
  });
}

export async function listEvents(db: Db, jobId: string, afterId = 0, limit = 500): Promise<EventRecord[]> {
  const rows = await queryRows<EventRow>(
    db,
    'SELECT id, job_id, payload, at FROM events WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT $3',
    [jobId, afterId, limit],
  );
  return rows.map(toEvent);
}

/**
 * Calls `onJobId` whenever an event of that job is committed. `client` must be a dedicated
 * connection kept open while listening (a pooled client would be handed to someone else).
 * Notifications sent while the connection is down are lost: after reconnecting, subscribe
 * again and catch up with listEvents from the last id seen. Returns an unsubscribe function.
 */
export async function subscribeEvents(
  client: pg.Client | pg.PoolClient,
  onJobId: (jobId: string) => void,
): Promise<() => Promise<void>> {
  const listener = (message: pg.Notification): void => {
    if (message.channel === EVENTS_CHANNEL && message.payload) onJobId(message.payload);
  };
  // Listen before LISTEN returns so that nothing committed right after it is missed.
  client.on('notification', listener);
  try {
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
  } catch (error) {
    client.off('notification', listener);
    throw error;
  }
  return async () => {
    client.off('notification', listener);
    await client.query(`UNLISTEN ${EVENTS_CHANNEL}`);
  };
}
