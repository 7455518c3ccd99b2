/**
 * `/recover dumpall <stamp|blob path> --to <server> [--rename-suffix S]` (runbook §3.2): every
 * database of one dump-backup run, with the run's roles and tablespaces, or everything a foreign
 * pg_dumpall file holds (foreign.ts), onto a side instance (or onto production under new names
 * only). Refuses a target that already has any of those databases,
 * or any of the run's roles, listing them, unless --rename-suffix (databases renamed, existing
 * roles kept as they are). Side-copy: nothing existing is changed or dropped. Engine:
 * src/engine/dumps/dumpall.ts.
 */
import { z } from 'zod';
import { restoreForeignDumpall } from '../../src/engine/dumps/dumpall-foreign.js';
import { FOREIGN_DUMPALL_PATH } from '../../src/engine/dumps/dumpall-blob.js';
import { conflictError, dumpallConflicts, readTargetInventory, restoreDumpall, restoredName, type DumpallRestored, type TargetInventory } from '../../src/engine/dumps/dumpall.js';
import { PRODUCTION_TARGET, readRunGlobals, resolveDumpallTarget } from '../../src/engine/dumps/dumpall-target.js';
import { parseGlobals, type Globals } from '../../src/engine/dumps/globals.js';
import { listDumps } from '../../src/engine/dumps/list.js';
import type { DumpManifest } from '../../src/engine/dumps/manifest.js';
import { requireTargetDatabases } from '../../src/engine/targets/guard.js';
import { RecoverError } from '../../src/errors.js';
import type { Plan } from '../../src/types.js';
import { POST_DATA_MAINTENANCE_MB } from '../dump/index.js';
import { declaredStep, type RecoverCommand } from '../types.js';
import { withCommonCliFlags } from '../words.js';
import { gatherForeign, planForeign, type ForeignDumpallFacts } from './foreign.js';
import { DUMPALL_EXAMPLE, DUMPALL_USAGE, dumpallSchema, parseDumpall, type DumpallArgs } from './args.js';

export interface DumpallFacts {
  manifests: DumpManifest[];
  globals: Globals;
  inventory: TargetInventory;
  /** A foreign pg_dumpall file instead of a dump run. */
  foreign?: ForeignDumpallFacts;
}

const paramsSchema = z.object({
  /** The dump run's stamp, or a foreign file's blob path (then `foreign` is set). */
  stamp: z.string().regex(/^(\d{14}|[A-Za-z0-9_][A-Za-z0-9_./-]*)$/),
  to: z.string(),
  renameSuffix: z.string().nullable(),
  jobs: z.number().int().min(1).max(16),
  maintenanceWorkMemMb: z.number().int().min(64).max(16_384),
  /** The dumps approved, each with its file count: the job refuses a run that changed since. */
  databases: z.array(z.object({ database: z.string(), files: z.number().int() })).min(1),
  /** A foreign pg_dumpall file: the job refuses one whose sha256 is not the planned one. */
  foreign: z.object({ path: z.string().regex(FOREIGN_DUMPALL_PATH), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() }).nullable().optional(),
});
type DumpallParams = z.infer<typeof paramsSchema>;

const STEPS = [
  { kind: 'download', title: 'Download every dump of the run and check each file\'s sha256', destructive: false },
  { kind: 'globals', title: 'Create the roles and tablespaces the target lacks (existing ones kept as they are)', destructive: false },
  { kind: 'restore', title: 'Create and load each database, ANALYZE, row counts against the dump', destructive: false },
] as const;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The run's complete dumps (pure), or NO_DUMP naming the runs there are. */
export function runManifests(all: readonly { stamp: string; manifest: DumpManifest | null }[], stamp: string): DumpManifest[] {
  const manifests = all.filter((entry) => entry.stamp === stamp && entry.manifest).map((entry) => entry.manifest!);
  if (manifests.length === 0) {
    const stamps = [...new Set(all.filter((entry) => entry.manifest).map((entry) => entry.stamp))].sort().reverse().slice(0, 5);
    throw new RecoverError('NO_DUMP', `There is no complete dump taken at ${stamp}.`, { hint: stamps.length ? `Dump runs: ${stamps.join(', ')} (recover backups lists them).` : 'Take one with recover dump-backup.' });
  }
  return manifests.sort((a, b) => a.database.localeCompare(b.database));
}

