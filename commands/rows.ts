/**
 * `/recover rows <table> --where "<filter>" …` and `recover rows …`: bring back rows deleted by
 * mistake, as two plans (words in rows-args.ts, views in rows-view.ts):
 *   1. `--at <time>` or `--before-xid N` (side-copy): restore a side instance to the time, or to
 *      just before transaction N (recovery_target_xid, exclusive), show the preview
 *      (matching / missing / present / different per table). Nothing is written to production.
 *   2. `--from-instance NAME` (destructive): the preview read again at planning is the plan's
 *      facts (so approvals bind to its counts and digest); typed confirmation = production's
 *      name; the job refuses if the preview changed, inserts the missing rows in one
 *      transaction, then removes the side instance unless --keep-instance.
 */
import { z } from 'zod';
import { timeTarget } from '../src/catalog/targets.js';
import { listInstances } from '../src/engine/instances.js';
import { selectPitr } from '../src/engine/pitr-plan.js';
import { readCatalog } from '../src/engine/read-catalog.js';
import { chooseDatabase } from '../src/engine/locate/relation.js';
import { checkRowsOnProduction } from '../src/engine/rows/filter-check.js';
import { applyRows, previewFromInstance, productionConnection, restoreForRows, type RowsApplied, type RowsRestored } from '../src/engine/rows/restore-rows.js';
import { requireTargetInDatabase } from '../src/engine/targets/guard.js';
import type { RowsPreview } from '../src/engine/rows/copy-back.js';
import type { RestoreSelection } from '../src/catalog/select-restore.js';
import { RecoverError } from '../src/errors.js';
import type { Plan, RecoveryTarget } from '../src/types.js';
import { describeArgsTarget, sideInstanceName } from './pitr-args.js';
import { parseRows, ROWS_EXAMPLE, ROWS_USAGE, rowsSchema, type RowsArgs } from './rows-args.js';
import { followUpWords, formatRowsResult, previewFacts, rowsResultSchema, rowsSummary, type RowsResult, type RowsResultView } from './rows-view.js';
import { declaredStep, type BaseFacts, type RecoverCommand } from './types.js';
import { withCommonCliFlags } from './words.js';
import { sideRestorePlanSteps, SIDE_RESTORE_STEPS, writeVerdict } from './schemas.js';

export interface RowsFacts {
  /** The database holding the table: --db, or production's only user database (chosen in gather, as locate does). */
  database?: string;
  /** The database was chosen, not given. */
  databaseChosen?: boolean;
  selection?: RestoreSelection;
  instancesInUse?: readonly string[];
  preview?: RowsPreview;
}

const spec = z.object({ table: z.string(), filter: z.string(), withChildren: z.boolean() });
const paramsSchema = z.discriminatedUnion('form', [
  // Exactly one of at (a time, inclusive) and beforeXid (recovery_target_xid, exclusive).
  z.object({ form: z.literal('restore'), backupId: z.string().regex(/^[\w.-]{1,64}$/), at: z.string().nullable(), beforeXid: z.string().regex(/^\d{1,20}$/).nullable().default(null), instanceName: z.string(), database: z.string(), spec }),
  z.object({ form: z.literal('apply'), instanceName: z.string(), database: z.string(), spec, digest: z.string().regex(/^[0-9a-f]{64}$/), keepInstance: z.boolean() }),
]);
type RowsParams = z.infer<typeof paramsSchema>;

const STEPS = [
  ...SIDE_RESTORE_STEPS,
  { kind: 'preview', title: 'Preview the rows against production (nothing written)', destructive: false },
  { kind: 'check-preview', title: 'Check the preview is still the approved one', destructive: false },
  { kind: 'copy-rows', title: 'Insert the missing rows into production (one transaction)', destructive: true },
  { kind: 'verify', title: 'Verify production after the copy: integrity checks', destructive: false },
  { kind: 'remove-instance', title: 'Stop and remove the side instance', destructive: false },
] as const;

const specOf = (args: RowsArgs) => ({ table: args.table, filter: args.where, withChildren: args.withChildren });
/** The restore's target: a time (inclusive) or just before a transaction (exclusive). */
function targetOf(choice: { at: string | null; beforeXid: string | null }): { target: RecoveryTarget; inclusive: boolean } {
  if (choice.beforeXid !== null) return { target: { kind: 'xid', xid: choice.beforeXid }, inclusive: false };
  if (choice.at === null) throw new RecoverError('INTERNAL', 'A rows restore needs --at or --before-xid.');
  return { target: timeTarget(choice.at), inclusive: true };
}
const instanceFor = (args: RowsArgs, facts: BaseFacts) => args.instance ?? sideInstanceName(facts.now, facts.requestId).replace(/^pitr-/, 'rows-');

