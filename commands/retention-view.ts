/**
 * What retention keeps, as `/recover backups`, `recover backups` and `recover expire` show it
 * (pure text from the plan of engine/retention/plan.ts).
 */
import { describePolicy, type BackupFate, type RetentionPlan, type WalRange } from '../src/engine/retention/plan.js';

/** "kept: newest backup; one of the newest 7" or "expires at the next run: not one of the newest 7" ("deleted: …" once expire ran). */
export function fateText(fate: BackupFate, done = false): string {
  return `${fate.keep ? 'kept' : done ? 'deleted' : 'expires at the next run'}: ${fate.reasons.join('; ')}`;
}

const rangeText = (range: WalRange) => `timeline ${range.timeline} ${range.first} … ${range.last} (${range.files} file${range.files === 1 ? '' : 's'})`;

/** One line for the plan's facts (Slack): the policy, what it keeps, and the WAL window it leaves. */
export function retentionSummary(plan: RetentionPlan): string {
  if (!plan.configured) return `${describePolicy(plan.policy)}: set RECOVER_RETENTION_FULL and/or RECOVER_RETENTION_DAYS`;
  const expiring = plan.backups.filter((b) => !b.keep).length;
  const parts = [
    `${describePolicy(plan.policy)}: ${plan.backups.length - expiring} backup(s) kept, ${expiring} expire at the next run`,
    plan.wal.delete.length > 0 ? `${plan.wal.delete.length} WAL file(s) expire` : 'no WAL expires',
    plan.earliestRestorable ? `restorable from ${plan.earliestRestorable} afterwards` : null,
  ];
  return parts.filter(Boolean).join('; ');
}

/** The WAL kept per timeline, for the facts. */
export function walWindowText(plan: RetentionPlan): string {
  return plan.wal.kept.map(rangeText).join(', ') || 'none';
}

/** The section `recover backups` and `recover expire` print; `done`: expire ran, what went is "deleted". */
export function retentionLines(plan: RetentionPlan, options: { done?: boolean } = {}): string[] {
  const done = options.done ?? false;
  const lines = [`Retention: ${describePolicy(plan.policy)}${plan.nothingDeleted ? ` — nothing is deleted (${plan.nothingDeleted})` : ''}`];
  if (!plan.configured) return lines;
  for (const fate of plan.backups) lines.push(`  ${fate.id}  ${fateText(fate, done)}`);
  for (const upload of plan.incomplete) lines.push(`  ${upload.id}  ${upload.delete ? `${done ? 'deleted' : 'deleted at the next run'}: ${upload.reason}` : upload.reason}`);
  for (const range of plan.wal.kept) lines.push(`  WAL kept: ${rangeText(range)}`);
  for (const range of plan.wal.deleted) lines.push(`  WAL ${done ? 'deleted' : 'expires at the next run'}: ${rangeText(range)}`);
  lines.push('  timeline history files: all kept');
  if (plan.earliestRestorable) lines.push(`  restorable from ${plan.earliestRestorable} (the oldest kept backup's end)`);
  return lines;
}
