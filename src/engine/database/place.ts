/**
 * The swap's other half alone: a verified copy renamed to `<db>` on a server that has no `<db>`
 * (a rebuilt primary after a regional disaster: nothing there to keep aside). The same checks as
 * swap.ts, made again in the job: `<db>` still absent, the copy the very database (oid) the plan
 * recorded and verified, the approval re-checked before the rename; connections to the copy
 * refused and its sessions ended; then `ALTER DATABASE … RENAME`; connections allowed again.
 * Steps: check-swap, swap.
 */
import { RecoverError } from '../../errors.js';
import { pgClientConfig } from '../../util/connection-url.js';
import type { EngineContext } from '../context.js';
import { withTargetClient } from '../pg-client.js';
import { step, type RestoreConfig } from '../restore-to-target.js';
import { requireTargetDatabases } from '../targets/guard.js';
import { readDatabaseFacts, sourceOf } from './copy.js';
import type { CopyRecords } from './copy-records.js';
import { allowConnectionsSql, renameDatabaseSql } from './sql.js';
import { drain, requireApprovedCopy } from './swap.js';

export interface PlaceRequest {
  database: string;
  restoredName: string;
  restoredOid: string;
  copyId: string;
  copies: CopyRecords;
  beforeDestructiveStep: (step: string) => Promise<void>;
}

export interface Placed {
  database: string;
  restoredName: string;
  sessionsEnded: number;
}

export async function placeDatabase(ctx: EngineContext, config: Pick<RestoreConfig, 'source'>, request: PlaceRequest): Promise<Placed> {
  const { database, restoredName } = request;
  const server = pgClientConfig(sourceOf(config), 'postgres');
  const finishCheck = step(ctx, 'check-swap', `Check ${database} is still absent and ${restoredName} is the approved, verified copy`);
  await requireTargetDatabases(server, [database, restoredName], 'swap');
  const [original, restored] = await Promise.all([readDatabaseFacts(server, database), readDatabaseFacts(server, restoredName)]);
  if (original) {
    throw new RecoverError('COMMAND_FAILED', `${database} exists now (oid ${original.oid}); it did not when this was planned, and it is never replaced without a plan that says so. Nothing was renamed; ${restoredName} is kept.`, { hint: `Find out who created ${database}; plan the failback again to swap instead.` });
  }
  if (restored?.oid !== request.restoredOid) {
    throw new RecoverError('COMMAND_FAILED', `${restoredName} is not the database this job restored and verified (it was dropped or re-created since); nothing was renamed.`, { hint: 'Plan the failback again.' });
  }
  const record = await requireApprovedCopy(request.copies, { database, restoredName }, { restoredOid: restored.oid, copyId: request.copyId }, 'Nothing was renamed. Plan the failback again.');
  finishCheck(`${restoredName} (${(restored.bytes / 1e6).toFixed(1)} MB, copy ${record.copyId}, verified) becomes ${database}; there is no ${database} to keep aside`);

  await request.beforeDestructiveStep('swap');
  const finishRename = step(ctx, 'swap', `Rename ${restoredName} → ${database}`);
  return withTargetClient(server, async (client) => {
    let renamed = false;
    try {
      await client.query(allowConnectionsSql(restoredName, false));
      const sessionsEnded = await drain(client, [restoredName], ctx.signal);
      await client.query(renameDatabaseSql(restoredName, database));
      renamed = true;
      await client.query(allowConnectionsSql(database, true));
      finishRename(`${sessionsEnded} sessions ended; ${database} is the restored copy`);
      return { database, restoredName, sessionsEnded };
    } catch (error) {
      const name = renamed ? database : restoredName;
      const reopened = await client.query(allowConnectionsSql(name, true)).then(() => true, () => false);
      throw new RecoverError('COMMAND_FAILED', `The rename failed: ${(error as Error).message}. ${renamed ? `${database} is the restored copy` : `Nothing was renamed: ${restoredName} keeps its name`}; connections ${reopened ? 'are allowed again' : 'are still REFUSED'} on ${name}.`, {
        hint: !reopened ? `Allow them by hand: ${allowConnectionsSql(name, true)};` : renamed ? `Check ${database} (the restored copy) answers.` : `Rename it by hand when the cause is fixed: ${renameDatabaseSql(restoredName, database)};`,
        cause: error,
      });
    }
  });
}
