/**
 * What a failed upload leaves behind (a base backup's parts, a dump's files): removed at once, so
 * storage holds no debris. The upload's manifest is always written last, so whatever is left
 * when removal fails is a directory without a manifest: never listed as usable or offered for a
 * restore, and removed later by retention (base backups: `recover expire`; dumps: the scheduled
 * dump's cleanup, engine/dumps/retention.ts). The original failure is never hidden by a failed
 * removal: the error thrown is the upload's, and its message says what stayed behind.
 *
 * Because that clean-up deletes its whole directory, an upload first claims the directory
 * (`claimUploadDirectory`): two uploads named for the same second (the CLI beside the schedule)
 * must never share one, or the loser's clean-up deletes the winner's complete backup or dump.
 */
import { RecoverError, toRecoverError } from '../errors.js';
import { BlobExistsError, listAll, type BlobStore } from '../storage/blob-store.js';
import type { Logger } from '../types.js';

/** Deletes every blob under `prefix`; null when all went, else why removal stopped (and how many went before). */
export async function removePartialUpload(store: BlobStore, prefix: string, log: Logger): Promise<{ removed: number; failure: RecoverError | null }> {
  let removed = 0;
  try {
    // A manifest first (a put that failed may still have landed): the rest is then never offered.
    const blobs = (await listAll(store, prefix)).sort((a, b) => Number(b.key.endsWith('/manifest.json')) - Number(a.key.endsWith('/manifest.json')));
    for (const blob of blobs) {
      await store.delete(blob.key);
      removed++;
    }
    if (removed > 0) log.info({ prefix, removed }, 'removed the blobs of a failed upload');
    return { removed, failure: null };
  } catch (error) {
    const failure = toRecoverError(error, 'STORAGE_ERROR');
    log.error({ err: error, prefix, removed }, 'could not remove the blobs of a failed upload');
    return { removed, failure };
  }
}

/**
 * The upload's failure with what removal did: the hint says the partial upload was deleted, or
 * the message names the leftover directory, why it is harmless and what removes it. Same code.
 */
export function afterRemoval(failure: RecoverError, removal: { removed: number; failure: RecoverError | null }, what: { where: string; cleanedBy: string }): RecoverError {
  if (!removal.failure) {
    if (removal.removed === 0) return failure;
    const hint = `${failure.hint ? `${failure.hint} ` : ''}The partial upload ${what.where} was deleted.`;
    return new RecoverError(failure.code, failure.message, { hint, cause: failure.cause ?? failure });
  }
  const note = `Its partial upload ${what.where} could not be removed (${removal.failure.message}); it has no manifest, so it is never listed as usable or restored, and ${what.cleanedBy} removes it.`;
  return new RecoverError(failure.code, `${failure.message} ${note}`, { ...(failure.hint ? { hint: failure.hint } : {}), cause: failure.cause ?? failure });
}

/** The blob that marks an upload's directory as taken, until its manifest is written. */
export const UPLOAD_CLAIM = 'claim';

/**
 * Claims `prefix` (a directory, ending in `/`) for one upload: it must be empty, then a
 * create-only `claim` blob is written (the store refuses an existing one atomically), then it
 * must hold nothing else (a writer that does not claim, or one that raced the first look). False,
 * with nothing of ours left there, when another upload has it.
 */
export async function claimUploadDirectory(store: BlobStore, prefix: string, body: Buffer, signal: AbortSignal, log: Logger): Promise<boolean> {
  if ((await listAll(store, prefix)).length > 0) return false;
  try {
    await store.put(`${prefix}${UPLOAD_CLAIM}`, body, { ifNotExists: true, signal });
  } catch (error) {
    if (error instanceof BlobExistsError) return false;
    throw error;
  }
  if ((await listAll(store, prefix)).some((blob) => blob.key !== `${prefix}${UPLOAD_CLAIM}`)) {
    await releaseUploadClaim(store, prefix, log);
    return false;
  }
  return true;
}

/** Gives the directory's claim back (best effort: one left behind is a directory without a manifest, which retention removes). */
export async function releaseUploadClaim(store: BlobStore, prefix: string, log: Logger): Promise<void> {
  await store.delete(`${prefix}${UPLOAD_CLAIM}`).catch((error: unknown) => log.warn({ err: error, prefix }, 'could not remove an upload directory claim; retention removes it with the directory'));
}
