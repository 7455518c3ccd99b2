/**
 * `/recover database <db> …` and `recover database …`: point-in-time recovery of one database
 * without touching the others, as two plans (words in database-args.ts, views in database-view.ts):
 *   1. `--at <time>` | `--before-xid N` (side-copy): a side instance restored to the target, the
 *      database copied from it (pg_dump -Fd -j / pg_restore -j) into a NEW database
 *      `<db>_restored_<stamp>` on production, verified. Existing databases are not changed, so
 *      this is a side copy, not a destructive plan — but it does write on production (a new
 *      database: disk space and I/O there), which the plan says.
 *   2. `--swap <db>_restored_<stamp>` (destructive, typed confirmation = production's name): the
 *      rename swap, only of a copy recover-bot recorded as made and verified by itself
 *      (ctx.copies: the copy job's record in the control DB, or the CLI's in RECOVER_STATE_DIR;
 *      a comment on the database proves nothing). The oids read at planning and the record's
 *      copy id are in the params (bound to the digest) and checked again by the job; the old
 *      database is kept as `<db>_before_<stamp>`.
 */
import { z } from 'zod';
import { readCatalog } from '../src/engine/read-catalog.js';
import { selectPitr } from '../src/engine/pitr-plan.js';
import { listInstances } from '../src/engine/instances.js';
import { restoreDatabaseCopy, sourceOf, readDatabaseFacts } from '../src/engine/database/copy.js';
import { databaseNamesSql, type DatabaseFacts } from '../src/engine/database/sql.js';
import { swapDatabases, swapRefusal } from '../src/engine/database/swap.js';
import { recordedCopyCheck, recordedCopyHint, type CopyRecord, type CopyRecords } from '../src/engine/database/copy-records.js';
import { withTargetClient } from '../src/engine/pg-client.js';
import { requireTargetDatabases } from '../src/engine/targets/guard.js';
import type { RestoreSelection } from '../src/catalog/select-restore.js';
import { RecoverError } from '../src/errors.js';
import { pgClientConfig } from '../src/util/connection-url.js';
import type { Plan } from '../src/types.js';
import { DATABASE_EXAMPLE, DATABASE_USAGE, databaseSchema, parseDatabase, restoredName, unusedBeforeName, unusedNames, type DatabaseArgs } from './database-args.js';
import { databaseResultSchema, databaseSummary, databaseVerdict, formatDatabaseResult, type DatabaseResult, type DatabaseResultView } from './database-view.js';
import { describeArgsTarget, sideInstanceName, targetFromArgs, targetSchema } from './pitr-args.js';
import { declaredStep, type RecoverCommand } from './types.js';
import { withCommonCliFlags } from './words.js';
import { sideRestorePlanSteps, SIDE_RESTORE_STEPS } from './schemas.js';

export interface DatabaseCommandFacts {
  /** Every database on production now (names), to refuse a name in use. */
  productionDatabases: readonly string[];
  original: DatabaseFacts | null;
  /** Swap form: the copy. */
  restored?: DatabaseFacts | null;
  /** Swap form: recover-bot's own records of copies under that name (copy-records.ts), and where they are kept. */
  copyRecords?: readonly CopyRecord[];
  copyRecordsWhere?: string;
  selection?: RestoreSelection;
  instancesInUse?: readonly string[];
}

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/);
const paramsSchema = z.discriminatedUnion('form', [
  z.object({ form: z.literal('copy'), backupId: z.string().regex(/^[\w.-]{1,64}$/), target: targetSchema, inclusive: z.boolean(), targetText: z.string(), instanceName: z.string(), database: name, newName: name, jobs: z.number().int().min(1).max(16) }),
  z.object({ form: z.literal('swap'), database: name, restoredName: name, beforeName: name, databaseOid: z.string().regex(/^\d+$/), restoredOid: z.string().regex(/^\d+$/), copyId: z.string().regex(/^[\w:.-]{1,80}$/) }),
]);
type DatabaseParams = z.infer<typeof paramsSchema>;

