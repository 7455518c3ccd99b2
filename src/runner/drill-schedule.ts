/**
 * Scheduled restore drills (RECOVER_DRILL_SCHEDULE, cron in UTC): the backup schedule's slot
 * claim (backup-schedule.ts with kind 'drill': every runner of the pool computes the same
 * slots, the one whose INSERT creates the slot's scheduled_runs row runs it), so one drill runs
 * at a time per pool and two runners never both start it. The work is runDrill (drills/run.ts), its
 * RTO measured from the slot's time.
 */
import type { Config } from '../config.js';
import type { EngineContext } from '../engine/context.js';
import { RecoverError } from '../errors.js';
import type { EngineEvent } from '../types.js';
import { parseCron, type CronSchedule } from '../util/cron.js';
import { createBackupSchedule, type BackupSchedule } from './backup-schedule.js';
import type { ScheduledBackupDeps } from './scheduled-backup.js';
import { runDrill } from '../drills/run.js';

/** What a scheduled drill needs: the same as a scheduled backup. */
export type DrillScheduleDeps = ScheduledBackupDeps;

/** RECOVER_DRILL_SCHEDULE parsed; null when unset. */
export function configuredDrillSchedule(config: Config): CronSchedule | null {
  if (!config.drill.schedule) return null;
  const schedule = parseCron(config.drill.schedule);
  if (typeof schedule === 'string') throw new RecoverError('CONFIG_INVALID', `Configuration is invalid: RECOVER_DRILL_SCHEDULE: ${schedule}`);
  return schedule;
}

/** One slot's drill; a failed drill fails the slot too (its row says so beside the drill history). */
export function scheduledDrillWork(deps: DrillScheduleDeps): (slot: Date, signal: AbortSignal) => Promise<Record<string, unknown>> {
  const { config, log } = deps;
  return async (slot, signal) => {
    const events = {
      emit(event: EngineEvent) {
        if (event.type === 'step.started' || event.type === 'step.finished') log.info({ slot, event }, 'restore drill step');
      },
    };
    const ctx: EngineContext = { log: log.child({ drillSlot: slot.toISOString() }), exec: deps.exec, storage: deps.storage, events, signal, clock: deps.clock };
    const drill = await runDrill(ctx, config, deps.control, {
      pool: config.pool,
      production: config.productionName ?? config.pool,
      trigger: 'schedule',
      requestedAt: slot,
      objective: { rtoSeconds: config.objectives.rtoSeconds, warnShare: config.drill.warnShare },
    });
    if (!drill.ok) throw new RecoverError((drill.error?.code ?? 'RESTORE_FAILED') as 'RESTORE_FAILED', `Restore drill ${drill.id} failed: ${drill.error?.message ?? 'no reason recorded'}`);
    return { drillId: drill.id, backupId: drill.backupId, rtoSeconds: drill.rtoSeconds, instanceRemoved: drill.removed };
  };
}

/** The runner process's drill schedule (`recover runner`), or null without RECOVER_DRILL_SCHEDULE. */
export function runnerDrillSchedule(deps: DrillScheduleDeps): BackupSchedule | null {
  const cron = configuredDrillSchedule(deps.config);
  if (!cron) return null;
  return createBackupSchedule({ kind: 'drill', control: deps.control, pool: deps.config.pool, runnerId: deps.runnerId, schedule: cron, clock: deps.clock, log: deps.log, work: scheduledDrillWork(deps) });
}
