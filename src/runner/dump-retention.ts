/**
 * Dump retention after dumps were taken, the same for the schedule (scheduled-dump.ts) and for
 * `recover dump-backup` from the CLI (a host without a schedule would otherwise keep every dump
 * and every failed upload's leftovers forever): engine/dumps/expire.ts under
 * RECOVER_DUMP_RETENTION_COUNT / _DAYS, postponed while a job of the pool runs (a `/recover dump`
 * may be reading the dump that would expire), deletions recorded in the control DB's audit log.
 */
import type pg from 'pg';
import type { Config } from '../config.js';
import { appendAudit } from '../control/audit.js';
import type { EngineContext } from '../engine/context.js';
import { expireDumps } from '../engine/dumps/expire.js';
import { describeDumpPolicy } from '../engine/dumps/retention.js';
import { RecoverError, type ErrorCode } from '../errors.js';
import { runningJobOfPool } from './scheduled-backup.js';

export const DUMPS_EXPIRED_AUDIT_ACTION = 'dumps.expired';

/**
 * Why RECOVER_CONTAINER_DUMPS is no container of its own (`empty`, or `the same as the WAL
 * container (x)`); null when it is. Retention deletes what it finds there: the schedule refuses
 * to start without one, `recover dump-backup` skips retention.
 */
export function sharedDumpsContainer(containers: Config['storage']['containers']): string | null {
  if (containers.dumps && containers.dumps !== containers.backups && containers.dumps !== containers.wal) return null;
  return containers.dumps ? `the same as the ${containers.dumps === containers.backups ? 'base backups' : 'WAL'} container (${containers.dumps})` : 'empty';
}

export type DumpRetentionOutcome = string | { policy: string; dumpsDeleted: string[]; leftoversDeleted: string[] };

/**
 * `control`: the pool's control DB, or null where none is configured (no runner can then be
 * running a job of this pool). `taken`: the dumps just stored, named in a failure's message.
 * A failed delete throws with what was deleted before it; the dumps taken are kept.
 */
export async function applyDumpRetention(
  ctx: Pick<EngineContext, 'storage' | 'clock' | 'log' | 'signal'>,
  config: Pick<Config, 'pool' | 'dumpRetention'>,
  control: pg.Pool | null,
  audit: { actor: string; details: Record<string, unknown> },
  taken: readonly string[],
): Promise<DumpRetentionOutcome> {
  const running = control ? await runningJobOfPool(control, config.pool) : null;
  if (running) return `postponed: job ${running} is running`;
  const policy = config.dumpRetention ?? {};
  const expired = await expireDumps(ctx, policy);
  if (expired.deleted.blobs > 0 && control) {
    await appendAudit(control, {
      actor: audit.actor,
      action: DUMPS_EXPIRED_AUDIT_ACTION,
      subject: `pool:${config.pool}`,
      details: { ...audit.details, policy: describeDumpPolicy(policy), dumpsDeleted: expired.deleted.dumps, leftoversDeleted: expired.deleted.leftovers, blobsDeleted: expired.deleted.blobs, failure: expired.failure },
    });
  }
  if (expired.failure) {
    throw new RecoverError(expired.failure.code as ErrorCode, `Dumps ${taken.join(', ')} were taken, but dump retention failed. ${expired.failure.message}`, expired.failure.hint ? { hint: expired.failure.hint } : {});
  }
  return { policy: describeDumpPolicy(policy), dumpsDeleted: expired.deleted.dumps, leftoversDeleted: expired.deleted.leftovers };
}
