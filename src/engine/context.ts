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

export const nowIso = (clock: Clock) => clock.now().toISOString();
