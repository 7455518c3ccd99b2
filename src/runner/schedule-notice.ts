/**
 * What the alert channel is told when a scheduled backup or dump fails, and when the next one
 * succeeds (pure; the runner writes it into the control DB, control/schedule-alerts.ts, and the
 * bot posts it). It says what failed, the error's own message and hint (what to do), the next
 * slot and how to take one by hand. Secrets are masked: a tool's error may quote a connection string.
 */
import { redactText } from '../log.js';

export type AlertedWork = 'backup' | 'dump';

const WHAT: Record<AlertedWork, { name: string; plural: string; byHand: string; check: string }> = {
  backup: { name: 'base backup', plural: 'Scheduled base backups', byHand: '`recover backup`', check: 'RECOVER_BACKUP_SCHEDULE' },
  dump: { name: 'dump', plural: 'Scheduled dumps', byHand: '`recover dump-backup`', check: 'RECOVER_DUMP_SCHEDULE' },
};

const minute = (time: Date) => `${time.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function scheduleFailedText(input: { work: AlertedWork; production: string; slot: Date; runnerId: string; error: { code: string; message: string; hint?: string | undefined }; next: Date | null }): string {
  const w = WHAT[input.work];
  const hint = input.error.hint?.trim() || `Check the runner ${input.runnerId}'s log for the slot of ${minute(input.slot)}.`;
  return [
    `:x: Scheduled ${w.name} of *${input.production}* failed (slot ${minute(input.slot)}, runner ${input.runnerId}): ${input.error.code}: ${input.error.message}`,
    `What to do: ${hint}`,
    `Next scheduled ${w.name}: ${input.next ? minute(input.next) : 'none'} (${w.check}). Take one now with ${w.byHand} on a runner host. Posted once per failure streak; a notice follows when a scheduled ${w.name} succeeds again.`,
  ].map(redactText).join('\n');
}

export function scheduleRecoveredText(input: { work: AlertedWork; production: string; slot: Date; failingSince: Date; detail: string | null }): string {
  const w = WHAT[input.work];
  return redactText(`:white_check_mark: ${w.plural} of *${input.production}* work again: the slot of ${minute(input.slot)} succeeded${input.detail ? ` (${input.detail})` : ''}, after failing since the slot of ${minute(input.failingSince)}.`);
}
