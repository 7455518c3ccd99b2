/**
 * A base backup's id and its directory, claimed before anything is uploaded (backup.ts).
 */
import { RecoverError } from '../errors.js';
import { BlobExistsError } from '../storage/blob-store.js';
import { compactUtcStamp } from '../util/time.js';
import type { EngineContext } from './context.js';

export function backupIdFor(time: Date): string {
  return compactUtcStamp(time);
}

async function directoryTaken(ctx: EngineContext, id: string): Promise<boolean> {
  for await (const _blob of ctx.storage.backups.list(`${ctx.storage.backupPrefix}${id}/`)) return true;
  return false;
}

const claimKeyOf = (ctx: EngineContext, id: string) => `${ctx.storage.backupPrefix}${id}/claim`;

/**
 * Two backups in the same second must not share a directory, whatever is in it (any format, or
 * an interrupted one): a failed upload's clean-up deletes its whole directory. Claimed with a
 * create-only `claim` blob, so two processes (the CLI beside the schedule) cannot both take it
 * between a look and the first upload; the claim goes once the manifest is written.
 */
export async function unusedBackupId(ctx: EngineContext, base: string): Promise<string> {
  for (let n = 1; n < 100; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    if (await directoryTaken(ctx, id)) continue;
    try {
      await ctx.storage.backups.put(claimKeyOf(ctx, id), Buffer.from(`${JSON.stringify({ pid: process.pid, at: ctx.clock.now().toISOString() })}\n`), { ifNotExists: true, signal: ctx.signal });
      return id;
    } catch (error) {
      if (!(error instanceof BlobExistsError)) throw error;
    }
  }
  throw new RecoverError('BACKUP_FAILED', `Too many base backups named ${base}-*.`, { hint: 'Wait a second and retry.' });
}

/** The claim has done its work once the manifest is written; one left behind is harmless (removed with the backup). */
export async function releaseBackupId(ctx: EngineContext, id: string): Promise<void> {
  await ctx.storage.backups.delete(claimKeyOf(ctx, id)).catch((error: unknown) => ctx.log.warn({ err: error, id }, 'could not remove the backup directory claim; harmless, removed with the backup'));
}
