/**
 * What /recover table shows: the comparison as plan facts (so the digest binds to its counts),
 * the CLI's text of a result, and the Slack summary's facts (the result read back leniently).
 */
import { z } from 'zod';
import type { TableComparison } from '../src/engine/table/compare.js';
import type { TableApplied, TableRestored } from '../src/engine/table/restore-table.js';
import type { TableModeArgs } from './table-args.js';
import type { SummaryFacts } from './types.js';

export type TableResult = { form: 'restore'; restored: TableRestored } | { form: 'apply'; applied: TableApplied };

export const tableResultSchema = z
  .object({
    form: z.enum(['restore', 'apply']).catch('restore'),
    restored: z.object({ instanceName: z.string().catch('?'), reachedTime: z.string().nullable().catch(null), comparison: z.object({ basis: z.string(), relation: z.object({ name: z.string() }) }).optional().catch(undefined) }).partial().optional().catch(undefined),
    applied: z
      .object({
        mode: z.string().catch('?'),
        instanceName: z.string().catch('?'),
        instanceRemoved: z.boolean().catch(false),
        asNew: z.object({ created: z.string(), foreignKeys: z.array(z.object({ constraint: z.string(), references: z.string(), recreated: z.boolean() })).optional() }).optional().catch(undefined),
      })
      .partial()
      .passthrough()
      .optional()
      .catch(undefined),
  })
  .catch({ form: 'restore' });
export type TableResultView = z.infer<typeof tableResultSchema>;

function referenceLine(comparison: TableComparison): string {
  if (comparison.references.length === 0) return 'no foreign key of another table points at it';
  return comparison.references.map((r) => `${r.table} (${r.constraint}): ${r.orphaned} rows point at keys the side copy lacks`).join('; ');
}

function foreignKeyLine(comparison: TableComparison): string {
  if (comparison.outgoing.length === 0) return 'none';
  return comparison.outgoing
    .map((k) => `${k.constraint} → ${k.references}: ${k.unmatched === null ? 'production has no such table (not re-created)' : k.unmatched === 0 ? 'every row has its match in production (re-created)' : `${k.unmatched} rows point at keys production lacks (not re-created; listed)`}`)
    .join('; ');
}

function comparisonLines(comparison: TableComparison): [string, string][] {
  if (comparison.basis === 'dropped') {
    return [
      ['Rows', `${comparison.sideRows} in the side copy; production has no ${comparison.table} now (dropped?)`],
      ['Foreign keys', foreignKeyLine(comparison)],
    ];
  }
  if (comparison.basis === 'no-key') {
    return [
      ['Rows', `${comparison.sideRows} in the side copy, ${comparison.productionRows} in production now`],
      ['Compared by primary key', 'not compared: the table has no primary key (only --mode as-new can restore it: every row, into a new table)'],
    ];
  }
  const samples = comparison.sampleMissing.length > 0 ? `; missing e.g. ${comparison.sampleMissing.join(' ')}` : '';
  return [
    ['Rows', `${comparison.sideRows} in the side copy, ${comparison.productionRows} in production now`],
    ['Compared by primary key', `${comparison.missing} missing in production, ${comparison.present} present and equal, ${comparison.different} present but different, ${comparison.onlyInProduction} only in production${samples}`],
    ['Referenced by', referenceLine(comparison)],
  ];
}

/** What the mode would do, from the comparison. */
export function modeEffect(mode: TableModeArgs, comparison: TableComparison, schemaOf: string): string {
  if (mode.kind === 'as-new' && comparison.basis === 'dropped') {
    return `Create ${schemaOf === 'public' ? '' : `${schemaOf}.`}${mode.name} from the side copy's own definition (pg_dump --schema-only: columns, types, defaults, NOT NULL, primary key, unique and check constraints, indexes, owned sequences, owner, grants) with its ${comparison.sideRows} rows; foreign keys re-created only where every row holds`;
  }
  if (mode.kind === 'as-new') return `Create ${schemaOf === 'public' ? '' : `${schemaOf}.`}${mode.name} beside ${comparison.table} with the side copy's ${comparison.sideRows} rows; ${comparison.table} itself is not touched`;
  if (mode.kind === 'missing-rows') return `Insert ${comparison.missing} missing rows into ${comparison.table} (${comparison.productionRows} → ${comparison.productionRows + comparison.missing} rows); ${comparison.different} different and ${comparison.onlyInProduction} production-only rows are left alone`;
  return `Make ${comparison.table} equal to the side copy: delete ${comparison.onlyInProduction}, update ${comparison.different}, insert ${comparison.missing} (${comparison.productionRows} → ${comparison.sideRows} rows)`;
}

/** The comparison as plan facts. */
export function comparisonFacts(comparison: TableComparison, mode: TableModeArgs, digest: string): Record<string, string> {
  return { Table: comparison.table, ...Object.fromEntries(comparisonLines(comparison)), Will: modeEffect(mode, comparison, comparison.relation.schema), 'Comparison digest': digest.slice(0, 16) };
}

