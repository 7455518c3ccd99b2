/**
 * What /recover rows shows: the preview as plan facts (so the digest binds to its counts),
 * the CLI's text of a result, and the Slack summary's facts (the result read back leniently).
 */
import { z } from 'zod';
import type { RowsPreview } from '../src/engine/rows/copy-back.js';
import type { RowsApplied, RowsRestored } from '../src/engine/rows/restore-rows.js';
import type { SummaryFacts } from './types.js';

export type RowsResult = { form: 'restore'; restored: RowsRestored } | { form: 'apply'; applied: RowsApplied };

/** The result as the bot reads it back: only what the summary uses, anything missing is null. */
export const rowsResultSchema = z
  .object({
    form: z.enum(['restore', 'apply']).catch('restore'),
    restored: z.object({ instanceName: z.string().catch('?'), connect: z.string().nullable().catch(null), reachedTime: z.string().nullable().catch(null) }).partial().optional().catch(undefined),
    applied: z.object({ totals: z.object({ restored: z.number(), skippedPresent: z.number(), conflicting: z.number() }).optional().catch(undefined), instanceName: z.string().catch('?'), instanceRemoved: z.boolean().catch(false) }).partial().optional().catch(undefined),
  })
  .catch({ form: 'restore' });
export type RowsResultView = z.infer<typeof rowsResultSchema>;

function previewLines(preview: RowsPreview): string[] {
  return preview.tables.map((table) => {
    const where = table.via ? ` (children via ${table.via})` : '';
    const samples = table.sampleMissing.length > 0 ? `; missing e.g. ${table.sampleMissing.join(' ')}` : '';
    const conflicts = table.sampleDifferent.length > 0 ? `; different e.g. ${table.sampleDifferent.join(' ')}` : '';
    return `${table.table}${where}: ${table.matching} matching in the side instance, ${table.missing} missing in production, ${table.present} present (skipped), ${table.different} different (left alone)${samples}${conflicts}`;
  });
}

/** The preview as plan facts: one line per table, totals and the digest. */
export function previewFacts(preview: RowsPreview): Record<string, string> {
  const facts: Record<string, string> = { Filter: `${preview.table} where ${preview.filter}${preview.withChildren ? ', with child rows' : ''}` };
  previewLines(preview).forEach((line, index) => (facts[`Rows ${index + 1}`] = line));
  facts['Will insert'] = `${preview.totals.missing} rows; ${preview.totals.present} already present are skipped; ${preview.totals.different} present with other values are left alone`;
  facts['Preview digest'] = preview.digest.slice(0, 16);
  return facts;
}

export function formatRowsResult(result: RowsResult): string {
  if (result.form === 'restore') {
    const { restored } = result;
    return [
      `Side instance ${restored.instanceName} restored (reached ${restored.reachedTime ?? '?'}); connect: ${restored.connect}`,
      'Preview (nothing written to production):',
      ...previewLines(restored.preview).map((line) => `  ${line}`),
      `Totals: ${restored.preview.totals.missing} missing, ${restored.preview.totals.present} present, ${restored.preview.totals.different} different`,
    ].join('\n');
  }
  const { applied } = result;
  return [
    `Rows copied into production from ${applied.instanceName} in one transaction:`,
    ...applied.tables.map((table) => `  ${table.table}: ${table.restored} restored, ${table.skippedPresent} skipped (present), ${table.conflicting} conflicting (left alone)`),
    `Totals: ${applied.totals.restored} restored, ${applied.totals.skippedPresent} skipped, ${applied.totals.conflicting} conflicting`,
    ...applied.sequences.map((sequence) => `Sequence ${sequence.sequence} moved forward to ${sequence.movedTo}`),
    applied.instanceRemoved ? `Side instance ${applied.instanceName} removed.` : `Side instance ${applied.instanceName} kept.`,
  ].join('\n');
}

export function rowsSummary(params: unknown, result: RowsResultView | null): SummaryFacts {
  const at = z.object({ at: z.string() }).safeParse(params);
  const followUps: string[] = [];
  if (result?.form === 'restore' && result.restored) followUps.push(`Check the preview, then copy: recover rows … --from-instance ${result.restored.instanceName ?? '?'} (typed confirmation and approval).`);
  if (result?.form === 'apply' && result.applied?.totals) {
    const totals = result.applied.totals;
    followUps.push(`${totals.restored} rows restored, ${totals.skippedPresent} skipped (present), ${totals.conflicting} conflicting (left alone).`);
  }
  return { target: at.success ? { text: at.data.at, time: at.data.at } : null, to: result?.form === 'restore' ? 'side' : null, recovery: null, followUps };
}
