/**
 * The two jobs of /recover rows. `restoreForRows`: a new side instance restored to the target
 * (restoreSideInstance: prefetch and all), then the preview against production; nothing is
 * written to production. `applyRows`: the preview again from the kept side instance, refused
 * if it is not the approved one, the copy in one production transaction, then the side
 * instance stopped and removed unless asked to keep it.
 * Both verify: the side instance before its preview (integrity checks, row counts compared with
 * production, informational), production after the copy (integrity checks, and the restored
 * rows compared with the side instance).
 * Steps: select, restore-base-backup, configure-recovery, replay-wal, verify, preview | check-preview, copy-rows, verify, remove-instance.
 */
import type { RestoreSelection } from '../../catalog/select-restore.js';
import { RecoverError } from '../../errors.js';
import type { RecoveryTarget } from '../../types.js';
import { parseConnectionUrl, pgClientConfig } from '../../util/connection-url.js';
import { nowIso, type EngineContext } from '../context.js';
import { openSideInstance, removeSideInstance, sideInstanceConnection } from '../instances.js';
import type { TargetConnection } from '../pg-client.js';
import { verifyRestored, type IntegrityReport } from '../verify.js';
import { restoreSideForJob, step, type RestoreConfig, type SideInstanceFacts } from '../restore-to-target.js';
import type { IntegrityCheck } from '../integrity/types.js';
import { requireTargetInDatabase } from '../targets/guard.js';
import { afterSideRestore } from '../side-refusal.js';
import { restoredRowsChecks } from './compare-checks.js';
import { checkRowsOnProduction } from './filter-check.js';
import { copyMissingRows, previewRows, type CopyResult, type RowsPreview, type RowsSpec } from './copy-back.js';

export function productionConnection(config: Pick<RestoreConfig, 'source'>, database: string): TargetConnection {
  if (!config.source.url) throw new RecoverError('CONFIG_INVALID', 'Restoring rows needs RECOVER_SOURCE_URL (production, where the rows go back).', { hint: 'Configure how the runner connects to production.' });
  return pgClientConfig(parseConnectionUrl(config.source.url), database);
}

export interface RowsRestored extends SideInstanceFacts {
  preview: RowsPreview;
  /** The side instance's integrity checks (read before the preview), with its row counts compared with production's. */
  report?: IntegrityReport;
}

export async function restoreForRows(
  ctx: EngineContext,
  config: RestoreConfig,
  request: { selection: RestoreSelection; target: RecoveryTarget; inclusive: boolean; instanceName: string; database: string; spec: RowsSpec },
): Promise<RowsRestored> {
  // The plan's table and database checked again before a side instance is restored (engine/targets).
  await requireTargetInDatabase((db) => productionConnection(config, db), request.database, request.spec.table, 'rows');
  // Again before anything is restored (production may have changed since planning): primary keys, every filter value read as its column's type.
  await checkRowsOnProduction(productionConnection(config, request.database), request.spec, `production (database ${request.database})`);
  const { restored, side } = await restoreSideForJob(ctx, config, request);
  // What only the side copy can tell (its table at the target time) is refused with the instance kept (exit 1: a restore ran).
  return afterSideRestore(side, async () => {
    const sideConnection = { ...restored.layout.connection, database: request.database };
    const finishVerify = step(ctx, 'verify', `Verify the side instance ${request.instanceName} (database ${request.database}): integrity checks, row counts compared with production`);
    const report = await verifyRestored(restored.layout.connection, {
      databases: [request.database],
      subject: `side instance ${request.instanceName} (database ${request.database})`,
      // A side instance may get the amcheck extension (as /recover verify --instance); its data is only read.
      amcheck: 'create',
      tables: config.verifyTables,
      ...(config.verifyConfigFile ? { configFile: config.verifyConfigFile } : {}),
      compareWith: { connection: productionConnection(config, 'postgres'), name: 'production' },
    });
    ctx.events.emit({ type: 'integrity.report', at: nowIso(ctx.clock), report });
    finishVerify(report.ok ? 'all checks passed' : 'some checks failed');
    const finishPreview = step(ctx, 'preview', `Preview: ${request.spec.table} where ${request.spec.filter}, side instance against production`);
    const preview = await previewRows(sideConnection, productionConnection(config, request.database), request.spec);
    finishPreview(`${preview.totals.missing} missing, ${preview.totals.present} present, ${preview.totals.different} different, ${preview.totals.conflicting} conflicting`);
    return { ...side, preview, report };
  });
}

