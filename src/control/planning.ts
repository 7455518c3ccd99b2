/**
 * Planning hand-off between the bot and the runners. The bot files a request; a runner of
 * the request's pool computes the plan (it can read the backup catalog, the bot cannot) and
 * saves it, or records why it refused. A request that needs production's database host (an
 * in-place restore) is planned only by a runner there (`reach.databaseHost`). Both sides are woken by NOTIFY and also poll, so a
 * missed notification only delays, never loses, work.
 */
import type pg from 'pg';
import type { RecoverError } from '../errors.js';
import { queryRows, withTransaction, type Db, type Tx } from './db.js';
import { toRequest, type RequestRecord, type RequestRow } from './model.js';

export const REQUESTS_CHANNEL = 'recover_requests';
export const PLANS_CHANNEL = 'recover_plans';

/**
 * Runs `plan` for each request of the pool that has neither a plan nor a refusal yet. The
 * row stays locked (SKIP LOCKED for other runners) until its plan or refusal is saved in the
 * same transaction, so two runners never plan the same request.
 */
export async function planPendingRequests(
  db: pg.Pool,
  pool: string,
  reach: { databaseHost: boolean },
  plan: (tx: Tx, request: RequestRecord) => Promise<void>,
  limit = 10,
): Promise<number> {
  let handled = 0;
  for (let i = 0; i < limit; i++) {
    const done = await withTransaction(db, async (tx) => {
      const rows = await queryRows<RequestRow>(
        tx,
        `SELECT * FROM requests r
          WHERE r.pool = $1 AND r.status = 'pending' AND r.planning_error IS NULL
            AND (NOT r.needs_database_host OR $2)
            AND NOT EXISTS (SELECT 1 FROM plans p WHERE p.request_id = r.id)
          ORDER BY r.created_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [pool, reach.databaseHost],
      );
      if (rows.length === 0) return false;
      await plan(tx, toRequest(rows[0]!));
      return true;
    });
    if (!done) break;
    handled++;
  }
  return handled;
}

export async function savePlanningError(db: Db, requestId: string, error: RecoverError): Promise<void> {
  await queryRows(db, `UPDATE requests SET planning_error = $2::jsonb WHERE id = $1`, [
    requestId,
    JSON.stringify({ code: error.code, message: error.message, hint: error.hint ?? null }),
  ]);
}

/** LISTENs on a channel whose payload is an id; returns the unsubscribe function. */
export async function subscribeIds(client: pg.Client | pg.PoolClient, channel: string, onId: (id: string) => void): Promise<() => Promise<void>> {
  const listener = (message: pg.Notification) => {
    if (message.channel === channel && message.payload) onId(message.payload);
  };
  client.on('notification', listener);
  await client.query(`LISTEN ${channel}`);
  return async () => {
    client.off('notification', listener);
    await client.query(`UNLISTEN ${channel}`);
  };
}
