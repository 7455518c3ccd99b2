/**
 * `recover expire` and the runner's schedule: read the catalog, plan retention (plan.ts), and
 * delete what the plan lets go, in an order that leaves storage consistent wherever it stops
 * (a crash, a refused delete, a cancel):
 * 1. expired backups, oldest first, each by its manifest FIRST (a backup without one is never
 *    listed as restorable, so a half-deleted backup is never chosen), then its parts;
 * 2. interrupted uploads (no manifest), checked again just before;
 * 3. WAL last and oldest first: a backup is gone before the WAL it needed, and what stays is
 *    one unbroken range per timeline.
 * Running it again continues where it stopped. Deletes go through the storage abstraction, so a
 * refusal (an Azure immutability policy, a legal hold, a missing permission) stops here with
 * the storage layer's message and what had been deleted before it.
 */
import { manifestKey } from '../../catalog/catalog.js';
import { RecoverError, toRecoverError } from '../../errors.js';
import { listAll, type BlobStore } from '../../storage/blob-store.js';
import type { EngineContext } from '../context.js';
import { readCatalog } from '../read-catalog.js';
import { describePolicy, planRetention, type RetentionPlan, type RetentionPolicy } from './plan.js';

export interface ExpireResult {
  dryRun: boolean;
  plan: RetentionPlan;
  deleted: { backups: string[]; incomplete: string[]; walFiles: string[]; blobs: number };
  /** Why deleting stopped early; `deleted` says what went before. Null when everything planned went. */
  failure: { code: string; message: string; hint: string | null } | null;
}

export function requireRetentionPolicy(policy: RetentionPolicy): void {
  if (policy.full === undefined && policy.days === undefined) {
    throw new RecoverError('CONFIG_INVALID', 'No retention policy: RECOVER_RETENTION_FULL and RECOVER_RETENTION_DAYS are both unset, so nothing may expire.', {
      hint: 'Set RECOVER_RETENTION_FULL=7 (keep the newest 7 backups) and/or RECOVER_RETENTION_DAYS=14 (stay restorable for 14 days); `recover expire --dry-run` shows what that would delete.',
    });
  }
}

class Stop extends Error {
  constructor(readonly failure: RecoverError) {
    super(failure.message);
  }
}

export async function expireBackups(ctx: Pick<EngineContext, 'storage' | 'clock' | 'log' | 'signal'>, policy: RetentionPolicy, options: { dryRun: boolean }): Promise<ExpireResult> {
  requireRetentionPolicy(policy);
  const { storage, log } = ctx;
  const now = ctx.clock.now();
  const plan = planRetention(await readCatalog(storage, now), policy, now);
  const result: ExpireResult = { dryRun: options.dryRun, plan, deleted: { backups: [], incomplete: [], walFiles: [], blobs: 0 }, failure: null };
  if (options.dryRun || plan.nothingDeleted) return result;

  const remove = async (store: BlobStore, key: string) => {
    if (ctx.signal.aborted) throw new Stop(new RecoverError('CANCELLED', `Expiring was stopped before ${key}.`));
    try {
      await store.delete(key);
    } catch (error) {
      throw new Stop(toRecoverError(error, 'STORAGE_ERROR'));
    }
    result.deleted.blobs++;
  };
  const removeDirectory = async (id: string) => {
    for (const blob of await listAll(storage.backups, `${storage.backupPrefix}${id}/`)) await remove(storage.backups, blob.key);
  };

  try {
    for (const backup of plan.backups.filter((b) => !b.keep)) {
      await remove(storage.backups, manifestKey(storage.backupPrefix, backup.id));
      await removeDirectory(backup.id);
      result.deleted.backups.push(backup.id);
      log.info({ backup: backup.id, reasons: backup.reasons }, 'expired base backup');
    }
    for (const upload of plan.incomplete.filter((i) => i.delete)) {
      // A very slow backup may have finished since the listing: then it is a backup, not debris.
      if (await storage.backups.head(manifestKey(storage.backupPrefix, upload.id))) continue;
      await removeDirectory(upload.id);
      result.deleted.incomplete.push(upload.id);
      log.info({ directory: upload.id }, 'deleted an interrupted backup upload');
    }
    for (const name of plan.wal.delete) {
      await remove(storage.wal, `${storage.walPrefix}${name}`);
      result.deleted.walFiles.push(name);
    }
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    const { deleted } = result;
    result.failure = {
      code: error.failure.code,
      message: `Expiring stopped: ${error.failure.message} Deleted before that: ${deleted.backups.length} backup(s), ${deleted.incomplete.length} interrupted upload(s), ${deleted.walFiles.length} WAL file(s).`,
      hint: `${error.failure.hint ? `${error.failure.hint} ` : ''}Storage stays consistent (manifests go first, WAL last); \`recover expire\` continues where this stopped.`,
    };
  }
  log.info({ policy: describePolicy(policy), backups: result.deleted.backups.length, walFiles: result.deleted.walFiles.length, failed: result.failure?.code ?? null }, 'retention applied');
  return result;
}

/** The audit log's action for deletions by retention (`recover expire`, the runner's schedule). */
export const EXPIRE_AUDIT_ACTION = 'backups.expired';

/** What the audit log records of one expire (the control DB's, when there is one). */
export function expireAuditDetails(result: ExpireResult): Record<string, unknown> {
  const { deleted } = result;
  return {
    policy: result.plan.policy,
    backupsDeleted: deleted.backups,
    incompleteDeleted: deleted.incomplete,
    walFilesDeleted: deleted.walFiles.length,
    walRange: deleted.walFiles.length > 0 ? [deleted.walFiles[0], deleted.walFiles.at(-1)] : null,
    blobsDeleted: deleted.blobs,
    backupsKept: result.plan.backups.filter((b) => b.keep).map((b) => b.id),
    earliestRestorable: result.plan.earliestRestorable,
    failure: result.failure,
  };
}
