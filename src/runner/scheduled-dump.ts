/**
 * Scheduled dumps (RECOVER_DUMP_SCHEDULE, cron in UTC): `recover dump-backup` taken by the runners,
 * one runner of the pool per slot (backup-schedule.ts with kind 'dump', claimed in the control
 * DB), then dump retention (engine/dumps/expire.ts: RECOVER_DUMP_RETENTION_COUNT / _DAYS per
 * database, the newest complete dump always kept; failed uploads' leftovers removed a day later).
 * Deletions wait for a later slot while a job of the pool runs (a `/recover dump` may be reading
 * the dump that would expire) and are recorded in the audit log. A failure streak is posted once
 * to RECOVER_ALERT_CHANNEL through the control DB (schedule-alerts.ts).
 */
import type { Config } from '../config.js';
import { takeDumps } from '../engine/dumps/take.js';
import { RecoverError } from '../errors.js';
import type { CronSchedule } from '../util/cron.js';
import { createBackupSchedule, type BackupSchedule } from './backup-schedule.js';
import { applyDumpRetention, sharedDumpsContainer } from './dump-retention.js';
import { scheduleAlerts } from './schedule-alerts.js';
import { slotContext, sourceSchedule, type ScheduledBackupDeps } from './scheduled-backup.js';

/** `pg_dump -j` when RECOVER_DUMP_JOBS is not configured: `recover dump-backup`'s default. */
export const DEFAULT_DUMP_JOBS = 2;

/** RECOVER_DUMP_SCHEDULE checked against what it needs; null when unset. Refuses a schedule that could never run. */
export function configuredDumpSchedule(config: Config): CronSchedule | null {
  if (!config.dumpSchedule) return null;
  const schedule = sourceSchedule(config, 'RECOVER_DUMP_SCHEDULE', config.dumpSchedule, 'production, the databases to dump', 'dumps with `recover dump-backup`');
  const shared = sharedDumpsContainer(config.storage.containers);
  if (shared) {
    throw new RecoverError('CONFIG_INVALID', `Configuration is invalid: RECOVER_DUMP_SCHEDULE needs a dumps container of its own, and RECOVER_CONTAINER_DUMPS is ${shared}.`, {
      hint: 'Set RECOVER_CONTAINER_DUMPS to a container only dumps use (default postgresql-dumps): dump retention deletes what it finds there.',
    });
  }
  return schedule;
}

export function scheduledDumpWork(deps: ScheduledBackupDeps): (slot: Date, signal: AbortSignal) => Promise<Record<string, unknown>> {
  const { config, control } = deps;
  return async (slot, signal) => {
    const ctx = slotContext(deps, slot, signal, 'dump', 'scheduledDumpSlot');
    await deps.storage.dumps.ensureContainer();
    const manifests = await takeDumps(ctx, config, { jobs: config.dumpJobs ?? DEFAULT_DUMP_JOBS, parallel: config.pg.baseTransfer?.parallel ?? 2 });
    const result: Record<string, unknown> = { dumps: manifests.map((m) => ({ database: m.database, stamp: m.stamp, bytes: m.dumpBytes })) };
    const taken = manifests.map((m) => `${m.database}/${m.stamp}`);
    return { ...result, retention: await applyDumpRetention(ctx, config, control, { actor: deps.runnerId, details: { slot: slot.toISOString() } }, taken) };
  };
}

/** The runner process's dump schedule (`recover runner`), or null without RECOVER_DUMP_SCHEDULE; refuses one it cannot run. */
export function runnerDumpSchedule(deps: ScheduledBackupDeps): BackupSchedule | null {
  const cron = configuredDumpSchedule(deps.config);
  if (!cron) return null;
  return createBackupSchedule({
    kind: 'dump',
    control: deps.control,
    pool: deps.config.pool,
    runnerId: deps.runnerId,
    schedule: cron,
    clock: deps.clock,
    log: deps.log,
    work: scheduledDumpWork(deps),
    onOutcome: scheduleAlerts(deps, 'dump', cron, (result) => {
      const dumps = result.dumps as { database: string; stamp: string }[] | undefined;
      return dumps?.length ? `dumps ${dumps.map((d) => `${d.database}/${d.stamp}`).join(', ')}` : null;
    }),
  });
}
