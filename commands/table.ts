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
import { chooseDatabase } from '../src/engine/locate/relation.js';
import { productionConnection } from '../src/engine/rows/restore-rows.js';
import { tableName } from '../src/engine/rows/rows-sql.js';
import { readTable } from '../src/engine/rows/table.js';
import { requireTargetInDatabase } from '../src/engine/targets/guard.js';
import { orphanRefusal } from '../src/engine/table/apply.js';
import { modeDigest, modeRefusal, type TableComparison } from '../src/engine/table/compare.js';
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
import { sideRestorePlanSteps, SIDE_RESTORE_STEPS, writeVerdict } from './schemas.js';

export interface TableFacts {
  /** --db, or production's only user database (chooseDatabase, as locate and rows). */
  database: string;
  /** Restore form: production's table now (exists; has a primary key). */
  live?: { exists: boolean; keyed: boolean };
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
const targetWords = (target: NonNullable<TableArgs['target']>) => (target.kind === 'xid' ? `--before-xid ${target.xid}` : target.kind === 'time' ? `--at ${target.time}` : '');
const exists = async (client: { query: (sql: string, values: unknown[]) => Promise<{ rows: { exists: boolean }[] }> }, name: string) => (await client.query(relationExistsSql, [name])).rows[0]!.exists;

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
    // The database and the table are checked against production before anything is restored.
    const database = await chooseDatabase(ctx.config.source.url, args.db ?? undefined);
    const production = productionConnection(ctx.config, database);
    // Only an ordinary user table of a user database, by production's catalog, before anything else (engine/targets).
    await requireTargetInDatabase((db) => productionConnection(ctx.config, db), database, args.table, 'table');
    if (args.fromInstance) {
      const comparison = await compareFromInstance(ctx.config, args.fromInstance, database, args.table);
      const asNewExists = args.mode.kind === 'as-new' && (await withTargetClient(production, (client) => exists(client, tableName(comparison.relation.schema, (args.mode as { name: string }).name))));
      return { database, comparison, asNewExists };
    }
    const { live, asNewExists } = await withTargetClient(production, async (client) => {
      const info = (await exists(client, args.table)) ? await readTable(client, args.table, `production (database ${database})`) : null;
      const asNew = args.mode.kind === 'as-new' ? (info ? tableName(info.schema, args.mode.name) : qualifiedNew(args.table, args.mode.name)) : null;
      return { live: { exists: info !== null, keyed: (info?.primaryKey.length ?? 0) > 0 }, asNewExists: asNew !== null && (await exists(client, asNew)) };
    });
    const catalog = await readCatalog(ctx.engine.storage, ctx.engine.clock.now());
    const selection = await selectPitr(ctx.engine, catalog, { target: targetFromArgs(args.target!), inclusive: args.inclusive }, ctx.config.pg);
    return { database, live, selection, instancesInUse: await listInstances(ctx.config.restoreRoot), asNewExists };
  },
  plan(args, facts): Plan {
    const step = (kind: (typeof STEPS)[number]['kind'], extra: Parameters<typeof declaredStep>[2] = {}) => declaredStep(STEPS, kind, extra);
    const db = facts.database;
    if (args.mode.kind === 'as-new' && facts.asNewExists) {
      const own = args.mode.name === args.table.split('.').at(-1);
      throw new RecoverError('BAD_INPUT', `${qualifiedNew(args.table, args.mode.name)} already exists in production (database ${db})${own ? ': as-new never overwrites a table, and this is the live one' : ''}.`, { hint: `Choose the new table's name: --mode as-new <name>${args.defaultMode ? ' (as-new is the default mode)' : ''}${own ? ', or --mode missing-rows | replace to write into the live table' : ''}.` });
    }
    const retry = (from: string) => (name: string) => `/recover table ${args.table} ${from} --mode as-new ${name} --db ${db}`;
    if (args.fromInstance) {
      const comparison = facts.comparison!;
      const refused = modeRefusal(args.mode, comparison, retry(`--from-instance ${args.fromInstance}`));
      if (refused) throw refused;
      const orphans = comparison.references.filter((r) => r.orphaned > 0);
      if (args.mode.kind === 'replace' && orphans.length > 0) throw orphanRefusal(comparison.table, orphans);
      const digest = modeDigest(args.mode, comparison);
      const params: TableParams = { form: 'apply', instanceName: args.fromInstance, database: db, table: args.table, mode: args.mode, digest, keepInstance: args.keepInstance };
      const write = WRITE_STEP[args.mode.kind];
      return {
        command: 'table',
        summary: `${modeEffect(args.mode, comparison, comparison.relation.schema)} — from ${args.fromInstance} into production ${facts.production.name} (database ${db})`,
        risk: 'destructive',
        steps: [
          step('check-preview'),
          step(write, { title: `${modeEffect(args.mode, comparison, comparison.relation.schema)} (one transaction)` }),
          step('verify', { title: `Verify production ${facts.production.name} (database ${db}) after the write: integrity checks`, estimateSeconds: 5 }),
          ...(args.keepInstance ? [] : [step('remove-instance', { title: `Stop and remove the side instance ${args.fromInstance}` })]),
        ],
        facts: { From: `side instance ${args.fromInstance}${args.keepInstance ? ' (kept afterwards)' : ' (removed afterwards)'}`, Mode: modeWords(args.mode), ...comparisonFacts(comparison, args.mode, digest) },
        params,
      };
    }
    const live = facts.live ?? { exists: true, keyed: true };
    const refused = modeRefusal(args.mode, { basis: !live.exists ? 'dropped' : live.keyed ? 'by-key' : 'no-key', table: args.table, relation: { schema: '', name: args.table.split('.').at(-1)! } }, retry(targetWords(args.target!)));
    if (refused) throw new RecoverError(refused.code, refused.message.replace(' Nothing was written.', ' Nothing was restored.'), { hint: refused.hint });
    const selection = facts.selection!;
    const instanceName = instanceFor(args, facts);
    if (facts.instancesInUse?.includes(instanceName)) throw new RecoverError('INSTANCE_EXISTS', `A side instance named ${instanceName} already exists under the restore root.`, { hint: 'Choose another --instance name, or leave it out.' });
    const targetText = describeArgsTarget(targetFromArgs(args.target!), args.inclusive);
    const params: TableParams = { form: 'restore', backupId: selection.backup.id, target: args.target!, inclusive: args.inclusive, instanceName, database: db, table: args.table, mode: args.mode };
    const own = args.table.split('.').at(-1)!;
    const compareTitle = live.exists ? `Compare ${args.table} with production (nothing written)` : `Read ${args.table} in the side copy, check its foreign keys against production (nothing written)`;
    const tableFact = !live.exists
      ? `${args.table} (database ${db}): production has no such table now (dropped?); only --mode as-new can bring it back, created from the side copy's own definition`
      : live.keyed ? `${args.table} (database ${db})` : `${args.table} (database ${db}): no primary key, so rows are not compared; only --mode as-new can restore it`;
    const alternatives = !live.exists ? ` (or --mode as-new ${own}: its own name, nothing there to overwrite)` : args.defaultMode && live.keyed ? ' (as-new is the default; or --mode missing-rows | replace)' : '';
    return {
      command: 'table',
      summary: `Restore a side instance to ${targetText} and ${live.exists ? 'compare' : 'read'} ${args.table} (database ${db})${live.exists ? ' with production' : ', which production no longer has'} (nothing written)`,
      risk: 'side-copy',
      steps: [
        ...sideRestorePlanSteps(selection, facts.rates, `${instanceName}`, targetText),
        step('preview', { title: compareTitle }),
      ],
      facts: {
        Target: targetText,
        'Base backup': selection.backup.id,
        'Side instance': instanceName,
        Table: tableFact,
        Then: `/recover table ${args.table} --from-instance ${instanceName} ${modeWords(args.mode)} --db ${db}${alternatives}`,
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
