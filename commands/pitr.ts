/**
 * `/recover pitr …` and `recover pitr …`: point-in-time recovery to a side instance or in
 * place. The words are in pitr-args.ts, what the job reports in pitr-result.ts.
 */
import { dirname } from 'node:path';
import { freeSpace, gigabytes, restoreBytesNeeded, spaceRefusal, type SpaceFacts } from '../src/engine/space.js';
import { z } from 'zod';
import type { Catalog } from '../src/catalog/catalog.js';
import { selectRestore, type RestoreSelection } from '../src/catalog/select-restore.js';
import { assertPortFree, listInstances } from '../src/engine/instances.js';
import { runPitr } from '../src/engine/pitr.js';
import { selectPitr } from '../src/engine/pitr-plan.js';
import { readCatalog } from '../src/engine/read-catalog.js';
import { answeringServerMismatch, LOCAL_DIR_HINT } from '../src/engine/local-identity.js';
import { serverRunning } from '../src/engine/recovery.js';
import { parseConnectionUrl, pgClientConfig } from '../src/util/connection-url.js';
import { baseBackupBytes, restoreEstimates } from '../src/estimate/restore.js';
import { RecoverError } from '../src/errors.js';
import type { Plan } from '../src/types.js';
import { formatPitr, formatPlan, formatSelection } from './format.js';
import { describeArgsTarget, PITR_EXAMPLE, PITR_USAGE, pitrArgs, pitrCliArgs, pitrSchema, sideInstanceName, targetFromArgs, targetSchema, type PitrArgs } from './pitr-args.js';
import { pitrResultSchema, pitrSummary } from './pitr-result.js';
import { declaredStep, type BaseFacts, type RecoverCommand } from './types.js';

export { describeArgsTarget, INSTANCE_NAME, parseBeforeXid, parsePitrCli, sideInstanceName, targetFromArgs, type PitrArgs, type PitrCliArgs } from './pitr-args.js';
export { PITR_HELP } from './pitr-help.js';
import { PITR_HELP } from './pitr-help.js';

/** What planning a pitr needs: the catalog, the names in use, and the selection checked against the WAL itself. */
export interface PitrFacts {
  catalog: Catalog;
  instancesInUse: readonly string[];
  selection?: RestoreSelection;
  /** RECOVER_SOURCE_DATA_DIR of the planning runner: an in-place plan records it (a lost runner's message names it). */
  productionDataDir?: string | null;
  /** Free space where the restore would write (engine/space.ts); absent: not measured (a plan built in a test). */
  space?: SpaceFacts | null;
  /** In place: why RECOVER_SOURCE_DATA_DIR is not the data directory of the server at RECOVER_SOURCE_URL (engine/local-identity.ts). */
  productionDirProblem?: string | null;
}

/** Exactly what the runner executes with: the plan pins the base backup and the instance name. */
const paramsSchema = z.object({
  backupId: z.string().regex(/^[\w.-]{1,64}$/),
  target: targetSchema,
  inclusive: z.boolean(),
  action: z.enum(['promote', 'pause']),
  to: z.enum(['side', 'in-place']),
  instanceName: z.string().nullable(),
  databases: z.array(z.string()).nullable(),
  /** In place: production's data directory on the runner's host (for people, if the runner is lost). */
  dataDir: z.string().optional(),
});
type PitrParams = z.infer<typeof paramsSchema>;

const STEPS = [
  { kind: 'select', title: 'Check the base backup and WAL segments in storage', destructive: false },
  { kind: 'stop-production', title: 'Stop production', destructive: true },
  { kind: 'move-aside', title: 'Move the current data directory aside (kept, not deleted)', destructive: true },
  { kind: 'restore-base-backup', title: 'Restore the base backup', destructive: false },
  { kind: 'configure-recovery', title: 'Configure recovery', destructive: false },
  { kind: 'replay-wal', title: 'Replay WAL', destructive: false },
  { kind: 'verify', title: 'Verify: connection, row counts, newest rows', destructive: false },
] as const;

