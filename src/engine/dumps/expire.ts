/**
 * Applies dump retention (retention.ts) after a scheduled dump: expired dumps oldest first, each
 * by its manifest FIRST (a dump without one is never listed or restored, so a half-deleted dump
 * is never offered), then its files; then failed uploads' leftovers, checked again just before
 * (a slow upload may have written its manifest since the listing). The first refused delete
 * stops it with the storage layer's message and what went before; the next run carries on.
 */
import { RecoverError, toRecoverError } from '../../errors.js';
import { listAll } from '../../storage/blob-store.js';
import type { EngineContext } from '../context.js';
import { scanDumps } from './list.js';
import { dumpDirectory, dumpManifestKey } from './manifest.js';
import { planDumpRetention, type DumpRetentionPlan, type DumpRetentionPolicy } from './retention.js';

export interface DumpExpireResult {
  plan: DumpRetentionPlan;
  deleted: { dumps: string[]; leftovers: string[]; blobs: number };
  failure: { code: string; message: string; hint: string | null } | null;
}

export async function expireDumps(ctx: Pick<EngineContext, 'storage' | 'clock' | 'log' | 'signal'>, policy: DumpRetentionPolicy): Promise<DumpExpireResult> {
  const { storage, log } = ctx;
  const { entries, leftovers } = await scanDumps(storage);
  const plan = planDumpRetention(entries, leftovers, policy, ctx.clock.now());
  const result: DumpExpireResult = { plan, deleted: { dumps: [], leftovers: [], blobs: 0 }, failure: null };
  const remove = async (key: string) => {
    if (ctx.signal.aborted) throw new RecoverError('CANCELLED', `Dump retention was stopped before ${key}.`);
    await storage.dumps.delete(key);
    result.deleted.blobs++;
  };
  const removeRest = async (database: string, stamp: string) => {
    for (const blob of await listAll(storage.dumps, dumpDirectory(database, stamp))) await remove(blob.key);
  };
  try {
    for (const dump of plan.dumps.filter((d) => !d.keep)) {
      await remove(dumpManifestKey(dump.database, dump.stamp));
      await removeRest(dump.database, dump.stamp);
      result.deleted.dumps.push(`${dump.database}/${dump.stamp}`);
      log.info({ dump: `${dump.database}/${dump.stamp}`, reasons: dump.reasons }, 'expired dump');
    }
    for (const leftover of plan.leftovers.filter((l) => l.delete)) {
      if (await storage.dumps.head(dumpManifestKey(leftover.database, leftover.stamp))) continue;
      await removeRest(leftover.database, leftover.stamp);
      result.deleted.leftovers.push(`${leftover.database}/${leftover.stamp}`);
      log.info({ dump: `${leftover.database}/${leftover.stamp}` }, 'deleted a failed dump upload');
    }
  } catch (error) {
    const failure = toRecoverError(error, 'STORAGE_ERROR');
    const { deleted } = result;
    result.failure = {
      code: failure.code,
      message: `Dump retention stopped: ${failure.message} Deleted before that: ${deleted.dumps.length} dump(s), ${deleted.leftovers.length} failed upload(s).`,
      hint: `${failure.hint ? `${failure.hint} ` : ''}Manifests go first, so no half-deleted dump is offered; the next scheduled dump continues.`,
    };
  }
  return result;
}