export function formatTableResult(result: TableResult): string {
  if (result.form === 'restore') {
    const { restored } = result;
    return [
      `Side instance ${restored.instanceName} restored (reached ${restored.reachedTime ?? '?'}); connect: ${restored.connect}`,
      `${restored.comparison.table} compared with production (nothing written):`,
      ...comparisonLines(restored.comparison).map(([label, text]) => `  ${label}: ${text}`),
    ].join('\n');
  }
  const { applied } = result;
  const lines: string[] = [];
  if (applied.mode === 'as-new' && applied.asNew.liveRows === null) {
    lines.push(`${applied.asNew.created} created from ${applied.instanceName}'s definition of ${applied.asNew.table} with ${applied.asNew.rows} rows.`);
    lines.push(...(applied.asNew.foreignKeys ?? []).map((k) => (k.recreated ? `Foreign key ${k.constraint} → ${k.references} re-created.` : `Foreign key ${k.constraint} → ${k.references} NOT re-created: ${k.why}`)));
  } else if (applied.mode === 'as-new') lines.push(`${applied.asNew.created} created from ${applied.instanceName} with ${applied.asNew.rows} rows; ${applied.asNew.table} untouched (${applied.asNew.liveRows} rows).`);
  if (applied.mode === 'missing-rows') {
    const m = applied.missingRows;
    lines.push(`${m.table}: ${m.restored} missing rows restored, ${m.skippedPresent} skipped (present), ${m.conflicting} conflicting (left alone); rows before ${m.rowsBefore}, after ${m.rowsAfter}.`);
  }
  if (applied.mode === 'replace') {
    const r = applied.replace;
    lines.push(`${r.table} replaced in one transaction: ${r.deleted} deleted, ${r.updated} updated, ${r.inserted} inserted; rows before ${r.rowsBefore}, after ${r.rowsAfter}.`);
  }
  const sequences = applied.mode === 'as-new' ? applied.asNew.sequences : applied.mode === 'missing-rows' ? applied.missingRows.sequences : applied.replace.sequences;
  lines.push(...sequences.map((s) => `Sequence ${s.sequence} moved forward to ${s.movedTo}`));
  lines.push(applied.instanceRemoved ? `Side instance ${applied.instanceName} removed.` : `Side instance ${applied.instanceName} kept.`);
  return lines.join('\n');
}

const shownParams = z.object({ table: z.string(), database: z.string(), mode: z.object({ kind: z.string(), name: z.string().optional() }) }).partial();

export function tableSummary(params: unknown, result: TableResultView | null): SummaryFacts {
  const target = z.object({ target: z.object({ kind: z.string(), time: z.string().optional(), xid: z.string().optional() }) }).safeParse(params);
  const shown = shownParams.safeParse(params);
  const followUps: string[] = [];
  if (result?.form === 'restore' && result.restored) {
    const p = shown.success ? shown.data : {};
    const comparison = result.restored.comparison;
    // A dropped table (or one without a key) is restored by as-new only: the follow-up says so.
    const asNewOnly = comparison && comparison.basis !== 'by-key' && p.mode?.kind !== 'as-new';
    const mode = asNewOnly ? `--mode as-new ${comparison!.basis === 'dropped' ? comparison!.relation.name : `${comparison!.relation.name.slice(0, 54)}_restored`}` : p.mode?.kind === 'as-new' ? `--mode as-new ${p.mode.name ?? '?'}` : `--mode ${p.mode?.kind ?? '…'}`;
    const ownName = comparison?.basis === 'dropped' && mode !== `--mode as-new ${comparison.relation.name}` ? `; to put it back under its own name (nothing there to overwrite): --mode as-new ${comparison.relation.name}` : '';
    const why = comparison?.basis === 'dropped' ? ` Production has no such table: as-new creates it from the side copy${ownName}.` : comparison?.basis === 'no-key' ? ' It has no primary key: only as-new can restore it.' : '';
    followUps.push(`Check the comparison, then write (typed confirmation and approval): /recover table ${p.table ?? '…'} --from-instance ${result.restored.instanceName ?? '?'} ${mode} --db ${p.database ?? '…'}.${why}`);
  }
  if (result?.form === 'apply' && result.applied) {
    followUps.push(`Table written (${result.applied.mode ?? '?'}); side instance ${result.applied.instanceRemoved ? 'removed' : 'kept'}.`);
    const skipped = (result.applied.asNew?.foreignKeys ?? []).filter((k) => !k.recreated);
    if (skipped.length > 0) followUps.push(`Foreign keys not re-created (rows lack a match in production): ${skipped.map((k) => `${k.constraint} → ${k.references}`).join(', ')}; fix those rows, then add them.`);
  }
  const t = target.success ? target.data.target : null;
  return {
    target: t ? (t.kind === 'time' && t.time ? { text: t.time, time: t.time } : { text: `just before transaction ${t.xid ?? '?'}`, time: null }) : null,
    to: result?.form === 'restore' ? 'side' : null,
    recovery: result?.form === 'restore' && result.restored ? { reachedTime: result.restored.reachedTime ?? null, replayLsn: null, timeline: null, dataDir: null, port: null, connect: null, oldDataDir: null } : null,
    followUps,
    sideInstanceHandled: true,
  };
}
