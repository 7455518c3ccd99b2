/**
 * What /recover rows shows: the preview as plan facts (so the digest binds to its counts),
 * the CLI's text of a result, and the Slack summary's facts (the result read back leniently).
 */
import { z } from 'zod';
import type { RowsPreview } from '../src/engine/rows/copy-back.js';
import type { RowsApplied, RowsRestored } from '../src/engine/rows/restore-rows.js';
import type { SummaryFacts } from './types.js';
import { linesWithin } from '../src/util/format.js';

/** A filter as one word of the tokenizer (words.ts): double quotes unless it holds one. */
const quotedFilter = (filter: string): string => (filter.includes('"') && !filter.includes("'") ? `'${filter}'` : `"${filter}"`);

/** The words of the copy that follows a restore (after `/recover ` in Slack, `recover ` in a terminal). */
export function followUpWords(spec: { table: string; filter: string; withChildren: boolean }, database: string, instanceName: string): string {
  return `rows ${spec.table} --where ${quotedFilter(spec.filter)} --from-instance ${instanceName}${spec.withChildren ? ' --with-children' : ''} --db ${database}`;
}

export type RowsResult = { form: 'restore'; restored: RowsRestored; /** The copy's words after `recover ` / `/recover `. */ then?: string } | { form: 'apply'; applied: RowsApplied };

const counts = z.object({ missing: z.number(), present: z.number(), different: z.number(), conflicting: z.number().catch(0), parentSkipped: z.number().catch(0) });
const copyCounts = z.object({ restored: z.number(), skippedPresent: z.number(), conflicting: z.number(), different: z.number().optional().catch(undefined), uniqueConflicts: z.number().catch(0), parentSkipped: z.number().catch(0) });
const conflictList = z.array(z.object({ key: z.string(), reason: z.string() })).catch([]);
const tableCounts = counts.extend({ table: z.string(), via: z.string().nullable().catch(null), matching: z.number() });

/** The result as the bot reads it back: only what the summary uses, anything missing is null. */
export const rowsResultSchema = z
  .object({
    form: z.enum(['restore', 'apply']).catch('restore'),
    then: z.string().optional().catch(undefined),
    restored: z
      .object({
        instanceName: z.string().catch('?'),
        connect: z.string().nullable().catch(null),
        reachedTime: z.string().nullable().catch(null),
        preview: z.object({ tables: z.array(tableCounts), totals: counts }).optional().catch(undefined),
      })
      .partial()
      .optional()
      .catch(undefined),
    applied: z.object({ totals: copyCounts.optional().catch(undefined), tables: z.array(copyCounts.extend({ table: z.string(), conflicts: conflictList, parentSkips: conflictList })).catch([]), instanceName: z.string().catch('?'), instanceRemoved: z.boolean().catch(false) }).partial().optional().catch(undefined),
  })
  .catch({ form: 'restore' });
export type RowsResultView = z.infer<typeof rowsResultSchema>;

function previewLines(preview: RowsPreview): string[] {
  return preview.tables.map((table) => {
    const where = table.via ? ` (children via ${table.via})` : '';
    const samples = table.sampleMissing.length > 0 ? `; missing e.g. ${table.sampleMissing.join(' ')}` : '';
    const different = table.sampleDifferent.length > 0 ? `; different e.g. ${table.sampleDifferent.join(' ')}` : '';
    const conflicts = table.sampleConflicts.length > 0 ? `; conflicting e.g. ${table.sampleConflicts.join('; ')}` : '';
    const orphans = table.parentSkipped > 0 ? `, ${table.parentSkipped} child rows skipped (their parent does not go back or differs in production: not inserted), e.g. ${table.sampleParentSkipped.join('; ')}` : '';
    return `${table.table}${where}: ${table.matching} matching in the side instance, ${table.missing} missing in production, ${table.present} present (skipped), ${table.different} different (left alone), ${table.conflicting} conflicting (missing but a unique value is taken: not inserted)${orphans}${samples}${different}${conflicts}`;
  });
}

/** Per-table lines in the plan's facts stay within this many characters (the Slack preview holds ~11 600 of facts). */
const FACT_TABLES_BUDGET = 6000;

/**
 * The preview as plan facts: the totals and the digest first (so they survive Slack's limits),
 * then one line per table while they fit, and the rest as one line of sums.
 */
