/**
 * A base backup's id, its directory claimed before anything is uploaded (partial-upload.ts:
 * a failed upload's clean-up deletes its whole directory, so none is ever shared).
 */
import { RecoverError } from '../errors.js';
import { compactUtcStamp } from '../util/time.js';
import type { EngineContext } from './context.js';
import { claimUploadDirectory, releaseUploadClaim } from './partial-upload.js';

export function backupIdFor(time: Date): string {
  return compactUtcStamp(time);
}

const directoryOf = (ctx: EngineContext, id: string) => `${ctx.storage.backupPrefix}${id}/`;

/** Two backups in the same second get `<id>` and `<id>-2`: a directory with anything in it (any format, or an interrupted one) or claimed by another process is skipped. */
export async function unusedBackupId(ctx: EngineContext, base: string): Promise<string> {
  const body = Buffer.from(`${JSON.stringify({ pid: process.pid, at: ctx.clock.now().toISOString() })}\n`);
  for (let n = 1; n < 100; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    if (await claimUploadDirectory(ctx.storage.backups, directoryOf(ctx, id), body, ctx.signal, ctx.log)) return id;
  }
  throw new RecoverError('BACKUP_FAILED', `Too many base backups named ${base}-*.`, { hint: 'Wait a second and retry.' });
}

/** The claim has done its work once the manifest is written. */
export async function releaseBackupId(ctx: EngineContext, id: string): Promise<void> {
  await releaseUploadClaim(ctx.storage.backups, directoryOf(ctx, id), ctx.log);
}
