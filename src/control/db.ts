/**
 * How the control-DB modules talk to PostgreSQL. Every repository function takes a `Db`
 * explicitly: either a pool (the function opens its own transaction where it needs one) or
 * a `Tx` from `withTransaction` (it joins the caller's transaction, so several writes and
 * their audit entry commit together or not at all).
 */
import type pg from 'pg';
import { RecoverError } from '../errors.js';

/** A client inside BEGIN … COMMIT, owned by `withTransaction`. READ COMMITTED is assumed. */
export class Tx {
  constructor(readonly client: pg.PoolClient) {}

  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.client.query<R>(text, values);
  }
}

export type Db = pg.Pool | Tx;

export async function queryRows<R extends pg.QueryResultRow>(
  db: Db,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  // Same call either way; pg.Pool's overloaded query does not unify with Tx.query in a union.
  const result = db instanceof Tx ? await db.query<R>(text, values) : await db.query<R>(text, values);
  return result.rows;
}

/** The single row a statement must return; its absence is a bug, not a user error. */
export async function queryOne<R extends pg.QueryResultRow>(
  db: Db,
  text: string,
  values: unknown[] = [],
): Promise<R> {
  const [row] = await queryRows<R>(db, text, values);
  if (!row) throw new RecoverError('INTERNAL', `Control DB returned no row for: ${text.slice(0, 80)}`);
  return row;
}

export async function queryMaybeOne<R extends pg.QueryResultRow>(
  db: Db,
  text: string,
  values: unknown[] = [],
): Promise<R | undefined> {
  const [row] = await queryRows<R>(db, text, values);
  return row;
}

/**
 * Runs `work` in a transaction. Given a `Tx`, it joins it instead of nesting: the caller
 * owns commit and rollback, and an error still propagates to that caller.
 */
export async function withTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  if (db instanceof Tx) return work(db);
  const client = await db.connect();
  let brokenConnection: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(new Tx(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // The connection is in an unknown state; release(error) destroys it instead of
      // handing it to the next caller.
      brokenConnection = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw error;
  } finally {
    client.release(brokenConnection);
  }
}

/**
 * Advisory-lock namespaces (first key of the two-key form), so that our locks cannot
 * collide with each other or with another application's one-key locks on the same DB.
 */
export const LOCK_NAMESPACE = {
  schemaMigration: 72_731_001,
  auditChain: 72_731_002,
  jobEvents: 72_731_003,
} as const;

/** pg returns int8 as text; ids we expose as numbers must stay exact. */
export function safeInteger(value: string | number, what: string): number {
  const parsed = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(parsed)) {
    throw new RecoverError('INTERNAL', `Control DB ${what} ${String(value)} is not a safe integer.`);
  }
  return parsed;
}
