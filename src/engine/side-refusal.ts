/**
 * Exit 2 and 3 promise "nothing ran". A refusal that can only be decided once a side instance
 * was restored (the side copy has no such database at the target time, its table has no
 * primary key or another shape…) comes after a restore did run: it becomes
 * REFUSED_AFTER_RESTORE (exit 1), keeping the refusal's words and saying that the side
 * instance is kept, running, and where. Everything that can be checked on production's
 * catalog is refused at planning instead, before anything is restored.
 */
import { EXIT, exitCodeFor, RecoverError } from '../errors.js';
import type { SideInstanceFacts } from './restore-to-target.js';

/** The error to report for `error`, thrown after the side instance `side` was restored. Pure. */
export function afterRestore(error: unknown, side: Pick<SideInstanceFacts, 'instanceName' | 'dataDir' | 'connect'>): unknown {
  if (!(error instanceof RecoverError) || exitCodeFor(error.code) === EXIT.failed) return error;
  const message = error.message.replace(/ Nothing was (restored|written|restored or written)\.$/, '');
  return new RecoverError('REFUSED_AFTER_RESTORE', `${message} (${error.code}, found in the side copy after its restore; nothing was written to production.) The side instance ${side.instanceName} is kept, running: ${side.connect}.`, {
    hint: `${error.hint ? `${error.hint}\n` : ''}Look at it with the psql line above; when done, stop it (pg_ctl stop -D ${side.dataDir}) and remove its directory.`,
    cause: error,
  });
}

/** Runs the work that follows a side restore; a refusal in it is reported by `afterRestore`. */
export async function afterSideRestore<T>(side: Pick<SideInstanceFacts, 'instanceName' | 'dataDir' | 'connect'>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw afterRestore(error, side);
  }
}
