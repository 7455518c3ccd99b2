/**
 * Riding out a control DB that goes away for a while (a managed PostgreSQL's maintenance
 * restart, a failover): which errors mean "the server is not there right now" and are worth
 * trying again, the capped exponential backoff with jitter between tries, and the retry loop.
 *
 * Everything else (a RecoverError such as LEASE_LOST, a constraint violation, a syntax
 * error) is final: retrying it would only repeat it, or hide a bug.
 */
import { RecoverError } from '../errors.js';
import type { Logger } from '../types.js';

/** SQLSTATEs of a server that is restarting, full, or dropped us; and conflicts that succeed when run again. */
const TRANSIENT_SQLSTATE = /^(08[0-9A-Z]{3}|57P01|57P02|57P03|53300|40001|40P01)$/;

/** Node's socket errors when the server is down, restarting (its Unix socket is gone) or unreachable. */
const TRANSIENT_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ENOTCONN']);

/** node-postgres's own words for a connection that ended or never came up. */
const TRANSIENT_MESSAGES = /Connection terminated|is not queryable|timeout exceeded when trying to connect|connection timeout|Query read timeout/i;

/** True when `error` says the control DB is unreachable or restarting (or a retryable conflict). */
export function isTransientDbError(error: unknown, depth = 0): boolean {
  if (depth > 5 || error === null || typeof error !== 'object') return false;
  if (error instanceof RecoverError) return false;
  const { code, syscall, message, cause, errors } = error as { code?: unknown; syscall?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') {
    if (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_SOCKET_CODES.has(code)) return true;
    // A Unix socket that is not there (yet): the server is stopped or between stop and start.
    if (code === 'ENOENT' && syscall === 'connect') return true;
  }
  if (typeof message === 'string' && TRANSIENT_MESSAGES.test(message)) return true;
  // Node reports a failed connection to every address of a name as one AggregateError.
  if (Array.isArray(errors) && errors.length > 0 && errors.every((inner) => isTransientDbError(inner, depth + 1))) return true;
  return cause !== undefined && isTransientDbError(cause, depth + 1);
}

export interface Backoff {
  /** The first wait. */
  baseMs: number;
  /** No wait is longer. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 250, maxMs: 10_000 };

/**
 * The wait before try `attempt + 1` (attempt 0 is the first retry): base·2^attempt capped at
 * max, of which a random half is dropped, so that every runner and bot that lost the same
 * server do not all come back in the same millisecond.
 */
export function backoffDelay(attempt: number, backoff: Backoff = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(1, Math.max(0, random())));
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryOptions {
  /** What is being written, for the log ("record job events", "finish the job"). */
  what: string;
  log: Logger;
  /** Stops retrying (the last error is thrown): the process is shutting down. */
  signal?: AbortSignal;
  backoff?: Backoff;
  random?: () => number;
  /** Gives up (throws the last error) once this long has passed without success; default never. */
  giveUpAfterMs?: number;
  /** Called before each wait with the failure and the wait, e.g. to say the control DB is away. */
  onRetry?: (error: unknown, waitMs: number, attempt: number) => void;
}

/**
 * Runs `work` until it succeeds, waiting with backoff after each transient failure. `work`
 * must be safe to run again after a failure whose commit may have happened (the reply was
 * lost): idempotent writes only.
 */
export async function retryTransient<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await work();
      if (attempt > 0) options.log.info({ attempts: attempt + 1 }, `control DB reachable again: ${options.what} done`);
      return result;
    } catch (error) {
      if (!isTransientDbError(error) || options.signal?.aborted) throw error;
      if (options.giveUpAfterMs !== undefined && Date.now() - started >= options.giveUpAfterMs) throw error;
      const waitMs = backoffDelay(attempt, options.backoff, options.random);
      options.onRetry?.(error, waitMs, attempt);
      // Once, then quietly every tenth try: an outage of minutes must not flood the log.
      if (attempt % 10 === 0) options.log.warn({ err: error, attempt: attempt + 1, waitMs }, `control DB unreachable; will ${options.what} when it is back`);
      try {
        await delay(waitMs, options.signal);
      } catch {
        throw error;
      }
    }
  }
}
