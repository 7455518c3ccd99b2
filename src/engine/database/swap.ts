/**
 * Plan 2 of /recover database: the runbook's rename swap on production. The facts the plan was
 * approved on are checked again: both databases' oids, and recover-bot's own record that it
 * made the copy, of this very oid, and verified it (copy-records.ts; the record the plan was
 * approved with — never a comment on production, which anyone could write); connections to both
 * databases are refused and their sessions ended; then, in ONE transaction, `<db>` becomes
 * `<db>_before_<stamp>` and the copy becomes `<db>`; connections are allowed again on both.
 * The old database is kept, never dropped. On a failure the transaction rolls back (names as
 * they were), connections are allowed again, and the error says which state production is in.
 * Steps: check-swap, swap.
 */
import type pg from 'pg';
import { RecoverError } from '../../errors.js';
import { pgClientConfig } from '../../util/connection-url.js';
import type { EngineContext } from '../context.js';
import { withTargetClient } from '../pg-client.js';
import { step, type RestoreConfig } from '../restore-to-target.js';
import { requireTargetDatabases } from '../targets/guard.js';
import { readDatabaseFacts, sourceOf } from './copy.js';
import { recordedCopyCheck, recordedCopyHint, type CopyRecord, type CopyRecords } from './copy-records.js';
import { allowConnectionsSql, openSessionsSql, renameDatabaseSql, terminateSessionsSql, type DatabaseFacts } from './sql.js';

export interface SwapRequest {
  database: string;
  restoredName: string;
  beforeName: string;
  /** The oids read when the swap was planned (bound to the approved digest). */
  databaseOid: string;
  restoredOid: string;
  /** The copy's record the swap was approved with (copy-records.ts): the copy job's id, or the CLI's id. */
  copyId: string;
}

export interface SwapFacts {
  original: DatabaseFacts | null;
  restored: DatabaseFacts | null;
  beforeTaken: boolean;
}

export interface Swapped {
  database: string;
  restoredName: string;
  beforeName: string;
  sessionsEnded: number;
}

/** Both databases as production has them now, and whether the name for the old one is taken. */
export async function readSwapFacts(config: Pick<RestoreConfig, 'source'>, names: { database: string; restoredName: string; beforeName: string }): Promise<SwapFacts> {
  const production = pgClientConfig(sourceOf(config), 'postgres');
  const [original, restored, before] = await Promise.all([names.database, names.restoredName, names.beforeName].map((name) => readDatabaseFacts(production, name)));
  return { original: original ?? null, restored: restored ?? null, beforeTaken: before !== null };
}

/** Why a swap cannot go ahead with these facts, or null. Pure: used at planning and again in the job. */
export function swapRefusal(facts: SwapFacts, names: { database: string; restoredName: string; beforeName: string }): string | null {
  if (!facts.restored) return `The restored database ${names.restoredName} does not exist on production.`;
  if (!facts.original) return `Database ${names.database} does not exist on production; nothing to swap (rename ${names.restoredName} by hand if that is what you want).`;
  if (facts.beforeTaken) return `A database named ${names.beforeName} already exists; plan the swap again for a new name.`;
  return null;
}

/**
 * recover-bot's own record, checked by the job right before a swap or rename: it made this very
 * database (same oid) and verified it, and it is the record the plan was approved with;
 * otherwise COPY_UNVERIFIED (`hint`: what to do instead).
 */
export async function requireApprovedCopy(copies: CopyRecords, names: { database: string; restoredName: string }, now: { restoredOid: string; copyId: string }, hint: string): Promise<CopyRecord> {
  const check = recordedCopyCheck(await copies.find(names), { restoredOid: now.restoredOid }, names, copies.where);
  if (!check.ok) throw new RecoverError('COPY_UNVERIFIED', check.reason, { hint });
  if (check.record.copyId !== now.copyId) {
    throw new RecoverError('COPY_UNVERIFIED', `${names.restoredName} is recorded as copy ${check.record.copyId}, not as copy ${now.copyId} the swap was approved for; nothing was changed.`, { hint: 'Plan the swap again and approve what it shows.' });
  }
  return check.record;
}