const STEPS = [
  ...SIDE_RESTORE_STEPS,
  { kind: 'dump', title: 'Dump the database from the side instance (pg_dump -Fd -j)', destructive: false },
  { kind: 'create-database', title: 'Create the new database on production', destructive: false },
  { kind: 'restore-dump', title: 'Restore the dump into the new database (pg_restore -j)', destructive: false },
  { kind: 'verify', title: 'Verify the copy: integrity checks, row counts against the side instance', destructive: false },
  { kind: 'remove-instance', title: 'Remove the dump and the side instance', destructive: false },
  { kind: 'check-swap', title: 'Check both databases are the approved ones', destructive: false },
  { kind: 'swap', title: 'Swap the databases by renaming (connections drained)', destructive: true },
] as const;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Where this process records its copies; without it a copy could never be swapped in, and a swap has no proof. */
function copiesOf(ctx: { copies?: CopyRecords }): CopyRecords {
  if (!ctx.copies) throw new RecoverError('CONFIG_INVALID', 'This process keeps no record of the database copies it makes and verifies, which /recover database needs (a copy without one can never be swapped in).', { hint: 'Run it through the runner (Slack) or the recover CLI.' });
  return ctx.copies;
}

export const database: RecoverCommand<DatabaseArgs, DatabaseCommandFacts, DatabaseParams, DatabaseResult, DatabaseResultView> = {
  name: 'database',
  usage: DATABASE_USAGE,
  example: DATABASE_EXAMPLE,
  description: 'Point-in-time recovery of one database: restored as a new database beside it on production (--at / --before-xid), then swapped in by renaming (--swap).',
  home: 'runner',
  schema: databaseSchema,
  parse: (tokens) => parseDatabase(tokens),
  parseCli: (tokens) => withCommonCliFlags((words) => parseDatabase(words, 'cli'), tokens),
  risk: (args) => (args.swap ? 'destructive' : 'side-copy'),
  confirmation: (args, facts) => (args.swap ? facts.production.name : null),
  async gather(ctx, args) {
    const production = pgClientConfig(sourceOf(ctx.config), 'postgres');
    // Only user databases: never template0, template1 or postgres, nor another template (engine/targets), before anything else.
    await requireTargetDatabases(production, args.swap ? [args.db, args.swap] : [args.db], args.swap ? 'swap' : 'database');
    const productionDatabases = await withTargetClient(production, async (client) => (await client.query(databaseNamesSql)).rows.map((row) => row.datname as string));
    const original = await readDatabaseFacts(production, args.db);
    if (args.swap) {
      const copies = copiesOf(ctx);
      return { productionDatabases, original, restored: await readDatabaseFacts(production, args.swap), copyRecords: await copies.find({ database: args.db, restoredName: args.swap }), copyRecordsWhere: copies.where };
    }
    // A copy that could not be recorded could never be swapped in: refuse before restoring anything.
    await copiesOf(ctx).ready();
    const catalog = await readCatalog(ctx.engine.storage, ctx.engine.clock.now());
    const selection = await selectPitr(ctx.engine, catalog, { target: targetFromArgs(args.target!), inclusive: args.inclusive }, ctx.config.pg);
    return { productionDatabases, original, selection, instancesInUse: await listInstances(ctx.config.restoreRoot) };
  },
  plan(args, facts): Plan {
    const step = (kind: (typeof STEPS)[number]['kind'], extra: Parameters<typeof declaredStep>[2] = {}) => declaredStep(STEPS, kind, extra);
    const production = facts.production.name;
    if (args.swap) {
      const names = { database: args.db, restoredName: args.swap, beforeName: unusedBeforeName(args.db, facts.now, facts.productionDatabases) };
      const beforeTaken = facts.productionDatabases.includes(names.beforeName);
      const refusal = swapRefusal({ original: facts.original, restored: facts.restored ?? null, beforeTaken }, names);
      if (refusal) throw new RecoverError(beforeTaken && facts.restored && facts.original ? 'INSTANCE_EXISTS' : 'BAD_INPUT', refusal, { hint: `Copies are made by /recover database ${args.db} --at <time>; the databases on production: ${facts.productionDatabases.filter((db) => db.startsWith(args.db)).join(', ')}.` });
      const restored = facts.restored!;
      const original = facts.original!;
      const check = recordedCopyCheck(facts.copyRecords ?? [], { restoredOid: restored.oid }, names, facts.copyRecordsWhere ?? 'this process');
      if (!check.ok) throw new RecoverError('COPY_UNVERIFIED', check.reason, { hint: recordedCopyHint(args.db) });
      const record = check.record;
      const params: DatabaseParams = { form: 'swap', ...names, databaseOid: original.oid, restoredOid: restored.oid, copyId: record.copyId };
      return {
        command: 'database',
        summary: `Swap ${args.swap} in as ${args.db} on production ${production}; the current ${args.db} is kept as ${names.beforeName}`,
        risk: 'destructive',
        steps: [step('check-swap'), step('swap', { title: `Refuse connections to ${args.db} and ${args.swap}, end their sessions, rename ${args.db} → ${names.beforeName} and ${args.swap} → ${args.db} (one transaction), allow connections again` })],
        facts: {
          'Restored copy': `${args.swap} (${mb(restored.bytes)}): ${args.db} at ${record.targetText}, made and verified by ${record.madeBy} at ${record.recordedAt}`,
          'Current database': `${args.db} (${mb(original.bytes)}): renamed ${names.beforeName} and kept, never dropped`,
          Sessions: `every session on ${args.db} and ${args.swap} is ended (pg_terminate_backend); applications reconnect to the restored ${args.db}`,
          'Bound to': `database oids ${original.oid} (${args.db}) and ${restored.oid} (${args.swap}) and the record of copy ${record.copyId}; the job refuses if either database was re-created or the record no longer holds`,
        },
        params,
      };
    }
    const selection = facts.selection!;
    const target = targetFromArgs(args.target!);
    const targetText = describeArgsTarget(target, args.inclusive);
    // A copy made again in the same second (or a database someone named so) gets _2, _3 …: never over an existing one.
    const [newName] = unusedNames([restoredName(args.db, facts.now)], facts.productionDatabases) as [string];
    if (Buffer.byteLength(newName) > 63) throw new RecoverError('INSTANCE_EXISTS', `A database named ${restoredName(args.db, facts.now)} already exists on production, and ${newName} is longer than PostgreSQL's 63 bytes.`, { hint: 'Run the command again in a moment for a new name.' });
    const instanceName = args.instance ?? sideInstanceName(facts.now, facts.requestId).replace(/^pitr-/, 'database-');
    if (facts.instancesInUse?.includes(instanceName)) throw new RecoverError('INSTANCE_EXISTS', `A side instance named ${instanceName} already exists under the restore root.`, { hint: 'Choose another --instance name, or leave it out.' });
    const params: DatabaseParams = { form: 'copy', backupId: selection.backup.id, target: args.target!, inclusive: args.inclusive, targetText, instanceName, database: args.db, newName, jobs: args.jobs };
    return {
      command: 'database',
      summary: `Restore database ${args.db} to ${targetText} as a new database ${newName} on production ${production} (existing databases not changed)`,
      risk: 'side-copy',
      steps: [
        ...sideRestorePlanSteps(selection, facts.rates, `side instance ${instanceName}`, targetText),
        step('dump', { title: `Dump ${args.db} from ${instanceName} (pg_dump -Fd -j ${args.jobs}, on the runner)` }),
        step('create-database', { title: `Create ${newName} on production (template0, the original's owner, encoding and locale)` }),
        step('restore-dump', { title: `Restore the dump into ${newName} (pg_restore -j ${args.jobs}, owners and grants kept)` }),
        step('verify', { title: `Verify ${newName}: integrity checks, row count of every table against the side instance` }),
        step('remove-instance', { title: `Remove the dump and the side instance ${instanceName}` }),
      ],
      facts: {
        Target: targetText,
        'Base backup': selection.backup.id,
        Database: facts.original ? `${args.db} (${mb(facts.original.bytes)} now on production; not changed)` : `${args.db} (not on production now; restored from the backup)`,
        'Writes on production': `a NEW database ${newName} (about the size of ${args.db}: disk space and I/O on production); no existing database is changed`,
        Owners: 'kept, with grants (every role they name must exist on production, checked before anything is created)',
        Then: `/recover database ${args.db} --swap ${newName}`,
      },
      params,
    };
  },
  steps: STEPS,
  paramsSchema,
  async run(ctx, params): Promise<DatabaseResult> {
    if (params.form === 'swap') return { form: 'swap', swapped: await swapDatabases(ctx.engine, ctx.config, { ...params, copies: copiesOf(ctx), beforeDestructiveStep: (kind) => ctx.beforeDestructiveStep(kind) }) };
    const catalog = await readCatalog(ctx.engine.storage, ctx.engine.clock.now());
    const target = targetFromArgs(params.target);
    const selection = await selectPitr(ctx.engine, catalog, { target, inclusive: params.inclusive, backupId: params.backupId }, ctx.config.pg);
    const copied = await restoreDatabaseCopy(ctx.engine, ctx.config, { selection, target, inclusive: params.inclusive, targetText: params.targetText, instanceName: params.instanceName, database: params.database, newName: params.newName, jobs: params.jobs, production: ctx.config.productionName ?? 'production', records: copiesOf(ctx) });
    return { form: 'copy', copied };
  },
  resultSchema: databaseResultSchema,
  verdict: (result) => databaseVerdict(result),
  format: formatDatabaseResult,
  summary: (params, result) => databaseSummary(params, result),
};