export const pitr: RecoverCommand<PitrArgs, PitrFacts, PitrParams, Awaited<ReturnType<typeof runPitr>>, z.infer<typeof pitrResultSchema>> = {
  name: 'pitr',
  usage: PITR_USAGE,
  example: PITR_EXAMPLE,
  description: 'Point-in-time recovery from the base backup and WAL archive; to a side instance unless --to in-place.',
  home: 'runner',
  schema: pitrSchema,
  parse: pitrArgs,
  parseCli: pitrCliArgs,
  cliHelp: PITR_HELP,
  risk: (args) => (args.to === 'in-place' ? 'destructive' : 'side-copy'),
  runsOn: (args) => (args.to === 'in-place' ? 'database-host' : 'anywhere'),
  confirmation: (args, facts) => (args.to === 'in-place' ? facts.production.name : null),
  async gather(ctx, args) {
    if (ctx.cli?.port !== undefined) await assertPortFree(ctx.cli.port);
    const catalog = await readCatalog(ctx.engine.storage, ctx.engine.clock.now());
    const instancesInUse = await listInstances(ctx.config.restoreRoot);
    // A time target needing the very end of the usable WAL (or cut off by a gap) restores only
    // if a transaction ends after it there; archive times cannot tell, the WAL itself can
    // (engine/pitr-plan.ts), and the refusal then names a time that really restores.
    const selection = await selectPitr(ctx.engine, catalog, { target: targetFromArgs(args.target), inclusive: args.inclusive, ...(args.backupId ? { backupId: args.backupId } : {}) }, ctx.config.pg);
    const where = args.to === 'in-place' ? (ctx.config.source.dataDir ? dirname(ctx.config.source.dataDir) : null) : ctx.config.restoreRoot;
    const space = where ? await freeSpace(where).catch(() => null) : null;
    const { dataDir, url } = ctx.config.source;
    const productionDirProblem = args.to === 'in-place' && dataDir && url && (await serverRunning(dataDir))
      ? await answeringServerMismatch(ctx.engine.log, dataDir, 'RECOVER_SOURCE_DATA_DIR', pgClientConfig(parseConnectionUrl(url), 'postgres'))
      : null;
    return { catalog, instancesInUse, selection, productionDataDir: dataDir ?? null, space, productionDirProblem };
  },
  plan(args, facts: PitrFacts & BaseFacts): Plan {
    const target = targetFromArgs(args.target);
    const selection = selectRestore(facts.catalog, target, args.backupId ? { backupId: args.backupId } : {});
    const baseBytes = baseBackupBytes(selection);
    // Base restore and replay at this pool's measured rates (src/estimate/), or the defaults.
    const estimate = restoreEstimates(selection, facts.rates);
    const inPlace = args.to === 'in-place';
    const instanceName = args.instance ?? sideInstanceName(facts.now, facts.requestId);
    if (!inPlace && facts.instancesInUse.includes(instanceName)) {
      throw new RecoverError('INSTANCE_EXISTS', `A side instance named ${instanceName} already exists under the restore root.`, {
        hint: args.instance ? 'Choose another --instance name, or leave it out to get a new unique one.' : 'Run the command again for a new name.',
      });
    }
    if (inPlace && facts.productionDirProblem) throw new RecoverError('TARGET_NOT_ALLOWED', `An in-place restore would stop and replace another server's data directory: ${facts.productionDirProblem}.`, { hint: LOCAL_DIR_HINT });
    // Refused before anything is made, rather than a disk filling half-way through (engine/space.ts).
    const needed = restoreBytesNeeded(selection.backup.databaseBytes, selection.walBytes);
    const noSpace = spaceRefusal(facts.space ?? null, needed, inPlace ? 'in-place' : 'side');
    if (noSpace) throw noSpace;
    const where = inPlace ? `production ${facts.production.name} (in place; old data directory kept)` : `new side instance ${instanceName}`;
    const targetText = describeArgsTarget(target, args.inclusive);
    const step = (kind: (typeof STEPS)[number]['kind'], extra: Parameters<typeof declaredStep>[2]) => declaredStep(STEPS, kind, extra);
    const steps = [
      step('select', { title: `Check backup ${selection.backup.id} and ${selection.requiredSegments.length} WAL segments in storage`, estimateSeconds: 2 }),
      ...(inPlace
        ? [step('stop-production', { title: `Stop production ${facts.production.name}`, estimateSeconds: 10 }), step('move-aside', { estimateSeconds: 1 })]
        : []),
      step('restore-base-backup', { title: `Restore base backup ${selection.backup.id} into ${inPlace ? 'the production data directory' : instanceName}`, destructive: inPlace, estimateSeconds: estimate.base.seconds, estimate: estimate.base.estimate }),
      step('configure-recovery', { title: `Configure recovery to ${targetText}`, estimateSeconds: 1 }),
      step('replay-wal', { title: `Replay ${selection.requiredSegments.length} WAL segments, then ${args.action}`, destructive: inPlace, estimateSeconds: estimate.replay.seconds, estimate: estimate.replay.estimate }),
      step('verify', { title: `Verify ${args.db?.join(', ') ?? 'all databases'}: connection, row counts, newest rows`, estimateSeconds: 5 }),
    ];
    const params: PitrParams = {
      backupId: selection.backup.id,
      target: args.target,
      inclusive: args.inclusive,
      action: args.action,
      to: args.to,
      instanceName: inPlace ? null : instanceName,
      databases: args.db ?? null,
      ...(inPlace && facts.productionDataDir ? { dataDir: facts.productionDataDir } : {}),
    };
    return {
      command: 'pitr',
      summary: `Point-in-time recovery to ${targetText} into ${where}`,
      risk: this.risk(args),
      steps,
      facts: {
        Target: targetText,
        'Base backup': `${selection.backup.id} (consistent at ${selection.backup.stopTime}, timeline ${selection.backup.timeline}, ${(baseBytes / 1e6).toFixed(1)} MB)`,
        WAL: `${selection.requiredSegments.length} segments ${selection.requiredSegments[0]} … ${selection.requiredSegments.at(-1)} (${(selection.walBytes / 1e6).toFixed(0)} MB), timeline ${selection.timeline}`,
        'Restorable window': `${selection.window.earliest ?? '?'} … ${selection.window.latest ?? '?'}`,
        'Restores to': where,
        ...(facts.space ? { Space: `needs about ${gigabytes(needed)}; ${gigabytes(facts.space.freeBytes)} free in ${facts.space.path}` } : {}),
      },
      params,
    };
  },
  dryRun(plan, facts) {
    const params = paramsSchema.parse(plan.params);
    const selection = selectRestore(facts.catalog, targetFromArgs(params.target), { backupId: params.backupId });
    return { result: { ...selection, plan }, text: `${formatPlan(plan)}\n${formatSelection(selection)}` };
  },
  steps: STEPS,
  paramsSchema,
  run(ctx, params) {
    return runPitr(ctx.engine, ctx.config, {
      target: targetFromArgs(params.target),
      inclusive: params.inclusive,
      action: params.action,
      to: params.to,
      backupId: params.backupId,
      ...(params.instanceName ? { instanceName: params.instanceName } : {}),
      ...(ctx.cli?.port !== undefined ? { port: ctx.cli.port } : {}),
      ...(params.databases ? { databases: params.databases } : {}),
      beforeDestructiveStep: (step) => ctx.beforeDestructiveStep(step),
    });
  },
  resultSchema: pitrResultSchema,
  verdict(result) {
    if (result.report.ok) return null;
    const failed = result.report.checks.filter((check) => !check.ok).map((check) => check.message);
    return new RecoverError('VERIFY_FAILED', `The restore finished but verification failed: ${failed.join('; ')}.`, {
      hint: `The restored instance is left as it is for inspection (${result.dataDir}). Check the failed items; stop it with pg_ctl stop -D ${result.dataDir} when done.`,
    });
  },
  format: formatPitr,
  summary: (params, result) => pitrSummary(params, result),
};
