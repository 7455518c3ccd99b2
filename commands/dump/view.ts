/** What `/recover dump` shows of its result: the CLI's text, the verdict, the Slack summary (pure). */
import { z } from 'zod';
import type { DumpRestored } from '../../src/engine/dumps/restore.js';
import { RecoverError } from '../../src/errors.js';
import type { SummaryFacts } from '../types.js';

export const dumpResultSchema = z
  .object({ newName: z.string().catch('?'), swapCommand: z.string().nullable().catch(null), stamp: z.string().catch('?') })
  .partial()
  .catch({});
export type DumpResultView = z.infer<typeof dumpResultSchema>;

export function formatDumpResult(result: DumpRestored): string {
  const timed = Object.entries(result.seconds).map(([kind, seconds]) => `${kind} ${seconds.toFixed(1)} s`).join(', ');
  return [
    `Dump ${result.database}/${result.stamp} restored as ${result.newName} on production (${(result.bytes / 1e6).toFixed(1)} MB; ${timed}).`,
    ...result.tables.map((table) => `  ${table.table}: ${table.copy ?? 'missing'} rows (dump ${table.dump})`),
    ...result.report.checks.filter((check) => !check.ok).map((check) => `  FAILED ${check.name}: ${check.message}`),
    `Recorded as copy ${result.record.copyId} in ${result.record.where}.`,
    result.swapCommand ? `To put it in place of ${result.database}: ${result.swapCommand}` : result.report.ok ? `${result.newName} is not named ${result.database}_restored_<stamp>, so /recover database --swap does not take it; rename it by hand if it should replace ${result.database}.` : `${result.newName} failed verification and is kept for inspection.`,
  ].join('\n');
}

export function dumpVerdict(result: DumpRestored): RecoverError | null {
  if (result.report.ok) return null;
  const failed = result.report.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.message}`);
  return new RecoverError('VERIFY_FAILED', `The dump was restored as ${result.newName} but verification failed: ${failed.join('; ')}.`, {
    hint: `Nothing else was changed. Inspect ${result.newName}; drop it when done (DROP DATABASE "${result.newName}").`,
  });
}

export function dumpSummary(params: unknown, result: DumpResultView | null): SummaryFacts {
  const shown = z.object({ database: z.string(), stamp: z.string() }).safeParse(params);
  const followUps: string[] = [];
  if (result?.newName) followUps.push(result.swapCommand ? `Check ${result.newName}, then swap it in: ${result.swapCommand} (typed confirmation and approval).` : `${result.newName} is on production beside the original.`);
  return {
    target: shown.success ? { text: `dump ${shown.data.database}/${shown.data.stamp}`, time: null } : null,
    to: null,
    recovery: null,
    followUps,
    sideInstanceHandled: true, // no side instance: the dump is restored straight into a new database
  };
}
