/**
 * `/recover table <schema.table> …` and `recover table …`: bring back a whole table, as two
 * plans (words in table-args.ts, views in table-view.ts, jobs in engine/table/restore-table.ts):
 *   1. `--at <time>` / `--before-xid N` (side-copy): restore a side instance to the target and
 *      compare the table with production (rows each side, missing / equal / different / only in
 *      production, rows of other tables pointing at keys the copy lacks). Nothing is written.
 *   2. `--from-instance NAME` (destructive): the comparison read again at planning is the plan's
 *      facts and its mode's digest is in the params; typed confirmation = production's name; the
 *      job refuses if it changed, writes in one transaction (as-new, missing-rows or replace),
 *      then removes the side instance unless --keep-instance. A replace that would orphan rows
 *      of other tables is refused at planning and again in the job, naming the foreign key.
 */
import { z } from 'zod';
import { readCatalog } from '../src/engine/read-catalog.js';
import { listInstances } from '../src/engine/instances.js';
import { withTargetClient } from '../src/engine/pg-client.js';
import { selectPitr } from '../src/engine/pitr-plan.js';
import { productionConnection } from '../src/engine/rows/restore-rows.js';
import { tableName } from '../src/engine/rows/rows-sql.js';
import { readTable, requirePrimaryKey } from '../src/engine/rows/table.js';
import { orphanRefusal } from '../src/engine/table/apply.js';
import { modeDigest, type TableComparison } from '../src/engine/table/compare.js';
import { applyTable, compareFromInstance, restoreForTable, WRITE_STEP } from '../src/engine/table/restore-table.js';
import { relationExistsSql } from '../src/engine/table/table-sql.js';
import type { RestoreSelection } from '../src/catalog/select-restore.js';
import { RecoverError } from '../src/errors.js';
import type { Plan } from '../src/types.js';
import { describeArgsTarget, sideInstanceName, targetFromArgs, targetSchema } from './pitr-args.js';
import { modeSchema, modeWords, parseTable, TABLE_EXAMPLE, TABLE_USAGE, tableSchema, type TableArgs } from './table-args.js';
import { comparisonFacts, formatTableResult, modeEffect, tableResultSchema, tableSummary, type TableResult, type TableResultView } from './table-view.js';
import { declaredStep, type BaseFacts, type RecoverCommand } from './types.js';
import { withCommonCliFlags } from './words.js';
import { SIDE_RESTORE_STEPS, writeVerdict } from './schemas.js';

export interface TableFacts {
  selection?: RestoreSelection;
  instancesInUse?: readonly string[];
  comparison?: TableComparison;
  /** as-new: whether `<schema>.<name>` already exists in production. */
  asNewExists?: boolean;
}

const paramsSchema = z.discriminatedUnion('form', [
  z.object({ form: z.literal('restore'), backupId: z.string().regex(/^[\w.-]{1,64}$/), target: targetSchema, inclusive: z.boolean(), instanceName: z.string(), database: z.string(), table: z.string(), mode: modeSchema }),
  z.object({ form: z.literal('apply'), instanceName: z.string(), database: z.string(), table: z.string(), mode: modeSchema, digest: z.string().regex(/^[0-9a-f]{64}$/), keepInstance: z.boolean() }),
]);
type TableParams = z.infer<typeof paramsSchema>;

const STEPS = [
  ...SIDE_RESTORE_STEPS,
  { kind: 'preview', title: 'Compare the table with production (nothing written)', destructive: false },
  { kind: 'check-preview', title: 'Check the comparison is still the approved one', destructive: false },
  { kind: 'copy-table', title: 'Create the restored table beside the live one (one transaction)', destructive: true },
  { kind: 'copy-rows', title: 'Insert the missing rows into production (one transaction)', destructive: true },
  { kind: 'replace-table', title: 'Replace the table contents (one transaction)', destructive: true },
  { kind: 'verify', title: 'Verify production after the write: integrity checks', destructive: false },
  { kind: 'remove-instance', title: 'Stop and remove the side instance', destructive: false },
] as const;

const instanceFor = (args: TableArgs, facts: BaseFacts) => args.instance ?? sideInstanceName(facts.now, facts.requestId).replace(/^pitr-/, 'table-');
const qualifiedNew = (table: string, name: string) => (table.includes('.') ? `${table.split('.')[0]}.${name}` : name);

