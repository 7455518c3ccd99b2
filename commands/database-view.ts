/**
 * What /recover database shows: the CLI's text of a result, the Slack summary's facts (the
 * result read back leniently), and the verdict of a copy whose verification failed.
 */
import { z } from 'zod';
import type { DatabaseCopied } from '../src/engine/database/copy.js';
import type { Swapped } from '../src/engine/database/swap.js';
import { RecoverError } from '../src/errors.js';
import type { SummaryFacts } from './types.js';

export type DatabaseResult = { form: 'copy'; copied: DatabaseCopied } | { form: 'swap'; swapped: Swapped };

/** The result as the bot reads it back: only what the summary uses, anything missing is null. */
export const databaseResultSchema = z
  .object({
    form: z.enum(['copy', 'swap']).catch('copy'),
    copied: z.object({ newName: z.string().catch('?'), reachedTime: z.string().nullable().catch(null), swapCommand: z.string().nullable().catch(null) }).partial().optional().catch(undefined),
    swapped: z.object({ database: z.string().catch('?'), beforeName: z.string().catch('?') }).partial().optional().catch(undefined),
  })
  .catch({ form: 'copy' });
export type DatabaseResultView = z.infer<typeof databaseResultSchema>;

export function formatDatabaseResult(result: DatabaseResult): string {
  if (result.form === 'swap') {
    const { swapped } = result;
    return [
      `${swapped.database} is now the restored copy (was ${swapped.restoredName}); ${swapped.sessionsEnded} sessions were ended.`,
      `The old database is kept as ${swapped.beforeName}; drop it once nobody needs it: DROP DATABASE "${swapped.beforeName}";`,
    ].join('\n');
  }
  const { copied } = result;
  return [
    `${copied.database} restored as ${copied.newName} on production (side instance reached ${copied.reachedTime ?? '?'}; ${(copied.bytes / 1e6).toFixed(1)} MB; ${copied.settingsCopied} database settings copied).`,
    ...copied.tables.map((table) => `  ${table.table}: ${table.copy ?? 'missing'} rows (side instance ${table.side})`),
    ...copied.report.checks.filter((check) => !check.ok).map((check) => `  FAILED ${check.name}: ${check.message}`),
    `Recorded as copy ${copied.record.copyId} in ${copied.record.where}.`,
    copied.swapCommand ? `Verified. To make it ${copied.database}: ${copied.swapCommand}` : `Verification FAILED: ${copied.newName} is kept for inspection; it is recorded as unverified, so it can never be swapped in.`,
  ].join('\n');
}

export function databaseVerdict(result: DatabaseResult): RecoverError | null {
  if (result.form !== 'copy' || result.copied.report.ok) return null;
  const failed = result.copied.report.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.message}`);
  return new RecoverError('VERIFY_FAILED', `The copy ${result.copied.newName} was restored but verification failed: ${failed.join('; ')}.`, {
    hint: `Nothing else was changed. Inspect ${result.copied.newName}; drop it when done (DROP DATABASE "${result.copied.newName}").`,
  });
}

export function databaseSummary(params: unknown, result: DatabaseResultView | null): SummaryFacts {
  const shown = z.object({ targetText: z.string(), target: z.object({ kind: z.string(), time: z.string().optional() }) }).safeParse(params);
  const followUps: string[] = [];
  if (result?.form === 'copy' && result.copied) {
    followUps.push(result.copied.swapCommand ? `Check ${result.copied.newName}, then swap it in: ${result.copied.swapCommand} (typed confirmation and approval).` : `${result.copied.newName ?? 'The copy'} failed verification and is kept for inspection.`);
  }
  if (result?.form === 'swap' && result.swapped) followUps.push(`The old database is kept as ${result.swapped.beforeName}; drop it once nobody needs it.`);
  return {
    target: shown.success ? { text: shown.data.targetText, time: shown.data.target.kind === 'time' ? (shown.data.target.time ?? null) : null } : null,
    to: result?.form === 'copy' ? 'side' : null,
    // What the side instance reached (the copy is of that point): the summary's recovery point and data-loss window.
    recovery: result?.form === 'copy' && result.copied ? { reachedTime: result.copied.reachedTime ?? null, replayLsn: null, timeline: null, dataDir: null, port: null, connect: null, oldDataDir: null } : null,
    followUps,
    sideInstanceHandled: true, // the copy job removes its side instance itself
  };
}
