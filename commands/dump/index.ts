/**
 * `/recover dump <db> …` and `recover dump <db> …` (runbook §3.1): a stored logical dump
 * (`recover dump-backup`) restored as a NEW database on production, verified, and recorded as
 * /recover database's copies are, so `/recover database <db> --swap <db>_restored_<stamp>`
 * (its verified swap, not a copy of it) puts it in place. Side-copy: existing databases are not
 * changed, but it writes on production (a new database). Engine: src/engine/dumps/restore.ts.
 */
import { z } from 'zod';
import { listDumps } from '../../src/engine/dumps/list.js';
import { dumpStamp, pickDump, type DumpEntry } from '../../src/engine/dumps/manifest.js';
import { FOREIGN_DUMP_PATH, FOREIGN_UNVERIFIED, foreignManifest } from '../../src/engine/dumps/foreign.js';
import { DEFAULT_LEVERS, loadRuns } from '../../src/engine/dumps/load.js';
import { restoreDump, type DumpRestored } from '../../src/engine/dumps/restore.js';
import { sourceConnection } from '../../src/engine/dumps/take.js';
import { FOREIGN_TOC_BYTES, foreignDumpRoles, missingRoles, rolesMissingError } from '../../src/engine/dumps/dump-roles.js';
import { removeTree } from '../../src/engine/instances.js';
import { makeOwnedDir } from '../../src/engine/local-cluster.js';
import { ownerFor } from '../../src/engine/os-user.js';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { databaseNamesSql } from '../../src/engine/database/sql.js';
import { withTargetClient } from '../../src/engine/pg-client.js';
import { requireTargetDatabases } from '../../src/engine/targets/guard.js';
import { RecoverError } from '../../src/errors.js';
import { pgClientConfig } from '../../src/util/connection-url.js';
import type { Plan } from '../../src/types.js';
import { declaredStep, type RecoverCommand } from '../types.js';
import { withCommonCliFlags } from '../words.js';
import { DUMP_EXAMPLE, DUMP_USAGE, dumpSchema, parseDump, type DumpArgs } from './args.js';
import { dumpResultSchema, dumpSummary, dumpVerdict, formatDumpResult, type DumpResultView } from './view.js';

export interface DumpCommandFacts {
  productionDatabases: readonly string[];
  /** The stored dumps of the database (complete or not). */
  dumps: readonly DumpEntry[];
  /** --from <blob path>: the foreign dump's size, a stamp for its copy's name, and production's defaults the new database takes. */
  foreign?: ForeignFacts | null;
  /** Every role on production: the dump's owners and grantees must be among them unless --no-owner. */
  productionRoles: readonly string[];
}

const likeSchema = z.object({ encoding: z.string(), collate: z.string(), ctype: z.string(), provider: z.string(), icuLocale: z.string().nullable(), owner: z.string() });
/** `roles`: the owners and grantees of its table of contents; null when it did not fit in what planning reads (the job checks the owners). */
type ForeignFacts = { path: string; bytes: number; stamp: string; like: z.infer<typeof likeSchema>; roles: string[] | null };

/** Production's defaults for a database made from a foreign dump (the custom format records no locale) and the restoring role. */
const foreignLikeSql = `SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype, datlocprovider::text AS provider, daticulocale AS "icuLocale", current_user::text AS owner FROM pg_database WHERE datname = 'template0'`;

/** Per restore session (jobs of them at once); production's own setting is not changed. */
export const POST_DATA_MAINTENANCE_MB = 128;

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/);
const paramsSchema = z.object({
  database: name,
  stamp: z.string().regex(/^\d{14}$/),
  newName: name,
  jobs: z.number().int().min(1).max(16),
  noOwner: z.boolean(),
  maintenanceWorkMemMb: z.number().int().min(64).max(16_384),
  /** The dump approved: the job refuses one whose files changed since. */
  files: z.number().int().min(1),
  dumpBytes: z.number().int().nonnegative(),
  /** A foreign dump (--from <blob path>): its path, and what its database is created like. */
  foreign: z.object({ path: z.string().regex(FOREIGN_DUMP_PATH), like: likeSchema }).nullable().optional(),
});
type DumpParams = z.infer<typeof paramsSchema>;

