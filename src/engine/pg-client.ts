/**
 * The one place that opens connections to a target PostgreSQL (production, a restored side
 * instance, a test cluster). A `pg.Client` emits 'error' when its server goes away while the
 * client sits idle between queries — exactly what happens when a restored server dies during
 * replay. Without a listener Node turns that event into an uncaught exception and the whole
 * runner (or CLI) dies, so every client made here has one: the failure then surfaces on the
 * next query, where the caller handles it.
 */
import pg from 'pg';
import type { Logger } from '../types.js';

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

/** Connects, runs `use`, and always closes the connection. */
export async function withTargetClient<T>(connection: TargetConnection, use: (client: pg.Client) => Promise<T>, log?: Logger): Promise<T> {
  const client = targetClient(connection, log);
  try {
    await client.connect();
    return await use(client);
  } finally {
    await client.end().catch((error: unknown) => log?.debug({ err: error }, 'closing a target PostgreSQL connection'));
  }
}

/**
 * A pool (the control database). An idle pooled client whose server restarts is reported on
 * the pool's 'error' event — the same crash without a listener; the next checkout reconnects.
 */
export function createPool(config: pg.PoolConfig, log?: Logger): pg.Pool {
  const pool = new pg.Pool({ application_name: APPLICATION_NAME, ...config });
  pool.on('error', (error: Error) => log?.warn({ err: error }, 'an idle database connection was lost; the next query reconnects'));
  return pool;
}
