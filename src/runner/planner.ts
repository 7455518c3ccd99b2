/**
 * Planning on the runner: for each new request of this pool, read the facts (the backup
 * catalog) and compute the command's plan, or record a refusal the bot will show as is.
 */
import { readdir } from 'node:fs/promises';
import type pg from 'pg';
import { findCommand } from '../../commands/index.js';
import type { PlanCheckContext } from '../../commands/types.js';
import { planPendingRequests, savePlan, savePlanningError } from '../control/index.js';
import { RecoverError, toRecoverError } from '../errors.js';
import { readCatalog } from '../engine/read-catalog.js';
import type { Storage } from '../storage/blob-store.js';
import type { Clock, Logger } from '../types.js';

export interface PlannerDeps {
  control: pg.Pool;
  storage: Storage;
  pool: string;
  productionName: string;
  /** Where side instances are created (RECOVER_RESTORE_ROOT): the names in use are read there. */
  restoreRoot: string;
  clock: Clock;
  log: Logger;
  /** For commands' precheck (reading WAL with pg_waldump); without it only plan() runs. */
  check?: PlanCheckContext;
}

/** Names taken under the restore root (every entry counts: a file or symlink blocks the name too). */
export async function listInstances(restoreRoot: string): Promise<string[]> {
  try {
    return await readdir(restoreRoot);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new RecoverError('CONFIG_INVALID', `Cannot read the restore root ${restoreRoot}: ${(error as Error).message}`, {
      hint: 'Check RECOVER_RESTORE_ROOT: it must be a directory the runner can read.',
      cause: error,
    });
  }
}

export async function planPending(deps: PlannerDeps): Promise<number> {
  return planPendingRequests(deps.control, deps.pool, async (tx, request) => {
    try {
      const command = findCommand(request.command);
      if (!command?.plan) {
        throw new RecoverError('BAD_INPUT', `This runner cannot plan "${request.command}".`, { hint: 'Run /recover help for the commands that exist.' });
      }
      // The args were validated by the bot; the runner validates again, trusting nothing it did not check.
      const parsed = command.schema.safeParse(request.args);
      if (!parsed.success) throw new RecoverError('BAD_INPUT', `The request's arguments are not valid: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
      const now = deps.clock.now();
      const catalog = await readCatalog(deps.storage, now);
      const instancesInUse = await listInstances(deps.restoreRoot);
      const facts = { catalog, now, production: { name: deps.productionName }, requestId: request.id, instancesInUse };
      if (deps.check) await command.precheck?.(deps.check, parsed.data, facts);
      const plan = command.plan(parsed.data, facts);
      await savePlan(tx, { requestId: request.id, plan, actor: 'runner' });
      deps.log.info({ requestId: request.id, command: request.command }, 'planned');
    } catch (error) {
      const refusal = toRecoverError(error);
      deps.log.info({ requestId: request.id, code: refusal.code }, `planning refused: ${refusal.message}`);
      await savePlanningError(tx, request.id, refusal);
    }
  });
}