const STEPS = [
  { kind: 'download', title: 'Download the dump and check every file\'s sha256', destructive: false },
  { kind: 'create-database', title: 'Create the new database on production (template0, the dump\'s encoding and locale)', destructive: false },
  { kind: 'restore-schema', title: 'Restore the schema (pg_restore --section=pre-data)', destructive: false },
  { kind: 'restore-data', title: 'Load the rows, and each table\'s indexes and constraints once its rows are in (-j N)', destructive: false },
  { kind: 'restore-indexes', title: 'Indexes, constraints, foreign keys (--section=post-data -j N), when not built with the rows', destructive: false },
  { kind: 'analyze', title: 'ANALYZE the new database', destructive: false },
  { kind: 'verify', title: 'Verify: integrity checks, row counts against the dump', destructive: false },
] as const;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The plan's choices (pure): which dump and which new name, or why not. */
export function chooseDump(args: DumpArgs, facts: DumpCommandFacts): { entry: DumpEntry & { manifest: NonNullable<DumpEntry['manifest']> }; newName: string } {
  const entry = facts.foreign ? { database: args.db, stamp: facts.foreign.stamp, manifest: foreignManifest(facts.foreign.path, args.db, facts.foreign.stamp, facts.foreign.like, facts.foreign.bytes), problem: null } : pickDump(facts.dumps, args.db, args.from);
  if (!entry) {
    const complete = facts.dumps.filter((dump) => dump.database === args.db && dump.manifest).map((dump) => dump.stamp);
    throw new RecoverError('NO_DUMP', args.from ? `There is no complete dump of ${args.db} taken at ${args.from}.` : `There is no complete dump of ${args.db} in storage.`, {
      hint: complete.length ? `Dumps of ${args.db}: ${complete.join(', ')} (/recover dump ${args.db} --from <stamp>).` : `Take one with recover dump-backup, or restore from the base backups: /recover database ${args.db} --at <time>.`,
    });
  }
  const newName = args.as ?? `${args.db}_restored_${entry.stamp}`;
  if (facts.productionDatabases.includes(newName)) {
    throw new RecoverError('INSTANCE_EXISTS', `A database named ${newName} already exists on production; nothing is restored over it.`, { hint: `Name the new database: /recover dump ${args.db}${args.from ? ` --from ${args.from}` : ''} --as <new name>.` });
  }
  return { entry: entry as DumpEntry & { manifest: NonNullable<DumpEntry['manifest']> }, newName };
}

