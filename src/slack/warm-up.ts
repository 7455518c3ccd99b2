/**
 * What the bot does at start-up, before it says it is ready, so that the first commands
 * after a (re)start are acknowledged as fast as later ones. In an incident everyone types
 * at once, often right after someone restarted the bot; measured with `npm run bench:ack`,
 * those first acks waited on work that only the first requests would otherwise pay for:
 *
 * - opening control-DB connections (the pool opens them lazily, under the burst);
 * - compiling code on first use: the zod schemas of the commands, Block Kit builders, the
 *   control-DB queries of the request path, Bolt's dispatch, the HTTP receiver (the last one
 *   is warmed by FastAckReceiver.warmUp with a signed request to itself).
 *
 * Failure policy. The control DB is required: without it every request is refused (the
 * replay check fails closed), so a connection or query failure here is a start-up error that
 * names RECOVER_CONTROL_URL. Warming pure code cannot fail on reachable resources; if it
 * throws anyway (a broken example is a bug) it is logged and the bot starts, because the same
 * code answers a real request with a proper error message.
 */
import type pg from 'pg';
import { COMMANDS, tokenize } from '../../commands/index.js';
import { firstSeenRequest, getRequest, listJobs, withTransaction } from '../control/index.js';
import { RecoverError } from '../errors.js';
import type { Logger } from '../types.js';
import { isChannelAllowed } from './listeners/guards.js';
import { channelRefusalMessage, commandErrorMessage, failureMessage, helpMessage, notice, unknownCommandMessage } from './views/help.js';
import { planningMessage } from './views/plan.js';
import { jobsListMessage } from './views/status.js';

/** Without a setting: every connection of the pool but the one the LISTEN connection holds. */
export function warmConnectionCount(pool: pg.Pool, asked?: number): number {
  const max = pool.options.max ?? 10;
  const count = asked ?? max - 1;
  return Math.max(0, Math.min(count, max - 1));
}

/** The start-up error for a control DB the bot cannot use; `what` is e.g. 'connect to'. */
export function controlDbFailure(what: string, error: unknown): RecoverError {
  const reason = error instanceof Error ? error.message : String(error);
  return new RecoverError('INTERNAL', `recover-bot could not ${what} its control DB at start-up (${reason}), so it did not start.`, {
    hint: 'Check that RECOVER_CONTROL_URL points at the running control database and that it accepts this many connections from this host; then start the bot again.',
    cause: error,
  });
}

/**
 * Opens `count` pooled connections at once, runs `SELECT 1` on each, and hands them back to
 * the pool idle. Keeping them open is the pool's job (`min`); see controlPool in the CLI.
 */
export async function openConnections(pool: pg.Pool, count: number): Promise<void> {
  const clients: pg.PoolClient[] = [];
  const results = await Promise.allSettled(
    Array.from({ length: count }, async () => {
      const client = await pool.connect();
      clients.push(client);
      await client.query('SELECT 1');
    }),
  );
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  for (const client of clients) client.release(failure ? true : undefined);
  if (failure) throw controlDbFailure(`open ${count} connection${count === 1 ? '' : 's'} to`, failure.reason);
}

/** Raised inside the warm-up transaction so that it rolls back. */
class RollBack extends Error {}

/**
 * Runs the queries of the request path once, changing nothing: the replay check
 * (firstSeenRequest, inside a transaction that is rolled back) and the reads behind
 * `/recover status`.
 */
export async function warmControlQueries(pool: pg.Pool): Promise<void> {
  try {
    await withTransaction(pool, async (tx) => {
      await firstSeenRequest(tx, `warm-up:${process.pid}:${Date.now()}`);
      throw new RollBack('warm-up: roll back');
    });
  } catch (error) {
    if (!(error instanceof RollBack)) throw controlDbFailure('query', error);
  }
  try {
    await listJobs(pool, { recentLimit: 1 });
    await getRequest(pool, '00000000-0000-0000-0000-000000000000');
  } catch (error) {
    throw controlDbFailure('query', error);
  }
}

/**
 * Parses every command's own example and builds the messages a command is answered with,
 * once. Pure; a failure is a bug, logged, not a reason to stay down.
 */
export function warmPureCode(log: Logger, allowedChannels: readonly string[]): void {
  try {
    isChannelAllowed({ id: 'C0WARMUP', name: 'warm-up' }, allowedChannels);
    for (const command of COMMANDS) {
      const words = tokenize(command.example).slice(1);
      try {
        command.parse(words.slice(1));
      } catch (error) {
        if (!(error instanceof RecoverError)) throw error;
        commandErrorMessage(error, command);
      }
    }
    helpMessage(COMMANDS);
    unknownCommandMessage('warm-up', COMMANDS);
    channelRefusalMessage('warm-up', allowedChannels);
    planningMessage({ commandText: 'pitr 2025-01-15T14:29:59+00:00', requesterId: 'U0WARMUP', pool: 'default' });
    failureMessage('Warming up', new RecoverError('INTERNAL', 'warm-up'));
    notice('warm-up');
    jobsListMessage([]);
  } catch (error) {
    log.warn({ err: error }, 'start-up warm-up of the command parsers and messages failed; the first commands may be slower');
  }
}

/**
 * Socket Mode has no HTTP receiver to send a request to; this at least loads `fetch` (used by
 * `respond()`), whose first call costs ~100 ms of CPU, with a request that leaves the process
 * for nowhere. Logged, never fatal.
 */
export async function warmFetch(log: Logger): Promise<void> {
  try {
    await (await fetch('data:,warm-up')).arrayBuffer();
  } catch (error) {
    log.warn({ err: error }, 'start-up warm-up of fetch failed; the first replies may be slower');
  }
}