export const dumpall: RecoverCommand<DumpallArgs, DumpallFacts, DumpallParams, DumpallRestored> = {
  name: 'dumpall',
  usage: DUMPALL_USAGE,
  example: DUMPALL_EXAMPLE,
  description: 'Restore every database of one dump-backup run, with its roles and tablespaces, onto a side instance (or onto production under new names with --rename-suffix).',
  home: 'runner',
  schema: dumpallSchema,
  parse: (tokens) => parseDumpall(tokens),
  parseCli: (tokens) => withCommonCliFlags((words) => parseDumpall(words, 'cli'), tokens),
  risk: () => 'side-copy',
  confirmation: () => null,
  async gather(ctx, args) {
    if (args.to === PRODUCTION_TARGET && !args.renameSuffix) {
      throw new RecoverError('TARGET_NOT_ALLOWED', 'A dumpall onto production\'s own cluster needs --rename-suffix: its databases and roles are there already.', { hint: `/recover dumpall ${args.source} --to production --rename-suffix _restored, or --to <side instance>.` });
    }
    if (FOREIGN_DUMPALL_PATH.test(args.source)) {
      const foreign = await gatherForeign(ctx, args);
      return { manifests: [], globals: { roles: [], tablespaces: [] }, inventory: foreign.inventory, foreign };
    }
    const manifests = runManifests(await listDumps(ctx.engine.storage), args.source);
    const target = await resolveDumpallTarget(ctx.config, args.to);
    // Never a system database or a template as a new name (engine/targets); checked again in the job.
    await requireTargetDatabases({ ...target.connection, database: 'postgres' }, manifests.map((m) => restoredName(m.database, args.renameSuffix)), 'database');
    return { manifests, globals: parseGlobals(await readRunGlobals(ctx.engine.storage, manifests[0]!)), inventory: await readTargetInventory(target.connection) };
  },
  plan(args, facts): Plan {
    const step = (kind: (typeof STEPS)[number]['kind'], extra: Parameters<typeof declaredStep>[2] = {}) => declaredStep(STEPS, kind, extra);
    if (facts.foreign) {
      const foreign = planForeign(args, facts.foreign);
      return {
        command: 'dumpall',
        summary: foreign.summary,
        risk: 'side-copy',
        steps: [step('download', { title: foreign.titles.download }), step('globals', { title: foreign.titles.globals }), step('restore', { title: foreign.titles.restore })],
        facts: foreign.facts,
        params: { stamp: args.source, to: args.to, renameSuffix: args.renameSuffix, jobs: args.jobs, maintenanceWorkMemMb: POST_DATA_MAINTENANCE_MB, ...foreign.params },
      };
    }
    const refused = conflictError(dumpallConflicts(facts.manifests.map((m) => m.database), facts.globals, facts.inventory, args.renameSuffix), args.to, args.source);
    if (refused) throw refused;
    const total = facts.manifests.reduce((sum, m) => sum + m.dumpBytes, 0);
    const rolesNew = facts.globals.roles.filter((role) => !facts.inventory.roles.includes(role));
    const rolesKept = facts.globals.roles.filter((role) => facts.inventory.roles.includes(role));
    const names = facts.manifests.map((m) => `${m.database} → ${restoredName(m.database, args.renameSuffix)}`);
    return {
      command: 'dumpall',
      summary: `Restore the ${facts.manifests.length} databases of dump run ${args.source} onto ${args.to}${args.renameSuffix ? ` with the suffix ${args.renameSuffix}` : ''} (nothing existing is changed)`,
      risk: 'side-copy',
      steps: [
        step('download', { title: `Download ${facts.manifests.length} dumps (${mb(total)}) and check every file's sha256; a mismatch stops before anything is created` }),
        step('globals', { title: `On ${args.to}: create roles ${rolesNew.join(', ') || '(none)'} and tablespaces ${facts.globals.tablespaces.filter((s) => !facts.inventory.tablespaces.includes(s)).join(', ') || '(none)'}; keep ${rolesKept.join(', ') || 'no existing role'} as they are` }),
        step('restore', { title: `Create ${names.join(', ')} (template0, each dump's encoding and locale), load each (pg_restore -j ${args.jobs}), ANALYZE, row counts against the dump` }),
      ],
      facts: {
        'Dump run': `${args.source}: ${facts.manifests.map((m) => `${m.database} ${mb(m.dumpBytes)}`).join(', ')}; snapshot of each at its own time (${facts.manifests.map((m) => m.snapshot.time).join(', ')})`,
        Target: `${args.to}: ${facts.inventory.databases.length} databases, ${facts.inventory.roles.length} roles now; none of the new names exists there`,
        Roles: `${rolesNew.length} created from the run's globals.sql; ${rolesKept.length} existing kept unchanged (passwords and attributes not touched)`,
      },
      params: { stamp: args.source, to: args.to, renameSuffix: args.renameSuffix, jobs: args.jobs, maintenanceWorkMemMb: POST_DATA_MAINTENANCE_MB, databases: facts.manifests.map((m) => ({ database: m.database, files: m.files.length })) },
    };
  },
  steps: STEPS,
  paramsSchema,
  async run(ctx, params): Promise<DumpallRestored> {
    if (params.to === PRODUCTION_TARGET && !params.renameSuffix) throw new RecoverError('TARGET_NOT_ALLOWED', 'A dumpall onto production needs a rename suffix.', { hint: 'Plan again with --rename-suffix.' });
    if (params.foreign) {
      const target = await resolveDumpallTarget(ctx.config, params.to);
      return restoreForeignDumpall(ctx.engine, ctx.config, { path: params.foreign.path, sha256: params.foreign.sha256, target, suffix: params.renameSuffix, jobs: params.jobs });
    }
    const manifests = runManifests(await listDumps(ctx.engine.storage), params.stamp);
    const same = manifests.length === params.databases.length && params.databases.every((entry) => manifests.some((m) => m.database === entry.database && m.files.length === entry.files));
    if (!same) throw new RecoverError('BACKUP_CORRUPT', `Dump run ${params.stamp} changed since it was planned; nothing was created.`, { hint: `Plan again: /recover dumpall ${params.stamp} --to ${params.to}.` });
    const target = await resolveDumpallTarget(ctx.config, params.to);
    return restoreDumpall(ctx.engine, ctx.config, { stamp: params.stamp, manifests, target, suffix: params.renameSuffix, jobs: params.jobs, maintenanceWorkMemMb: params.maintenanceWorkMemMb });
  },
  verdict: (result) => (result.ok ? null : new RecoverError('VERIFY_FAILED', `Restored onto ${result.target}, but: ${result.databases.filter((d) => !d.ok).map((d) => `${d.newName}: ${d.message}`).join('; ')}.`, { hint: 'The databases are kept for inspection; drop them when done.' })),
  format: (result) => [
    `${result.sha256 ? 'pg_dumpall file' : 'Dump run'} ${result.stamp} restored onto ${result.target}: roles created ${result.rolesCreated.join(', ') || 'none'}; kept ${result.rolesKept.join(', ') || 'none'}.`,
    ...result.databases.map((d) => `  ${d.database} → ${d.newName}: ${d.ok ? 'ok' : 'FAILED'}, ${d.tables} tables, ${d.rows} rows (${d.message})`),
    ...(result.skipped?.length ? [`Left out, empty in the file: ${result.skipped.join(', ')}.`] : []),
    ...(result.unverified ? [`Not verified: ${result.unverified}.`] : []),
  ].join('\n'),
  summary: (params) => {
    const shown = z.object({ stamp: z.string(), to: z.string() }).safeParse(params);
    return { target: shown.success ? { text: `${/^\d{14}$/.test(shown.data.stamp) ? 'dump run' : 'pg_dumpall file'} ${shown.data.stamp}`, time: null } : null, to: null, recovery: null, followUps: [], sideInstanceHandled: true };
  },
};
