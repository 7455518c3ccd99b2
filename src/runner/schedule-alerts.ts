/**
 * The channel hears of scheduled backups and dumps that fail: the runner has no Slack
 * credentials, so it writes the notice into the control DB (control/schedule-alerts.ts: one per
 * failure streak, a recovery notice when a later slot succeeds) and the bot posts it to
 * RECOVER_ALERT_CHANNEL, as it posts the RPO watch's (slack/flows/rpo-notices.ts).
 */
import type pg from 'pg';
import type { Config } from '../config.js';
import { recordScheduleOutcome } from '../control/schedule-alerts.js';
import type { RecoverError } from '../errors.js';
import type { Clock } from '../types.js';
import { nextSlot, type CronSchedule } from '../util/cron.js';
import { scheduleFailedText, scheduleRecoveredText, type AlertedWork } from './schedule-notice.js';

export function scheduleAlerts(
  deps: { control: pg.Pool; config: Pick<Config, 'pool' | 'productionName'>; runnerId: string; clock: Clock },
  work: AlertedWork,
  cron: CronSchedule,
  detail: (result: Record<string, unknown>) => string | null,
): (slot: Date, outcome: { ok: true; result: Record<string, unknown> } | { ok: false; error: RecoverError }) => Promise<void> {
  const production = deps.config.productionName ?? deps.config.pool;
  return async (slot, outcome) => {
    await recordScheduleOutcome(deps.control, { pool: deps.config.pool, kind: work, production, slot, ok: outcome.ok }, (change) =>
      change.kind === 'failed' && !outcome.ok
        ? scheduleFailedText({ work, production, slot, runnerId: deps.runnerId, error: { code: outcome.error.code, message: outcome.error.message, hint: outcome.error.hint }, next: nextSlot(cron, deps.clock.now()) })
        : scheduleRecoveredText({ work, production, slot, failingSince: change.kind === 'recovered' ? change.failingSince : slot, detail: outcome.ok ? detail(outcome.result) : null }),
    );
  };
}
