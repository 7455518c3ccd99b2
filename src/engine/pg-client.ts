/**
 * The one place that opens connections to a target PostgreSQL (production, a restored side
 * instance, a test cluster). A `pg.Client` emits 'error' when its server goes away while the
 * client sits idle between queries — exactly what happens when a restored server dies during
 * replay. Without a listener Node turns that event into an uncaught exception and the whole
 * runner (or CLI) dies, so every client made here has one: the failure then surfaces on the
 * next query, where the caller handles it.
 */
import pg from 'pg';
import { RecoverError } from '../errors.js';
import type { Logger } from '../types.js';
import { listDatabasesSql } from './sql.js';

export type TargetConnection = pg.ClientConfig;

/** Shown in pg_stat_activity, so people (and tests) can tell the tool's sessions apart. */
export const APPLICATION_NAME = 'recover-bot';

export function targetClient(connection: TargetConnection, log?: Logger): pg.Client {
  const client = new pg.Client({ application_name: APPLICATION_NAME, ...connection });
  client.on('error', (error: Error) => {
    // Reported through the next query's rejection; this only keeps the process alive.
    log?.debug({ err: error }, 'target PostgreSQL connection lost');
  });
  return client;
}

/**
 * DATABASE_NOT_FOUND (exit 3): `name` does not exist on `where` (e.g. "Production"); the
 * message names the databases that do, the hint one to use instead. Pure.
 */
export function databaseNotFound(name: string, existing: readonly string[], options: { where?: string; hint?: string; cause?: unknown } = {}): RecoverError {
  const shown = existing.length > 30 ? `${existing.slice(0, 30).join(', ')}, … (${existing.length} in all)` : existing.join(', ');
  const example = existing.find((db) => db !== 'postgres') ?? existing[0];
  const listed = existing.length > 0 ? `; its databases are: ${shown}` : '';
  return new RecoverError('DATABASE_NOT_FOUND', `${options.where ?? 'The server'} has no database ${name}${listed}.`, {
    hint: options.hint ?? (example ? `Give --db with the database that holds the table, e.g. --db ${example}.` : 'Give --db with the database that holds the table.'),
    ...(options.cause !== undefined ? { cause: options.cause } : {}),
  });
}

/** A connection refused with 3D000 (no such database), as DATABASE_NOT_FOUND naming the databases of that server (read through its `postgres` database when it can be). */
async function missingDatabase(connection: TargetConnection, error: unknown, log?: Logger): Promise<RecoverError> {
  const name = String(connection.database);
  const existing =
    name === 'postgres'
      ? []
      : await withTargetClient({ ...connection, database: 'postgres' }, async (client) => (await client.query<{ datname: string }>(listDatabasesSql)).rows.map((row) => row.datname), log).catch(() => []);
  return databaseNotFound(name, existing, { cause: error });
}

/**
 * Connects, runs `use`, and always closes the connection. A database the server does not
 * have is DATABASE_NOT_FOUND naming the ones it has, never a raw connection error: the one
 * place where PostgreSQL's 3D000 becomes a refusal, whatever command connects.
 */
export async function withTargetClient<T>(connection: TargetConnection, use: (client: pg.Client) => Promise<T>, log?: Logger): Promise<T> {
  const client = targetClient(connection, log);
  try {
    await client.connect().catch(async (error: unknown) => {
      throw (error as { code?: string }).code === '3D000' && connection.database ? await missingDatabase(connection, error, log) : error;
    });
    return await use(client);
  } finally {
    await client.end().catch((error: unknown) => log?.debug({ err: error }, 'closing a target PostgreSQL connection'));
  }
}

/**
 * A pool (the control database). An idle pooled client whose server restarts is reported on
 * the pool's 'error' event — the same crash without a listener; the next checkout reconnects.
 * A client that is checked out has no pool listener (pg-pool removes it at checkout): when the
 * server restarts under a transaction in progress, or under a connection kept for LISTEN, that
 * client emits 'error' itself. Every client the pool opens gets a listener of its own, so that
 * is never an uncaught exception either; the failure reaches the caller through its query.
 */
export function createPool(config: pg.PoolConfig, log?: Logger): pg.Pool {
  const pool = new pg.Pool({ application_name: APPLICATION_NAME, ...config });
  pool.on('error', (error: Error) => log?.warn({ err: error }, 'an idle database connection was lost; the next query reconnects'));
  pool.on('connect', (client: pg.PoolClient) => {
    client.on('error', (error: Error) => log?.debug({ err: error }, 'a database connection in use was lost; its query fails and the next one reconnects'));
  });
  return pool;
}
