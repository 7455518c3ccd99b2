/**
 * Scheduled base backups (RECOVER_BACKUP_SCHEDULE, cron in UTC), then retention
 * (RECOVER_RETENTION_FULL / _DAYS), run by the runners themselves rather than by someone's
 * cron. Every runner of the pool computes the same slots and claims each in the control DB
 * (control/scheduled-runs.ts, INSERT … ON CONFLICT DO NOTHING): one runner runs it, never two.
 *
 * Each runner looks every 15 s, beside its job loop (a request during a long backup is still
 * planned and run). A slot missed by less than the grace (six hours: no runner was up, or the
 * control DB was away) is run once when a runner looks again, which includes starting up; only
 * the newest missed slot is (a running runner logs older ones as missed). How each slot ended
 * is recorded on its row (and logged); a runner lost mid-backup leaves its row 'running', and
 * the next slot runs as usual.
 */
import type pg from 'pg';
import { claimScheduledRun, finishScheduledRun, type ScheduledKind } from '../control/scheduled-runs.js';
import { isTransientDbError, retryTransient } from '../control/retry.js';
import { RecoverError, toRecoverError } from '../errors.js';
import type { Clock, Logger } from '../types.js';
import { latestSlot, nextSlot, type CronSchedule } from '../util/cron.js';

export const DEFAULT_GRACE_MS = 6 * 3_600_000;

export interface BackupScheduleOptions {
  control: pg.Pool;
  pool: string;
  runnerId: string;
  schedule: CronSchedule;
  clock: Clock;
  log: Logger;
  graceMs?: number;
  /** What the slots are for: 'backup' (default), or 'drill' (RECOVER_DRILL_SCHEDULE, runner/drill-schedule.ts), claimed the same way. */
  kind?: ScheduledKind;
  /** One slot's work (a backup, then retention); what it returns is recorded on the slot. */
  work(slot: Date, signal: AbortSignal): Promise<Record<string, unknown>>;
  /** After a slot's outcome is recorded (not for a skipped slot): the failure alert's hook (runner/schedule-alerts.ts). */
  onOutcome?(slot: Date, outcome: { ok: true; result: Record<string, unknown> } | { ok: false; error: RecoverError }): Promise<void>;
}

export interface BackupSchedule {
  /** Claims the newest slot due since the last look (within the grace) and starts its work. Never throws. */
  check(): Promise<void>;
  /** Looks now and then every `intervalMs`. */
  start(intervalMs?: number): void;
  /** Resolves once no scheduled work is running (tests, and stop). */
  idle(): Promise<void>;
  /** Aborts running work and waits for its record. */
  stop(): Promise<void>;
}

export function createBackupSchedule(options: BackupScheduleOptions): BackupSchedule {
  const { control, pool, runnerId, schedule: cron, log } = options;
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const kind = options.kind ?? 'backup';
  const what = { backup: 'backup', drill: 'restore drill', dump: 'dump' }[kind];
  // Slots up to here were looked at. At start: a slot missed within the grace is still due.
  let lookedUpTo = new Date(options.clock.now().getTime() - graceMs);
  let running: { slot: Date; done: Promise<void> } | null = null;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let checking = false;

  const finish = (slot: Date, outcome: { status: 'succeeded' | 'failed' | 'skipped'; result?: Record<string, unknown>; error?: { code: string; message: string } }) =>
    retryTransient(() => finishScheduledRun(control, { pool, kind, slot, runnerId, ...outcome }), { what: `record the scheduled ${what} of ${slot.toISOString()}`, log, signal: abort.signal }).catch((error: unknown) => {
      log.error({ err: error, slot }, `could not record how the scheduled ${what} ended`);
    });

  // The alert's record waits for the control DB like the slot's own; if it still cannot be written, the log says so.
  const tell = (slot: Date, outcome: Parameters<NonNullable<BackupScheduleOptions['onOutcome']>>[1]) =>
    options.onOutcome
      ? retryTransient(() => options.onOutcome!(slot, outcome), { what: `record the alert state of the scheduled ${what} of ${slot.toISOString()}`, log, signal: abort.signal }).catch((error: unknown) => {
          log.error({ err: error, slot }, `could not record the alert state of the scheduled ${what}: the channel is not told of this slot`);
        })
      : Promise.resolve();

  async function run(slot: Date): Promise<void> {
    log.info({ slot, schedule: cron.text }, `scheduled ${what} started`);
    try {
      const result = await options.work(slot, abort.signal);
      log.info({ slot, result }, `scheduled ${what} finished`);
      await finish(slot, { status: 'succeeded', result });
      await tell(slot, { ok: true, result });
    } catch (error) {
      const failure = toRecoverError(error);
      log.error({ slot, code: failure.code, err: failure.cause ?? failure }, `scheduled ${what} failed: ${failure.message}`);
      await finish(slot, { status: 'failed', error: { code: failure.code, message: failure.forChannel() } });
      await tell(slot, { ok: false, error: failure });
    }
    const next = nextSlot(cron, options.clock.now());
    if (next) log.info({ next }, `next scheduled ${what}`);
  }

  const self: BackupSchedule = {
    async check() {
      const now = options.clock.now();
      const graceStart = new Date(now.getTime() - graceMs);
      if (lookedUpTo < graceStart) {
        const missed = latestSlot(cron, lookedUpTo, graceStart);
        if (missed) log.warn({ slot: missed, graceHours: graceMs / 3_600_000 }, `a scheduled ${what} slot was missed by more than the grace (no runner of the pool looked in time): not run`);
        lookedUpTo = graceStart;
      }
      const slot = latestSlot(cron, lookedUpTo, now);
      if (!slot) {
        lookedUpTo = now;
        return;
      }
      let claimed: boolean;
      try {
        claimed = await claimScheduledRun(control, { pool, kind, slot, runnerId });
      } catch (error) {
        // Looked at again next pass (the slot stays due while the control DB is away).
        if (!isTransientDbError(error)) log.error({ err: error, slot }, `could not claim a scheduled ${what} slot`);
        return;
      }
      lookedUpTo = now;
      if (!claimed) return; // another runner of the pool has it
      if (running) {
        const message = `the previous scheduled ${what} (slot ${running.slot.toISOString()}) was still running`;
        log.warn({ slot }, `scheduled ${what} skipped: ${message}`);
        await finish(slot, { status: 'skipped', error: { code: 'BACKUP_FAILED', message } });
        return;
      }
      const current = { slot, done: Promise.resolve() };
      current.done = run(slot).finally(() => {
        if (running === current) running = null;
      });
      running = current;
    },
    start(intervalMs = 15_000) {
      const look = () => {
        if (checking) return;
        checking = true;
        void self.check().finally(() => {
          checking = false;
        });
      };
      look();
      timer = setInterval(look, intervalMs);
    },
    async idle() {
      await running?.done;
    },
    async stop() {
      clearInterval(timer);
      abort.abort(new RecoverError('CANCELLED', `The runner stopped during the scheduled ${what}.`));
      await running?.done;
    },
  };
  return self;
}