export const dump: RecoverCommand<DumpArgs, DumpCommandFacts, DumpParams, DumpRestored, DumpResultView> = {
  name: 'dump',
  usage: DUMP_USAGE,
  example: DUMP_EXAMPLE,
  description: 'Restore a stored logical dump of one database (recover dump-backup) as a new database beside it on production, verified; swap it in with /recover database <db> --swap.',
  home: 'runner',
  schema: dumpSchema,
  parse: (tokens) => parseDump(tokens),
  parseCli: (tokens) => withCommonCliFlags((words) => parseDump(words, 'cli'), tokens),
  risk: () => 'side-copy',
  confirmation: () => null,
  async gather(ctx, args) {
    if (!ctx.copies) throw new RecoverError('CONFIG_INVALID', 'This process keeps no record of the database copies it makes, which /recover dump needs (the record is what a swap checks).', { hint: 'Run it through the runner (Slack) or the recover CLI.' });
    await ctx.copies.ready();
    const production = pgClientConfig(sourceConnection(ctx.config), 'postgres');
    // Never a system database or a template, as the dump's database or as the new name (engine/targets).
    await requireTargetDatabases(production, [args.db, ...(args.as ? [args.as] : [])], 'database');
    const productionDatabases = await withTargetClient(production, async (client) => (await client.query(databaseNamesSql)).rows.map((row) => row.datname as string));
    const productionRoles = await withTargetClient(production, async (client) => (await client.query('SELECT rolname FROM pg_roles')).rows.map((row) => row.rolname as string));
    if (args.from && FOREIGN_DUMP_PATH.test(args.from)) {
      const blob = await ctx.engine.storage.dumps.head(args.from);
      if (!blob) throw new RecoverError('NO_DUMP', `There is no blob ${args.from} in the dumps container.`, { hint: 'Upload the pg_dump -Fc file there, or name a stored dump by its stamp (recover backups lists them).' });
      const like = likeSchema.parse((await withTargetClient(production, (client) => client.query(foreignLikeSql))).rows[0]);
      const work = join(ctx.config.restoreRoot, `dump-plan-${randomBytes(3).toString('hex')}`);
      const owner = await ownerFor(ctx.config.pg.osUser);
      let roles: string[] | null = null;
      try {
        await makeOwnedDir(ctx.config.restoreRoot, owner);
        if (!args.noOwner) roles = await foreignDumpRoles(ctx.engine, args.from, work, owner, { bin: ctx.config.pg.bin, run: (file, words) => ctx.engine.exec.run(file, words, { asUser: ctx.config.pg.osUser, signal: ctx.engine.signal }) });
      } finally {
        await removeTree(ctx.engine.exec, work).catch((error: unknown) => ctx.engine.log.error({ err: error }, `could not remove ${work}`));
      }
      return { productionDatabases, productionRoles, dumps: [], foreign: { path: args.from, bytes: blob.size, stamp: dumpStamp(ctx.engine.clock.now()), like, roles } };
    }
    return { productionDatabases, productionRoles, dumps: await listDumps(ctx.engine.storage, args.db) };
  },
  plan(args, facts): Plan {
    const step = (kind: (typeof STEPS)[number]['kind'], extra: Parameters<typeof declaredStep>[2] = {}) => declaredStep(STEPS, kind, extra);
    const { entry, newName } = chooseDump(args, facts);
    const manifest = entry.manifest;
    const memory = POST_DATA_MAINTENANCE_MB;
    const foreign = facts.foreign ?? null;
    const named = foreign ? foreign.roles : manifest.roles;
    const missing = args.noOwner || !named ? [] : missingRoles(named, facts.productionRoles);
    if (missing.length > 0) throw rolesMissingError(missing, `production ${facts.production.name}`, `/recover dump ${args.db}${args.from ? ` --from ${args.from}` : ''}${args.as ? ` --as ${args.as}` : ''} --no-owner`);
    const params: DumpParams = { database: args.db, stamp: entry.stamp, newName, jobs: args.jobs, noOwner: args.noOwner, maintenanceWorkMemMb: memory, files: manifest.files.length, dumpBytes: manifest.dumpBytes, ...(foreign ? { foreign: { path: foreign.path, like: foreign.like } } : {}) };
    const swappable = newName === `${args.db}_restored_${entry.stamp}`;
    return {
      command: 'dump',
      summary: `Restore dump ${args.db}/${entry.stamp} as a new database ${newName} on production ${facts.production.name} (existing databases not changed)`,
      risk: 'side-copy',
      steps: [
        step('download', { title: foreign ? `Download ${foreign.path} (${mb(foreign.bytes)}): it must start with PGDMP, be the custom format and pg_restore --list must read it, before anything is created` : `Download ${manifest.files.length} files (${mb(manifest.dumpBytes)}) and check each sha256 against the manifest; a mismatch stops before anything is created` }),
        step('create-database', { title: `Create ${newName} on production (template0, ${manifest.encoding}, ${manifest.collate}, owner ${args.noOwner ? 'the restoring role' : manifest.owner})` }),
        ...loadRuns({ dbname: newName, jobs: args.jobs, maintenanceWorkMemMb: memory }, foreign ? { ...DEFAULT_LEVERS, parallelLoader: false } : DEFAULT_LEVERS).map((run) => step(run.kind, { title: run.title })),
        step('analyze', { title: `ANALYZE ${newName}` }),
        step('verify', { title: foreign ? `Verify ${newName}: integrity checks, every table with data in the dump's table of contents present` : `Verify ${newName}: integrity checks, row count of every table (${manifest.tables.length}) against the counts taken in the dump's snapshot` }),
      ],
      facts: foreign ? {
        Dump: `foreign dump ${foreign.path}: ${mb(foreign.bytes)}, no manifest`,
        'Not verifiable': FOREIGN_UNVERIFIED,
        'New database': `${newName} (template0, production's defaults: ${foreign.like.encoding}, ${foreign.like.collate}); no existing database is changed`,
        Owners: args.noOwner
          ? '--no-owner: objects owned by the restoring role, NO grants restored (--no-owner --no-acl)'
          : foreign.roles
            ? `kept, with grants: the roles its table of contents names (${foreign.roles.join(', ') || 'none'}) exist on production; the owners are checked again in the job`
            : `kept, with grants: its table of contents did not fit in the first ${FOREIGN_TOC_BYTES / 1024 / 1024} MB read at planning, so the roles owning its objects are checked in the job, once it is downloaded, before anything is created`,
        Then: swappable ? `/recover database ${args.db} --swap ${newName}` : `${newName} is not a ${args.db}_restored_<stamp> name: /recover database --swap does not take it`,
      } : {
        Dump: `${args.db}/${entry.stamp}: ${mb(manifest.dumpBytes)} stored, database ${mb(manifest.databaseBytes)} when dumped, PostgreSQL ${manifest.serverVersion}`,
        Snapshot: `${manifest.snapshot.time}; every transaction in it committed before LSN ${manifest.snapshot.lsn}`,
        'New database': `${newName} (about ${mb(manifest.databaseBytes)}: disk space and I/O on production); no existing database is changed`,
        Owners: args.noOwner
          ? '--no-owner: objects owned by the restoring role, NO grants restored (--no-owner --no-acl); the copy cannot simply replace the original'
          : `kept, with grants: the roles the dump names (${manifest.roles.join(', ') || 'none'}) exist on production (checked at planning, and again in the job)`,
        Then: swappable ? `/recover database ${args.db} --swap ${newName}` : `${newName} is not a ${args.db}_restored_<stamp> name: /recover database --swap does not take it`,
      },
      params,
    };
  },
  steps: STEPS,
  paramsSchema,
  async run(ctx, params): Promise<DumpRestored> {
    if (!ctx.copies) throw new RecoverError('CONFIG_INVALID', 'This process keeps no record of the database copies it makes, which /recover dump needs.', { hint: 'Run it through the runner (Slack) or the recover CLI.' });
    if (params.foreign) {
      const blob = await ctx.engine.storage.dumps.head(params.foreign.path);
      if (!blob || blob.size !== params.dumpBytes) throw new RecoverError('BACKUP_CORRUPT', `${params.foreign.path} is gone or changed since it was planned; nothing was created.`, { hint: `Plan again: /recover dump ${params.database} --from ${params.foreign.path}.` });
      const manifest = foreignManifest(params.foreign.path, params.database, params.stamp, params.foreign.like, blob.size);
      return restoreDump(ctx.engine, ctx.config, { manifest, foreign: { path: params.foreign.path }, newName: params.newName, jobs: params.jobs, noOwner: params.noOwner, maintenanceWorkMemMb: params.maintenanceWorkMemMb, production: ctx.config.productionName ?? 'production', records: ctx.copies });
    }
    const entry = pickDump(await listDumps(ctx.engine.storage, params.database), params.database, params.stamp);
    if (!entry?.manifest || entry.manifest.files.length !== params.files || entry.manifest.dumpBytes !== params.dumpBytes) {
      throw new RecoverError('BACKUP_CORRUPT', `Dump ${params.database}/${params.stamp} is gone or changed since it was planned; nothing was created.`, { hint: `Plan again: /recover dump ${params.database}.` });
    }
    return restoreDump(ctx.engine, ctx.config, { manifest: entry.manifest, newName: params.newName, jobs: params.jobs, noOwner: params.noOwner, maintenanceWorkMemMb: params.maintenanceWorkMemMb, production: ctx.config.productionName ?? 'production', records: ctx.copies });
  },
  resultSchema: dumpResultSchema,
  verdict: (result) => dumpVerdict(result),
  format: formatDumpResult,
  summary: (params, result) => dumpSummary(params, result),
};