export function previewFacts(preview: RowsPreview): Record<string, string> {
  const facts: Record<string, string> = { Filter: `${preview.table} where ${preview.filter}${preview.withChildren ? ', with child rows' : ''}` };
  facts['Will insert'] = `${preview.totals.missing} rows; ${preview.totals.present} already present are skipped; ${preview.totals.different} present with other values are left alone`;
  if (preview.totals.conflicting > 0) facts['Conflicting'] = `${preview.totals.conflicting} ${preview.totals.conflicting === 1 ? 'row' : 'rows'} missing by primary key ${preview.totals.conflicting === 1 ? 'is' : 'are'} NOT inserted: another production row holds a unique value of theirs (or of their parent); see the tables below`;
  if (preview.totals.parentSkipped > 0) facts['Child rows skipped'] = `${preview.totals.parentSkipped} child ${preview.totals.parentSkipped === 1 ? 'row is' : 'rows are'} NOT inserted: ${preview.totals.parentSkipped === 1 ? 'its' : 'their'} parent does not go back or is in production with other values (never attached to another row); see the tables below`;
  facts['Preview digest'] = preview.digest.slice(0, 16);
  const lines = previewLines(preview);
  let used = 0;
  let index = 0;
  for (; index < lines.length && used + lines[index]!.length <= FACT_TABLES_BUDGET; index++) {
    facts[`Rows ${index + 1}`] = lines[index]!;
    used += lines[index]!.length;
  }
  const rest = preview.tables.slice(index);
  if (rest.length > 0) {
    const sum = (key: 'matching' | 'missing' | 'present' | 'different' | 'conflicting') => rest.reduce((total, table) => total + table[key], 0);
    facts[`Rows ${index + 1}–${preview.tables.length}`] = `${rest.length} more tables (${rest.map((t) => t.table).join(', ')}): ${sum('matching')} matching, ${sum('missing')} missing, ${sum('present')} present, ${sum('different')} different, ${sum('conflicting')} conflicting`;
  }
  return facts;
}

export function formatRowsResult(result: RowsResult): string {
  if (result.form === 'restore') {
    const { restored } = result;
    return [
      `Side instance ${restored.instanceName} restored (reached ${restored.reachedTime ?? '?'}); connect: ${restored.connect}`,
      ...(restored.report ? [`Side instance integrity: ${restored.report.ok ? 'passed' : 'FAILED'} (${restored.report.checks.filter((c) => c.ok).length} of ${restored.report.checks.length} checks passed)`, ...restored.report.checks.filter((c) => !c.ok || c.informational).map((c) => `  ${c.ok ? 'i' : '✗'} ${c.name}: ${c.message}`)] : []),
      'Preview (nothing written to production):',
      ...previewLines(restored.preview).map((line) => `  ${line}`),
      `Totals: ${restored.preview.totals.missing} missing, ${restored.preview.totals.present} present, ${restored.preview.totals.different} different, ${restored.preview.totals.conflicting} conflicting${restored.preview.totals.parentSkipped > 0 ? `, ${restored.preview.totals.parentSkipped} child rows skipped (parent)` : ''}`,
      ...(result.then ? [`Then: recover ${result.then}`] : []),
    ].join('\n');
  }
  const { applied } = result;
  return [
    `Rows copied into production from ${applied.instanceName} in one transaction:`,
    ...applied.tables.flatMap((table) => [
      `  ${table.table}: ${table.restored} restored, ${table.skippedPresent} skipped (present), ${table.conflicting} conflicting (left alone: ${table.different} different, ${table.uniqueConflicts} with a unique value taken)`,
      ...table.conflicts.map((c) => `    not inserted ${c.key}: ${c.reason}`),
      ...(table.parentSkipped > 0 ? [`  ${table.table}: ${table.parentSkipped} child rows skipped, not inserted because of their parent:`] : []),
      ...table.parentSkips.map((c) => `    skipped ${c.key}: ${c.reason}`),
      ...(table.parentSkipped > table.parentSkips.length ? [`    … and ${table.parentSkipped - table.parentSkips.length} more (see --json for the first ${table.parentSkips.length})`] : []),
    ]),
    `Totals: ${applied.totals.restored} restored, ${applied.totals.skippedPresent} skipped, ${applied.totals.conflicting} conflicting (${applied.totals.uniqueConflicts} with a unique value taken)${applied.totals.parentSkipped > 0 ? `, ${applied.totals.parentSkipped} child rows skipped (parent not restored or different)` : ''}`,
    ...applied.sequences.map((sequence) => `Sequence ${sequence.sequence} moved forward to ${sequence.movedTo}`),
    applied.instanceRemoved ? `Side instance ${applied.instanceName} removed.` : `Side instance ${applied.instanceName} kept.`,
  ].join('\n');
}

