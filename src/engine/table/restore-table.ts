/**
 * The two jobs of /recover table. `restoreForTable`: a new side instance restored to the target
 * (restoreSideInstance), then the comparison with production; nothing is written to production.
 * `applyTable`: the comparison again from the kept side instance, refused unless it is the
 * approved one, then the mode's write in one production transaction (as-new, missing-rows
 * through the rows engine, replace), then the side instance removed unless asked to keep it.
 * Steps: select, restore-base-backup, configure-recovery, replay-wal, preview |
 * check-preview, copy-table | copy-rows | replace-table, remove-instance.
 */
import type { RestoreSelection } from '../../catalog/select-restore.js';
import { RecoverError } from '../../errors.js';
import type { RecoveryTarget } from '../../types.js';
import type { EngineContext } from '../context.js';
import { sideInstanceConnection } from '../instances.js';
import { restoreSideForJob, step, type RestoreConfig, type SideInstanceFacts } from '../restore-to-target.js';
import { copyMissingRows } from '../rows/copy-back.js';
import { productionConnection, verifyAndRemoveInstance } from '../rows/restore-rows.js';
import { copyAsNew, replaceTable, type AsNewResult, type ReplaceResult } from './apply.js';
import { compareTable, modeDigest, modeRefusal, type TableComparison, type TableMode } from './compare.js';
import { copyDropped, dumpTableDefinition } from './dropped.js';
import { withTargetClient } from '../pg-client.js';
import { requireTargetInDatabase } from '../targets/guard.js';
import { afterSideRestore } from '../side-refusal.js';
import { contentSql, everyRowFilter } from './table-sql.js';
import type { IntegrityReport } from '../verify.js';

export interface TableRestored extends SideInstanceFacts {
  comparison: TableComparison;
}

export async function restoreForTable(
  ctx: EngineContext,
  config: RestoreConfig,
  request: { selection: RestoreSelection; target: RecoveryTarget; inclusive: boolean; instanceName: string; database: string; table: string },
): Promise<TableRestored> {
  // The plan's table and database checked again before a side instance is restored (engine/targets).
  await requireTargetInDatabase((db) => productionConnection(config, db), request.database, request.table, 'table');
  const { restored, side } = await restoreSideForJob(ctx, config, request);
  const finishPreview = step(ctx, 'preview', `Compare ${request.table} in the side instance with production`);
  // A refusal only the side copy can tell (its database or table at the target time) keeps the instance (exit 1: a restore ran).
  const comparison = await afterSideRestore(side, () => compareTable({ ...restored.layout.connection, database: request.database }, productionConnection(config, request.database), request.table));
  finishPreview(
    comparison.basis === 'dropped'
      ? `${comparison.sideRows} rows in the side copy; production has no ${comparison.table} (only --mode as-new restores it)`
      : comparison.basis === 'no-key'
        ? `${comparison.sideRows} rows in the side copy, ${comparison.productionRows} in production; no primary key, rows not compared`
        : `${comparison.sideRows} rows in the side copy, ${comparison.productionRows} in production: ${comparison.missing} missing, ${comparison.different} different, ${comparison.onlyInProduction} only in production`,
  );
  return { ...side, comparison };
}

/** The comparison from a kept side instance (planning the write). */
export async function compareFromInstance(config: RestoreConfig, instance: string, database: string, table: string): Promise<TableComparison> {
  const side = await sideInstanceConnection(config, instance);
  return compareTable({ ...side, database }, productionConnection(config, database), table);
}

export type TableWritten =
  | { mode: 'as-new'; asNew: AsNewResult }
  | { mode: 'missing-rows'; missingRows: { table: string; rowsBefore: number; rowsAfter: number; restored: number; skippedPresent: number; conflicting: number; sequences: { sequence: string; movedTo: string }[] } }
  | { mode: 'replace'; replace: ReplaceResult };

export type TableApplied = TableWritten & { instanceName: string; instanceRemoved: boolean; report?: IntegrityReport };