/** Ends the sessions of the databases until none is left (new ones are refused meanwhile). */
export async function drain(client: pg.Client, names: string[], signal: AbortSignal): Promise<number> {
  let ended = 0;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (signal.aborted) throw new RecoverError('CANCELLED', 'The swap was cancelled while ending sessions.');
    ended += Number((await client.query(terminateSessionsSql, [names])).rows[0].terminated);
    if (Number((await client.query(openSessionsSql, [names])).rows[0].open) === 0) return ended;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new RecoverError('COMMAND_FAILED', `Sessions on ${names.join(' and ')} did not end after pg_terminate_backend.`, { hint: 'Check pg_stat_activity for sessions that do not end.' });
}

export async function swapDatabases(ctx: EngineContext, config: Pick<RestoreConfig, 'source'>, request: SwapRequest & { copies: CopyRecords; beforeDestructiveStep: (step: string) => Promise<void> }): Promise<Swapped> {
  const { database, restoredName, beforeName } = request;
  const finishCheck = step(ctx, 'check-swap', `Check ${restoredName} and ${database} are the approved ones`);
  // Never template0, template1, postgres nor another template, on either side (engine/targets).
  await requireTargetDatabases(pgClientConfig(sourceOf(config), 'postgres'), [database, restoredName], 'swap');
  const facts = await readSwapFacts(config, request);
  const refusal = swapRefusal(facts, request);
  if (refusal) throw new RecoverError('COMMAND_FAILED', refusal, { hint: 'Nothing was changed.' });
  if (facts.original!.oid !== request.databaseOid || facts.restored!.oid !== request.restoredOid) {
    throw new RecoverError('COMMAND_FAILED', `${database} or ${restoredName} is not the database the swap was approved for (it was re-created since); nothing was changed.`, { hint: 'Plan the swap again and approve what it shows.' });
  }
  const record = await requireApprovedCopy(request.copies, { database, restoredName }, { restoredOid: facts.restored!.oid, copyId: request.copyId }, `Nothing was changed. ${recordedCopyHint(database)}`);
  finishCheck(`${restoredName} (${(facts.restored!.bytes / 1e6).toFixed(1)} MB, copy ${record.copyId}, verified) will replace ${database}`);

  await request.beforeDestructiveStep('swap');
  const finishSwap = step(ctx, 'swap', `Swap: ${database} → ${beforeName}, ${restoredName} → ${database}`);
  return withTargetClient(pgClientConfig(sourceOf(config), 'postgres'), async (client) => {
    let renamed = false;
    try {
      await client.query(allowConnectionsSql(database, false));
      await client.query(allowConnectionsSql(restoredName, false));
      const sessionsEnded = await drain(client, [database, restoredName], ctx.signal);
      await client.query('BEGIN');
      await client.query(renameDatabaseSql(database, beforeName));
      await client.query(renameDatabaseSql(restoredName, database));
      await client.query('COMMIT');
      renamed = true;
      await client.query(allowConnectionsSql(database, true));
      await client.query(allowConnectionsSql(beforeName, true));
      finishSwap(`${sessionsEnded} sessions ended; ${database} is the restored copy, the old one kept as ${beforeName}`);
      return { database, restoredName, beforeName, sessionsEnded };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      // Names after the failure: the renames happen in one transaction, so either both or none.
      const names = renamed ? [database, beforeName] : [database, restoredName];
      const reopened: string[] = [];
      for (const name of names) {
        try {
          await client.query(allowConnectionsSql(name, true));
          reopened.push(name);
        } catch (reopenError) {
          ctx.log.error({ err: reopenError }, `could not allow connections to ${name} again`);
        }
      }
      const closed = names.filter((name) => !reopened.includes(name));
      const state = renamed
        ? `The swap itself was done (${database} is the restored copy, the old one is ${beforeName})`
        : `Nothing was renamed: ${database} and ${restoredName} keep their names`;
      throw new RecoverError('COMMAND_FAILED', `The swap failed: ${(error as Error).message}. ${state}; connections are allowed again on ${reopened.join(' and ') || 'neither'}${closed.length ? `, still REFUSED on ${closed.join(' and ')}` : ''}.`, {
        hint: closed.length
          ? `Allow them by hand: ${closed.map((name) => `${allowConnectionsSql(name, true)};`).join(' ')}`
          : renamed ? `Check ${database} (the restored copy) answers; the old database is ${beforeName}.` : 'Production is as it was before the swap; plan it again when the cause is fixed.',
        cause: error,
      });
    }
  });
}