/** Per-table preview lines the summary shows, within this many characters (Slack's section limit leaves room for the rest). */
const SUMMARY_TABLES_BUDGET = 1800;

export function rowsSummary(params: unknown, result: RowsResultView | null): SummaryFacts {
  const shape = z.object({ at: z.string().nullable(), beforeXid: z.string().nullable() }).partial().safeParse(params);
  const given = shape.success ? shape.data : {};
  const followUps: string[] = [];
  const restored = result?.form === 'restore' ? result.restored : undefined;
  if (restored) {
    const name = restored.instanceName ?? '?';
    const command = `/recover ${result?.then ?? `rows … --from-instance ${name}`}`;
    followUps.push(`Check the preview, then copy the missing rows into production (typed confirmation and approval; the side instance is removed afterwards): ${command}`);
    const preview = restored.preview;
    if (preview) {
      const orphans = preview.totals.parentSkipped > 0 ? ` ${preview.totals.parentSkipped} child rows skipped (their parent does not go back or differs in production: not inserted).` : '';
      followUps.push(`Preview (nothing written to production): ${preview.totals.missing} missing in production, ${preview.totals.present} present (skipped), ${preview.totals.different} different (left alone), ${preview.totals.conflicting} conflicting (a unique value taken: not inserted).${orphans}`);
      const lines = preview.tables.map((t) => `${t.table}${t.via ? ` (via ${t.via})` : ''}: ${t.matching} matching, ${t.missing} missing, ${t.present} present, ${t.different} different, ${t.conflicting} conflicting${t.parentSkipped > 0 ? `, ${t.parentSkipped} skipped for their parent` : ''}`);
      followUps.push(...linesWithin(lines, SUMMARY_TABLES_BUDGET, (n) => `…and ${n} more table(s): see the copy's plan.`));
    }
  }
  if (result?.form === 'apply' && result.applied?.totals) {
    const totals = result.applied.totals;
    followUps.push(`${totals.restored} rows restored, ${totals.skippedPresent} skipped (present), ${totals.conflicting} conflicting (left alone${totals.uniqueConflicts > 0 ? `; ${totals.uniqueConflicts} not inserted because a unique value is taken` : ''}).`);
    const lines = (result.applied.tables ?? []).map((t) => {
      const orphans = t.parentSkipped > 0 ? `; ${t.parentSkipped} child rows skipped because of their parent (${t.parentSkips.slice(0, 5).map((c) => c.key).join(' ')}${t.parentSkipped > 5 ? ' …' : ''}: ${t.parentSkips[0]?.reason ?? 'parent not restored'})` : '';
      return `${t.table}: ${t.restored} restored, ${t.skippedPresent} skipped, ${t.conflicting} conflicting${t.conflicts.length > 0 ? ` (e.g. ${t.conflicts.map((c) => `${c.key}: ${c.reason}`).join('; ')})` : ''}${orphans}`;
    });
    followUps.push(...linesWithin(lines, SUMMARY_TABLES_BUDGET, (n) => `…and ${n} more table(s): see the job's result.`));
    if (totals.parentSkipped > 0) followUps.push(`${totals.parentSkipped} child rows were NOT inserted because their parent was neither restored by this copy nor in production with the side instance's values (e.g. a new row took its key): they were not attached to another row. Their keys are in the job's result (recover … --json); compare with the side instance before inserting them by hand.`);
    if (totals.conflicting > 0) followUps.push('Conflicting rows were left alone: rows present with other values, and missing rows whose unique value another row now holds (named above). Compare them with the side instance before changing anything.');
    if (result.applied.instanceRemoved === false) followUps.push(`The side instance ${result.applied.instanceName ?? '?'} was kept: stop and remove it when done.`);
  }
  const target = given.beforeXid ? { text: `just before transaction ${given.beforeXid}`, time: null } : given.at ? { text: given.at, time: given.at } : null;
  const recovery = restored ? { reachedTime: restored.reachedTime ?? null, replayLsn: null, timeline: null, dataDir: null, port: null, connect: restored.connect ?? null, oldDataDir: null } : null;
  return { target, to: result?.form === 'restore' ? 'side' : null, recovery, followUps, sideInstanceHandled: true };
}

