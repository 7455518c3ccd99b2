/**
 * What one scheduled slot does (backup-schedule.ts claims it): a base backup of the source, as
 * `recover backup` takes it, then retention when a policy is set. Retention waits for a later
 * slot while a job of the pool runs: a restore may be reading the backup that would expire.
 * Deletions are recorded in the control DB's audit log, as `recover expire` records them.
 */
import type pg from 'pg';
import { appendAudit } from '../control/audit.js';
import type { Config } from '../config.js';
import { takeBaseBackup } from '../engine/backup.js';
import type { EngineContext } from '../engine/context.js';
import { EXPIRE_AUDIT_ACTION, expireAuditDetails, expireBackups } from '../engine/retention/expire.js';
import { RecoverError, type ErrorCode } from '../errors.js';
import type { Storage } from '../storage/blob-store.js';
import type { Clock, EngineEvent, Logger } from '../types.js';
import { parseConnectionUrl } from '../util/connection-url.js';
import { parseCron, type CronSchedule } from '../util/cron.js';
import type { Exec } from '../engine/exec.js';
import { createBackupSchedule, type BackupSchedule } from './backup-schedule.js';
import { scheduleAlerts } from './schedule-alerts.js';

export interface ScheduledBackupDeps {
  config: Config;
  control: pg.Pool;
  storage: Storage;
  exec: Exec;
  log: Logger;
  clock: Clock;
  runnerId: string;
}

/**
 * A schedule setting (`key`) parsed, for work that reads the source: refused when it does not
 * parse or RECOVER_SOURCE_URL is not set (`what` the source is for, `manual` the command instead).
 */
export function sourceSchedule(config: Config, key: string, text: string, what: string, manual: string): CronSchedule {
  const schedule = parseCron(text);
  if (typeof schedule === 'string') throw new RecoverError('CONFIG_INVALID', `Configuration is invalid: ${key}: ${schedule}`);
  if (!config.source.url) {
    throw new RecoverError('CONFIG_INVALID', `Configuration is invalid: ${key} needs RECOVER_SOURCE_URL (${what}).`, {
      hint: `Set RECOVER_SOURCE_URL on the runners, or unset ${key} and take ${manual}.`,
    });
  }
  return schedule;
}

/** The schedule of a runner's config, checked against what it needs; null when none is set. */
export function configuredSchedule(config: Config): CronSchedule | null {
  if (!config.backupSchedule) return null;
  return sourceSchedule(config, 'RECOVER_BACKUP_SCHEDULE', config.backupSchedule, 'the cluster to back up', 'backups with `recover backup`');
}

/** The engine context of one slot's work: its steps logged (`what`: 'backup', 'dump'), the slot in every log line under `slotKey`. */
export function slotContext(deps: ScheduledBackupDeps, slot: Date, signal: AbortSignal, what: string, slotKey: string): EngineContext {
  const { log } = deps;
  const events = {
    emit(event: EngineEvent) {
      if (event.type === 'step.started' || event.type === 'step.finished') log.info({ slot, event }, `scheduled ${what} step`);
    },
  };
  return { log: log.child({ [slotKey]: slot.toISOString() }), exec: deps.exec, storage: deps.storage, events, signal, clock: deps.clock };
}

/** A job of the pool that is running, if any: retention waits for a later slot (it may be reading what would expire). */
export async function runningJobOfPool(control: pg.Pool, pool: string): Promise<string | null> {
  const { rows } = await control.query<{ id: string }>("SELECT id FROM jobs WHERE pool = $1 AND status = 'running' LIMIT 1", [pool]);
  return rows[0]?.id ?? null;
}

export function scheduledBackupWork(deps: ScheduledBackupDeps): (slot: Date, signal: AbortSignal) => Promise<Record<string, unknown>> {
  const { config, control } = deps;
  return async (slot, signal) => {
    const ctx = slotContext(deps, slot, signal, 'backup', 'scheduledSlot');
    await Promise.all([deps.storage.backups.ensureContainer(), deps.storage.wal.ensureContainer()]);
    const manifest = await takeBaseBackup(ctx, config.pg, parseConnectionUrl(config.source.url!));
    const result: Record<string, unknown> = { backupId: manifest.id, startLsn: manifest.startLsn, stopLsn: manifest.stopLsn, timeline: manifest.timeline };
    const policy = config.retention ?? {};
    if (policy.full === undefined && policy.days === undefined) return { ...result, retention: 'not configured' };
    const running = await runningJobOfPool(control, config.pool);
    if (running) return { ...result, retention: `postponed: job ${running} is running` };
    const expired = await expireBackups(ctx, policy, { dryRun: false });
    if (expired.deleted.blobs > 0) {
      await appendAudit(control, { actor: deps.runnerId, action: EXPIRE_AUDIT_ACTION, subject: `pool:${config.pool}`, details: { slot: slot.toISOString(), ...expireAuditDetails(expired) } });
    }
    if (expired.failure) {
      throw new RecoverError(expired.failure.code as ErrorCode, `Base backup ${manifest.id} was taken, but retention failed. ${expired.failure.message}`, expired.failure.hint ? { hint: expired.failure.hint } : {});
    }
    return { ...result, retention: { backupsDeleted: expired.deleted.backups, walFilesDeleted: expired.deleted.walFiles.length, earliestRestorable: expired.plan.earliestRestorable } };
  };
}

/** The runner process's schedule (`recover runner`), or null without RECOVER_BACKUP_SCHEDULE; refuses a schedule it cannot run. */
export function runnerBackupSchedule(deps: ScheduledBackupDeps): BackupSchedule | null {
  const cron = configuredSchedule(deps.config);
  if (!cron) return null;
  return createBackupSchedule({
    control: deps.control,
    pool: deps.config.pool,
    runnerId: deps.runnerId,
    schedule: cron,
    clock: deps.clock,
    log: deps.log,
    work: scheduledBackupWork(deps),
    // A failure streak is posted once to RECOVER_ALERT_CHANNEL, with a notice when it ends.
    onOutcome: scheduleAlerts(deps, 'backup', cron, (result) => (typeof result.backupId === 'string' ? `base backup ${result.backupId}` : null)),
  });
}