export const table: RecoverCommand<TableArgs, TableFacts, TableParams, TableResult, TableResultView> = {
  name: 'table',
  usage: TABLE_USAGE,
  example: TABLE_EXAMPLE,
  description: 'Bring back a whole table: restore a side instance (--at / --before-xid), compare, then write it as a new table, its missing rows, or its contents replaced (--from-instance).',
  home: 'runner',
  schema: tableSchema,
  parse: (tokens) => parseTable(tokens),
  parseCli: (tokens) => withCommonCliFlags((words) => parseTable(words, 'cli'), tokens),
  risk: (args) => (args.fromInstance ? 'destructive' : 'side-copy'),
  confirmation: (args, facts) => (args.fromInstance ? facts.production.name : null),
  async gather(ctx, args) {
    // The table (with a primary key) and an as-new name are checked against production before anything is restored.
    const asNewExists = await withTargetClient(productionConnection(ctx.config, args.db), async (client) => {
      const live = await readTable(client, args.table, `production (database ${args.db})`);
      requirePrimaryKey(live, '');
      if (args.mode.kind !== 'as-new') return false;
      return (await client.query<{ exists: boolean }>(relationExistsSql, [tableName(live.schema, args.mode.name)])).rows[0]!.exists;
    });
    if (args.fromInstance) return { comparison: await compareFromInstance(ctx.config, args.fromInstance, args.db, args.table), asNewExists };
    const catalog = await readCatalog(ctx.engine.storage, ctx.engine.clock.now());
    const selection = await selectPitr(ctx.engine, catalog, { target: targetFromArgs(args.target!), inclusive: args.inclusive }, ctx.config.pg);
    return { selection, instancesInUse: await listInstances(ctx.config.restoreRoot), asNewExists };
  },
  plan(args, facts): Plan {
    const step = (kind: (typeof STEPS)[number]['kind'], extra: Parameters<typeof declaredStep>[2] = {}) => declaredStep(STEPS, kind, extra);
    if (args.mode.kind === 'as-new' && facts.asNewExists) {
      throw new RecoverError('BAD_INPUT', `${qualifiedNew(args.table, args.mode.name)} already exists in production (database ${args.db}).`, { hint: `Choose the new table's name: --mode as-new <name>${args.defaultMode ? ' (as-new is the default mode)' : ''}.` });
    }
    if (args.fromInstance) {
      const comparison = facts.comparison!;
      const orphans = comparison.references.filter((r) => r.orphaned > 0);
      if (args.mode.kind === 'replace' && orphans.length > 0) throw orphanRefusal(comparison.table, orphans);
      const digest = modeDigest(args.mode, comparison);
      const params: TableParams = { form: 'apply', instanceName: args.fromInstance, database: args.db, table: args.table, mode: args.mode, digest, keepInstance: args.keepInstance };
      const write = WRITE_STEP[args.mode.kind];
      return {
        command: 'table',
        summary: `${modeEffect(args.mode, comparison, comparison.relation.schema)} — from ${args.fromInstance} into production ${facts.production.name} (database ${args.db})`,
        risk: 'destructive',
        steps: [
          step('check-preview'),
          step(write, { title: `${modeEffect(args.mode, comparison, comparison.relation.schema)} (one transaction)` }),
          step('verify', { title: `Verify production ${facts.production.name} (database ${args.db}) after the write: integrity checks`, estimateSeconds: 5 }),
          ...(args.keepInstance ? [] : [step('remove-instance', { title: `Stop and remove the side instance ${args.fromInstance}` })]),
        ],
        facts: { From: `side instance ${args.fromInstance}${args.keepInstance ? ' (kept afterwards)' : ' (removed afterwards)'}`, Mode: modeWords(args.mode), ...comparisonFacts(comparison, args.mode, digest) },
        params,
      };
    }
    const selection = facts.selection!;
    const instanceName = instanceFor(args, facts);
    if (facts.instancesInUse?.includes(instanceName)) throw new RecoverError('INSTANCE_EXISTS', `A side instance named ${instanceName} already exists under the restore root.`, { hint: 'Choose another --instance name, or leave it out.' });
    const targetText = describeArgsTarget(targetFromArgs(args.target!), args.inclusive);
    const params: TableParams = { form: 'restore', backupId: selection.backup.id, target: args.target!, inclusive: args.inclusive, instanceName, database: args.db, table: args.table, mode: args.mode };
    return {
      command: 'table',
      summary: `Restore a side instance to ${targetText} and compare ${args.table} (database ${args.db}) with production (nothing written)`,
      risk: 'side-copy',
      steps: [
        step('select', { title: `Check backup ${selection.backup.id} and ${selection.requiredSegments.length} WAL segments in storage` }),
        step('restore-base-backup', { title: `Restore base backup ${selection.backup.id} into ${instanceName}` }),
        step('configure-recovery', { title: `Configure recovery to ${targetText}` }),
        step('replay-wal', { title: `Replay ${selection.requiredSegments.length} WAL segments, then promote` }),
        step('preview', { title: `Compare ${args.table} with production (nothing written)` }),
      ],
      facts: {
        Target: targetText,
        'Base backup': selection.backup.id,
        'Side instance': instanceName,
        Table: `${args.table} (database ${args.db})`,
        Then: `recover table ${args.table} --from-instance ${instanceName} ${modeWords(args.mode)} --db ${args.db}${args.defaultMode ? ' (as-new is the default; or --mode missing-rows | replace)' : ''}`,
      },
      params,
    };
  },
  steps: STEPS,
  paramsSchema,
  async run(ctx, params): Promise<TableResult> {
    if (params.form === 'apply') return { form: 'apply', applied: await applyTable(ctx.engine, ctx.config, { ...params, beforeDestructiveStep: (kind) => ctx.beforeDestructiveStep(kind) }) };
    const catalog = await readCatalog(ctx.engine.storage, ctx.engine.clock.now());
    const target = targetFromArgs(params.target);
    const selection = await selectPitr(ctx.engine, catalog, { target, inclusive: params.inclusive, backupId: params.backupId }, ctx.config.pg);
    return { form: 'restore', restored: await restoreForTable(ctx.engine, ctx.config, { selection, target, inclusive: params.inclusive, instanceName: params.instanceName, database: params.database, table: params.table }) };
  },
  verdict: (result) => (result.form === 'apply' ? writeVerdict(result.applied.report, 'The table was written into production') : null),
  resultSchema: tableResultSchema,
  format: formatTableResult,
  summary: (params, result) => tableSummary(params, result),
};