/** The preview from a kept side instance (planning the copy). */
export async function previewFromInstance(config: RestoreConfig, instance: string, database: string, spec: RowsSpec): Promise<RowsPreview> {
  const side = await sideInstanceConnection(config, instance);
  return previewRows({ ...side, database }, productionConnection(config, database), spec);
}

export interface RowsApplied extends CopyResult {
  instanceName: string;
  instanceRemoved: boolean;
  /** The integrity checks on production's database after the copy (every restore is verified). */
  report?: IntegrityReport;
}

export async function applyRows(
  ctx: EngineContext,
  config: RestoreConfig,
  request: { instanceName: string; database: string; spec: RowsSpec; digest: string; keepInstance: boolean; beforeDestructiveStep: (step: string) => Promise<void> },
): Promise<RowsApplied> {
  // Checked again here and, for every table written, inside the copy's transaction (readTable).
  await requireTargetInDatabase((db) => productionConnection(config, db), request.database, request.spec.table, 'rows');
  // Before the copy, on production's catalog as it is now: primary keys, every filter value read as its column's type.
  await checkRowsOnProduction(productionConnection(config, request.database), request.spec, `production (database ${request.database})`);
  const side = { ...(await sideInstanceConnection(config, request.instanceName)), database: request.database };
  const production = productionConnection(config, request.database);
  const finishCheck = step(ctx, 'check-preview', 'Check the preview is still the approved one');
  const preview = await previewRows(side, production, request.spec);
  if (preview.digest !== request.digest) {
    throw new RecoverError('COMMAND_FAILED', `The rows preview changed since it was approved (now ${preview.totals.missing} missing, ${preview.totals.different} different, ${preview.totals.present} present); nothing was written.`, {
      hint: 'Production changed meanwhile. Plan the copy again to see and approve the current preview.',
    });
  }
  finishCheck(`${preview.totals.missing} missing rows, as approved`);
  await request.beforeDestructiveStep('copy-rows');
  const finishCopy = step(ctx, 'copy-rows', 'Insert the missing rows into production (one transaction)');
  // The digest is checked again inside the copy's own transaction: a change since the check above refuses too.
  const copied = await copyMissingRows(side, production, request.spec, { expectDigest: request.digest });
  finishCopy(`${copied.totals.restored} restored, ${copied.totals.skippedPresent} skipped (present), ${copied.totals.conflicting} conflicting (${copied.totals.uniqueConflicts} with a unique value taken)`);
  // The comparison with production: the side instance's rows read again after the commit.
  const compared = await previewRows(side, production, request.spec).then(
    (after) => restoredRowsChecks(request.database, copied, after),
    (error: Error) => [{ name: `restored rows ${request.database}`, ok: false, message: `could not compare production with the side instance after the write: ${error.message}` }],
  );
  return { ...copied, ...(await verifyAndRemoveInstance(ctx, config, { ...request, extraChecks: compared })) };
}

/**
 * After a write from a side instance into production: production's database gets the integrity
 * checks (read-only; amcheck only where installed), as after every restore, and the side
 * instance is stopped and removed unless it is to be kept. Shared by rows and table.
 */
export async function verifyAndRemoveInstance(
  ctx: EngineContext,
  config: RestoreConfig,
  request: { instanceName: string; database: string; keepInstance: boolean; /** Checks the caller made (e.g. the restored rows compared with the side instance), added to the report. */ extraChecks?: IntegrityCheck[] },
): Promise<{ instanceName: string; instanceRemoved: boolean; report: IntegrityReport }> {
  const finishVerify = step(ctx, 'verify', `Verify production (database ${request.database}) after the write`);
  const report = await verifyRestored(productionConnection(config, 'postgres'), {
    databases: [request.database],
    subject: `production (database ${request.database}) after the write`,
    amcheck: 'existing',
    tables: config.verifyTables,
    ...(config.verifyConfigFile ? { configFile: config.verifyConfigFile } : {}),
  });
  if (request.extraChecks?.length) {
    report.checks.push(...request.extraChecks);
    report.ok = report.checks.every((check) => check.ok);
  }
  ctx.events.emit({ type: 'integrity.report', at: nowIso(ctx.clock), report });
  finishVerify(report.ok ? 'all checks passed' : 'some checks failed');
  if (request.keepInstance) return { instanceName: request.instanceName, instanceRemoved: false, report };
  const finishRemove = step(ctx, 'remove-instance', `Stop and remove the side instance ${request.instanceName}`);
  // Checked again now (a side instance this tool created, its server running in its own data directory), never a bare path.
  await removeSideInstance(ctx.exec, await openSideInstance(config, request.instanceName), 'fast');
  finishRemove();
  return { instanceName: request.instanceName, instanceRemoved: true, report };
}
