/** What several commands share: names, exact times, the side-restore steps, the verdict on a write (pure). */
import { z } from 'zod';
import { parseTargetTime } from '../src/catalog/targets.js';
import type { IntegrityReport } from '../src/engine/verify.js';
import { RecoverError } from '../src/errors.js';
import type { RestoreSelection } from '../src/catalog/select-restore.js';
import type { MeasuredRates } from '../src/estimate/rates.js';
import { restoreEstimates } from '../src/estimate/restore.js';
import type { Step } from '../src/types.js';
import { declaredStep } from './types.js';

/** A database name as the commands accept it (then always quoted as an identifier). */
export const databaseName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a database name: letters, digits, _ or $, up to 63');

/** `table` or `schema.table`. */
export const tableName = z.string().regex(/^([A-Za-z_][A-Za-z0-9_$]{0,62}\.)?[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a table: name or schema.name (letters, digits, _ or $)');

/** A time target's exact text (microseconds and offset kept); parsed again wherever it is used. */
export const exactTime = z.string().max(64).refine((text) => {
  try {
    parseTargetTime(text);
    return true;
  } catch {
    return false;
  }
}, 'a time with an explicit offset and at most 6 fractional digits');

/** The steps of restoring a side instance to a target (restoreSideForJob / restoreSideInstance). */
export const SIDE_RESTORE_STEPS = [
  { kind: 'select', title: 'Check the base backup and WAL segments in storage', destructive: false },
  { kind: 'restore-base-backup', title: 'Restore the base backup into a side instance', destructive: false },
  { kind: 'configure-recovery', title: 'Configure recovery', destructive: false },
  { kind: 'replay-wal', title: 'Replay WAL', destructive: false },
] as const;

/**
 * The verdict on a write into production from a side instance: its integrity checks afterwards.
 * Failed checks make the job fail, though the committed write stays (it was one transaction).
 */
export function writeVerdict(report: IntegrityReport | undefined, what: string): RecoverError | null {
  if (!report || report.ok) return null;
  const failed = report.checks.filter((check) => !check.ok).map((check) => check.message);
  return new RecoverError('VERIFY_FAILED', `${what}, but its integrity checks failed afterwards: ${failed.join('; ')}.`, {
    hint: 'The write is committed (one transaction). Look at the failed checks in the integrity report before anything else writes to these tables.',
  });
}

/**
 * The four side-restore steps of a plan with their titles and estimates: from this runner
 * pool's measured rates when it has any (facts.rates), else the documented defaults.
 */
export function sideRestorePlanSteps(
  selection: Pick<RestoreSelection, 'backup' | 'requiredSegments' | 'walBytes'>,
  rates: MeasuredRates | undefined,
  into: string,
  targetText: string,
): Step[] {
  const estimate = restoreEstimates(selection, rates);
  const step = (kind: (typeof SIDE_RESTORE_STEPS)[number]['kind'], extra: Parameters<typeof declaredStep>[2]) => declaredStep(SIDE_RESTORE_STEPS, kind, extra);
  return [
    step('select', { title: `Check backup ${selection.backup.id} and ${selection.requiredSegments.length} WAL segments in storage`, estimateSeconds: 2 }),
    step('restore-base-backup', { title: `Restore base backup ${selection.backup.id} into ${into}`, estimateSeconds: estimate.base.seconds, estimate: estimate.base.estimate }),
    step('configure-recovery', { title: `Configure recovery to ${targetText}`, estimateSeconds: 1 }),
    step('replay-wal', { title: `Replay ${selection.requiredSegments.length} WAL segments, then promote`, estimateSeconds: estimate.replay.seconds, estimate: estimate.replay.estimate }),
  ];
}