export const WRITE_STEP = { 'as-new': 'copy-table', 'missing-rows': 'copy-rows', replace: 'replace-table' } as const;

export async function applyTable(
  ctx: EngineContext,
  config: RestoreConfig,
  request: { instanceName: string; database: string; table: string; mode: TableMode; digest: string; keepInstance: boolean; beforeDestructiveStep: (step: string) => Promise<void> },
): Promise<TableApplied> {
  // Checked again here and, for every table written or copied, inside the write's transaction (readTable).
  await requireTargetInDatabase((db) => productionConnection(config, db), request.database, request.table, 'table');
  const side = { ...(await sideInstanceConnection(config, request.instanceName)), database: request.database };
  const production = productionConnection(config, request.database);
  const finishCheck = step(ctx, 'check-preview', 'Check the comparison is still the approved one');
  const comparison = await compareTable(side, production, request.table);
  const refused = modeRefusal(request.mode, comparison, (name) => `/recover table ${request.table} --from-instance ${request.instanceName} --mode as-new ${name} --db ${request.database}`);
  if (refused) throw refused;
  if (modeDigest(request.mode, comparison) !== request.digest) {
    throw new RecoverError('COMMAND_FAILED', `The comparison of ${comparison.table} changed since it was approved (now ${comparison.productionRows} rows in production, ${comparison.missing} missing, ${comparison.different} different); nothing was written.`, {
      hint: 'Production changed meanwhile. Plan again to see and approve the current counts.',
    });
  }
  finishCheck(`${comparison.sideRows} rows in the side copy, as approved`);
  const kind = WRITE_STEP[request.mode.kind];
  await request.beforeDestructiveStep(kind);
  const finishWrite = step(ctx, kind, `Write ${comparison.table} into production (${request.mode.kind}, one transaction)`);
  let written: TableWritten;
  if (request.mode.kind === 'as-new' && comparison.basis === 'dropped') {
    const definition = await dumpTableDefinition(ctx, config, request.instanceName, side, comparison.relation);
    const asNew = await copyDropped(side, production, request.table, request.mode.name, definition, request.digest);
    const kept = asNew.foreignKeys!.filter((key) => !key.recreated).map((key) => key.constraint);
    finishWrite(`${asNew.created} created from the side copy's definition with ${asNew.rows} rows${kept.length > 0 ? `; foreign keys not re-created (rows lack a match): ${kept.join(', ')}` : ''}`);
    written = { mode: 'as-new', asNew };
  } else if (request.mode.kind === 'as-new') {
    const asNew = await copyAsNew(side, production, request.table, request.mode.name, request.digest);
    finishWrite(`${asNew.created} created with ${asNew.rows} rows; ${asNew.table} untouched (${asNew.liveRows} rows)`);
    written = { mode: 'as-new', asNew };
  } else if (request.mode.kind === 'replace') {
    const replace = await replaceTable(side, production, request.table, request.digest);
    finishWrite(`${replace.rowsBefore} rows before, ${replace.rowsAfter} after: ${replace.deleted} deleted, ${replace.updated} updated, ${replace.inserted} inserted`);
    written = { mode: 'replace', replace };
  } else {
    const copied = await copyMissingRows(side, production, { table: request.table, filter: everyRowFilter(comparison), withChildren: false, pageRows: 1000 }, { expectDigest: request.digest });
    const rowsAfter = await withTargetClient(production, async (client) => Number((await client.query<{ rows: string }>(contentSql(comparison.relation))).rows[0]!.rows));
    finishWrite(`${copied.totals.restored} restored, ${copied.totals.skippedPresent} skipped (present), ${copied.totals.conflicting} conflicting`);
    written = { mode: 'missing-rows', missingRows: { table: comparison.table, rowsBefore: comparison.productionRows, rowsAfter, ...copied.totals, sequences: copied.sequences } };
  }
  return { ...written, ...(await verifyAndRemoveInstance(ctx, config, request)) };
}
