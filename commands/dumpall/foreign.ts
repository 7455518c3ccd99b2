/**
 * `/recover dumpall <blob path> --to <server>`: the plan of a foreign pg_dumpall file. Gather
 * streams the whole blob once (nothing kept but what it holds: roles, tablespaces, databases,
 * COPY line counts, and every refusal with its line) and its sha256, which the job checks again;
 * the plan refuses a file it would not run, names too long, and a target that has any of its
 * databases or roles (unless --rename-suffix), before anything is created. Engine:
 * src/engine/dumps/dumpall-foreign.ts.
 */
import type { CommandContext } from '../types.js';
import { readDumpallBlob, FOREIGN_DUMPALL_UNVERIFIED, fromBytes } from '../../src/engine/dumps/dumpall-blob.js';
import { foreignContents, refusalError, tooLongNames, NAME_MAX_BYTES } from '../../src/engine/dumps/dumpall-foreign.js';
import type { PlainDumpall } from '../../src/engine/dumps/dumpall-plain.js';
import { conflictError, dumpallConflicts, readTargetInventory, type TargetInventory } from '../../src/engine/dumps/dumpall.js';
import { resolveDumpallTarget } from '../../src/engine/dumps/dumpall-target.js';
import { requireTargetDatabases } from '../../src/engine/targets/guard.js';
import { RecoverError } from '../../src/errors.js';
import type { Plan } from '../../src/types.js';
import type { DumpallArgs } from './args.js';

export interface ForeignDumpallFacts {
  path: string;
  bytes: number;
  sha256: string;
  dump: PlainDumpall;
  inventory: TargetInventory;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export async function gatherForeign(ctx: CommandContext, args: DumpallArgs): Promise<ForeignDumpallFacts> {
  const path = args.source;
  const blob = await ctx.engine.storage.dumps.head(path);
  if (!blob) throw new RecoverError('NO_DUMP', `There is no blob ${path} in the dumps container.`, { hint: 'Upload the pg_dumpall file there (plain SQL; .sql.gz or .sql.zst compressed), or name a dump run by its stamp (recover backups lists them).' });
  const target = await resolveDumpallTarget(ctx.config, args.to);
  const read = await readDumpallBlob(ctx.engine, path);
  const names = foreignContents(read.dump, args.renameSuffix).databases.map((db) => db.newName);
  // Never a system database or a template as a new name (engine/targets); checked again in the job.
  if (read.dump.refusals.length === 0 && tooLongNames(names).length === 0) await requireTargetDatabases({ ...target.connection, database: 'postgres' }, names, 'database');
  return { path, bytes: read.bytes, sha256: read.sha256, dump: read.dump, inventory: await readTargetInventory(target.connection) };
}

/** The plan's body for a foreign file (pure): its steps' titles, facts and what the job needs. */
export function planForeign(args: DumpallArgs, facts: ForeignDumpallFacts) {
  const refused = refusalError(facts.path, facts.dump);
  if (refused) throw refused;
  const contents = foreignContents(facts.dump, args.renameSuffix);
  if (contents.databases.length === 0) throw new RecoverError('NO_DUMP', `${facts.path} holds no database to restore (only ${contents.skipped.join(', ') || 'nothing'}, empty).`, { hint: 'Check it is the whole pg_dumpall output.' });
  const long = tooLongNames(contents.databases.map((db) => db.newName));
  if (long.length > 0) throw new RecoverError('BAD_INPUT', `New database names longer than ${NAME_MAX_BYTES} bytes (PostgreSQL would cut them): ${long.join(', ')}.`, { hint: 'Use a shorter --rename-suffix.' });
  const conflict = conflictError(dumpallConflicts(contents.databases.map((db) => db.database), contents.globals, facts.inventory, args.renameSuffix), args.to, facts.path);
  if (conflict) throw conflict;
  const rolesNew = contents.globals.roles.filter((role) => !facts.inventory.roles.includes(role));
  const rolesKept = contents.globals.roles.filter((role) => facts.inventory.roles.includes(role));
  const spacesNew = contents.globals.tablespaces.filter((space) => !facts.inventory.tablespaces.includes(space));
  const inserts = contents.databases.flatMap((db) => db.read.insertTables.map((table) => `${db.database}.${fromBytes(table)}`));
  const copies = contents.databases.reduce((sum, db) => sum + Object.keys(db.read.copyRows).length, 0);
  const summary: Plan['summary'] = `Restore the ${contents.databases.length} databases of the pg_dumpall file ${facts.path} onto ${args.to}${args.renameSuffix ? ` with the suffix ${args.renameSuffix}` : ''} (nothing existing is changed)`;
  return {
    summary,
    titles: {
      download: `Download ${facts.path} (${mb(facts.bytes)}) again: it must be the planned file (sha256 ${facts.sha256.slice(0, 16)}…) with no refused psql meta-command (allowed: \\connect, \\restrict, \\unrestrict, \\encoding), before anything is created`,
      globals: `On ${args.to}: create roles ${rolesNew.join(', ') || '(none)'} and tablespaces ${spacesNew.join(', ') || '(none)'}; keep ${rolesKept.join(', ') || 'no existing role'} as they are`,
      restore: `Create ${contents.databases.map((db) => `${db.database} → ${db.newName}`).join(', ')} (the file's CREATE DATABASE under the new name), load each with psql (ON_ERROR_STOP, one transaction, no meta-command allowed; ${Math.min(args.jobs, contents.databases.length)} database${Math.min(args.jobs, contents.databases.length) === 1 ? '' : 's'} at once), ANALYZE, row counts against the file's COPY lines`,
    },
    facts: {
      Dump: `foreign pg_dumpall file ${facts.path}: ${mb(facts.bytes)}, sha256 ${facts.sha256}; databases ${contents.databases.map((db) => db.database).join(', ')}; roles ${contents.globals.roles.join(', ') || 'none'}; tablespaces ${contents.globals.tablespaces.join(', ') || 'none'}`,
      ...(contents.skipped.length ? { 'Left out': `${contents.skipped.join(', ')}: empty in the file (pg_dumpall's own, nothing in them)` } : {}),
      Verified: `row counts of the ${copies} tables loaded by COPY, against the lines of each COPY`,
      'Not verifiable': `${FOREIGN_DUMPALL_UNVERIFIED}${inserts.length ? `; loaded by INSERT here: ${inserts.join(', ')}` : ''}`,
      Target: `${args.to}: ${facts.inventory.databases.length} databases, ${facts.inventory.roles.length} roles now; none of the new names exists there`,
      Roles: `${rolesNew.length} created from the file; ${rolesKept.length} existing kept unchanged (passwords and attributes not touched)`,
    },
    params: { foreign: { path: facts.path, sha256: facts.sha256, bytes: facts.bytes }, databases: contents.databases.map((db) => ({ database: db.database, files: 0 })) },
  };
}