export const rows: RecoverCommand<RowsArgs, RowsFacts, RowsParams, RowsResult, RowsResultView> = {
  name: 'rows',
  usage: ROWS_USAGE,
  example: ROWS_EXAMPLE,
  description: 'Bring back rows deleted by mistake: restore a side instance (--at), preview, then copy the missing rows into production (--from-instance).',
  home: 'runner',
  schema: rowsSchema,
  parse: (tokens) => parseRows(tokens),
  parseCli: (tokens) => withCommonCliFlags((words) => parseRows(words, 'cli'), tokens),
  risk: (args) => (args.fromInstance ? 'destructive' : 'side-copy'),
  confirmation: (args, facts) => (args.fromInstance ? facts.production.name : null),
  async gather(ctx, args) {
    const database = await chooseDatabase(ctx.config.source.url, args.db ?? undefined);
    const chosen = { database, databaseChosen: args.db === null };
    // Only an ordinary user table of a user database, by production's catalog, before anything else (engine/targets).
    await requireTargetInDatabase((db) => productionConnection(ctx.config, db), database, args.table, 'rows');
    // On production's catalog before anything is restored or read from a side instance: the table's (and
    // children's) primary keys (NO_PRIMARY_KEY, exit 3), every filter value read as its column's type (exit 2).
    await checkRowsOnProduction(productionConnection(ctx.config, database), specOf(args), `production (database ${database})`);
    if (args.fromInstance) return { ...chosen, preview: await previewFromInstance(ctx.config, args.fromInstance, database, specOf(args)) };
    const catalog = await readCatalog(ctx.engine.storage, ctx.engine.clock.now());
    const selection = await selectPitr(ctx.engine, catalog, targetOf(args), ctx.config.pg);
    return { ...chosen, selection, instancesInUse: await listInstances(ctx.config.restoreRoot) };
  },
  plan(args, facts): Plan {
    const step = (kind: (typeof STEPS)[number]['kind'], extra: Parameters<typeof declaredStep>[2] = {}) => declaredStep(STEPS, kind, extra);
    const db = facts.database ?? args.db;
    if (!db) throw new RecoverError('INTERNAL', 'The rows plan needs the database: --db, or the one gather() chose.');
    const dbFact = { Database: facts.databaseChosen ? `${db} (production's only user database; give --db to choose another)` : db };
    const what = `${args.table} where ${args.where}${args.withChildren ? ', with child rows' : ''} (database ${db})`;
    if (args.fromInstance) {
      const preview = facts.preview!;
      const params: RowsParams = { form: 'apply', instanceName: args.fromInstance, database: db, spec: specOf(args), digest: preview.digest, keepInstance: args.keepInstance };
      return {
        command: 'rows',
        summary: `Insert ${preview.totals.missing} missing rows of ${what} from ${args.fromInstance} into production ${facts.production.name}`,
        risk: 'destructive',
        steps: [
          step('check-preview'),
          step('copy-rows', { title: `Insert ${preview.totals.missing} missing rows into production ${facts.production.name} (one transaction)` }),
          step('verify', { title: `Verify production ${facts.production.name} (database ${db}) after the copy: integrity checks and the restored rows compared with the side instance`, estimateSeconds: 5 }),
          ...(args.keepInstance ? [] : [step('remove-instance', { title: `Stop and remove the side instance ${args.fromInstance}` })]),
        ],
        facts: { From: `side instance ${args.fromInstance}${args.keepInstance ? ' (kept afterwards)' : ' (removed afterwards)'}`, ...dbFact, ...previewFacts(preview) },
        params,
      };
    }
    const selection = facts.selection!;
    const instanceName = instanceFor(args, facts);
    if (facts.instancesInUse?.includes(instanceName)) throw new RecoverError('INSTANCE_EXISTS', `A side instance named ${instanceName} already exists under the restore root.`, { hint: 'Choose another --instance name, or leave it out.' });
    const { target, inclusive } = targetOf(args);
    const targetText = describeArgsTarget(target, inclusive);
    const params: RowsParams = { form: 'restore', backupId: selection.backup.id, at: args.at, beforeXid: args.beforeXid, instanceName, database: db, spec: specOf(args) };
    return {
      command: 'rows',
      summary: `Restore a side instance to ${targetText} and preview ${what} against production (nothing written)`,
      risk: 'side-copy',
      steps: [
        ...sideRestorePlanSteps(selection, facts.rates, `${instanceName}`, targetText),
        step('verify', { title: `Verify the side instance ${instanceName} (database ${db}): integrity checks, row counts compared with production (read-only)`, estimateSeconds: 5 }),
        step('preview'),
      ],
      facts: { Target: targetText, 'Base backup': selection.backup.id, 'Side instance': instanceName, ...dbFact, Rows: what, Then: `/recover ${followUpWords(specOf(args), db, instanceName)}` },
      params,
    };
  },
  steps: STEPS,
  paramsSchema,
  async run(ctx, params): Promise<RowsResult> {
    if (params.form === 'apply') {
      const applied: RowsApplied = await applyRows(ctx.engine, ctx.config, { ...params, beforeDestructiveStep: (kind) => ctx.beforeDestructiveStep(kind) });
      return { form: 'apply', applied };
    }
    const catalog = await readCatalog(ctx.engine.storage, ctx.engine.clock.now());
    const { target, inclusive } = targetOf(params);
    const selection = await selectPitr(ctx.engine, catalog, { target, inclusive, backupId: params.backupId }, ctx.config.pg);
    const restored: RowsRestored = await restoreForRows(ctx.engine, ctx.config, { selection, target, inclusive, instanceName: params.instanceName, database: params.database, spec: params.spec });
    return { form: 'restore', restored, then: followUpWords(params.spec, params.database, params.instanceName) };
  },
  verdict: (result) => (result.form === 'apply' ? writeVerdict(result.applied.report, 'The missing rows were copied into production') : null),
  resultSchema: rowsResultSchema,
  format: formatRowsResult,
  summary: (params, result) => rowsSummary(params, result),
};
