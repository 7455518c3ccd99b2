import type { Storage } from '../storage/blob-store.js';
import type { Clock, EventSink, Logger } from '../types.js';
import type { Exec } from './exec.js';

/** Everything an executor may use, passed explicitly (no globals, no process.env). */
export interface EngineContext {
  log: Logger;
  exec: Exec;
  storage: Storage;
  events: EventSink;
  signal: AbortSignal;
  clock: Clock;
}

export interface PgToolConfig {
  bin: string;
  osUser: string;
}

/** Connection facts from a postgres:// URL; the password only ever goes into a child's env. */
export interface SourceConnection {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
}

export function parseConnectionUrl(url: string): SourceConnection {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error('expected a postgres:// URL');
  }
  const host = parsed.searchParams.get('host') ?? (decodeURIComponent(parsed.hostname) || '/var/run/postgresql');
  const port = Number(parsed.searchParams.get('port') ?? (parsed.port || 5432));
  return {
    host,
    port,
    user: decodeURIComponent(parsed.username) || 'postgres',
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

export function pgClientConfig(conn: SourceConnection, database = conn.database) {
  return { host: conn.host, port: conn.port, user: conn.user, database, ...(conn.password ? { password: conn.password } : {}) };
}

export const nowIso = (clock: Clock) => clock.now().toISOString();
