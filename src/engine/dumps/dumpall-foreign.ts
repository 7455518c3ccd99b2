/**
 * `/recover dumpall <blob path> --to <server>`: a foreign pg_dumpall file restored onto another
 * server. Order: the blob streamed into one file per database (dumpall-blob.ts), its sha256
 * compared with the planned one and every refusal of the reading (meta-commands, --clean, …)
 * stopping it before anything is created; the target checked again for the databases and roles
 * the plan found absent; the roles and tablespaces it lacks created (existing ones never
 * altered); then each database: its CREATE DATABASE under its new name, the statements naming it
 * (owner, settings, comment, grants) renamed likewise, its body loaded by psql (argument array,
 * ON_ERROR_STOP, one transaction, behind a \restrict key of ours so psql refuses any meta-command
 * in it), ANALYZE, and the row count of every table loaded by COPY against the lines of its COPY.
 * A database this job created and did not finish is dropped; finished ones stay and are reported.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import { runBounded } from '../backup-parts/bounded.js';
import type { EngineContext } from '../context.js';
import { createEmptyDatabaseSql, dropDatabaseSql } from '../database/sql.js';
import { removeTree } from '../instances.js';
import { makeOwnedDir } from '../local-cluster.js';
import { ownerFor } from '../os-user.js';
import { connectionArgs, type ConnectionParams } from '../pg-args.js';
import { withTargetClient } from '../pg-client.js';
import { step } from '../restore-to-target.js';
import { requireTargetDatabases } from '../targets/guard.js';
import { verifyRestored } from '../verify.js';
import { bodyFiles, type BlobRead, FOREIGN_DUMPALL_UNVERIFIED, fromBytes, readDumpallBlob } from './dumpall-blob.js';
import { restorableDatabases, renameDatabaseIn, type PlainDumpall } from './dumpall-plain.js';
import { conflictError, dumpallConflicts, readTargetInventory, type DumpallRestored, type DumpallTarget } from './dumpall.js';
import { globalsStatements, parseGlobals, statementHead } from './globals.js';

/** PostgreSQL's limit on a name, in bytes (a longer one is cut silently: two could become one). */
export const NAME_MAX_BYTES = 63;

/** `dbname='…'` for psql's --dbname (pure): a database name that holds `=`, quotes or backslashes stays one name. */
export const conninfoDbname = (name: string) => `dbname='${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** psql loading one database's body (pure): no psqlrc, the first error stops it, one transaction, results discarded. */
export function psqlLoadArgs(bin: string, conn: ConnectionParams, database: string, file: string): [string, string[]] {
  return [join(bin, 'psql'), ['--no-psqlrc', '--no-password', '--set', 'ON_ERROR_STOP=1', '--single-transaction', '--quiet', '--output', '/dev/null', ...connectionArgs({ ...conn, dbname: undefined }), '--dbname', conninfoDbname(database), '--file', file]];
}

/** What the file holds, names decoded (pure): its roles, tablespaces and the databases to restore with their new names. */
export function foreignContents(dump: PlainDumpall, suffix: string | null) {
  const globals = parseGlobals(fromBytes(dump.globalsSql));
  const databases = restorableDatabases(dump).map((db) => ({ read: db, database: fromBytes(db.name), newName: `${fromBytes(db.name)}${suffix ?? ''}` }));
  const skipped = dump.databases.filter((db) => !restorableDatabases(dump).includes(db)).map((db) => fromBytes(db.name));
  return { globals, databases, skipped };
}

/** Why the file cannot be restored as it is (pure): its reading's refusals, listed with their lines; null: none. */
export function refusalError(path: string, dump: PlainDumpall): RecoverError | null {
  if (dump.refusals.length === 0) return null;
  const shown = dump.refusals.slice(0, 8).map((r) => `line ${r.line}: ${r.command} (${r.why})`);
  return new RecoverError('BAD_INPUT', `${path} is refused, nothing was created: ${shown.join('; ')}${dump.refusals.length > 8 ? `; and ${dump.refusals.length - 8} more` : ''}.`, {
    hint: 'Restore only a file pg_dumpall wrote (plain SQL, without --clean); psql meta-commands allowed: \\connect, \\restrict, \\unrestrict, \\encoding.',
  });
}

/** New names too long for PostgreSQL (pure). */
export const tooLongNames = (names: readonly string[]) => names.filter((name) => Buffer.byteLength(name, 'utf8') > NAME_MAX_BYTES);

export interface ForeignDumpallRequest {
  path: string;
  /** The blob's sha256 when planned: the job refuses another file. */
  sha256: string;
  target: DumpallTarget;
  suffix: string | null;
  /** Databases created and loaded at once (--jobs): each is one psql transaction, so databases are what runs side by side. */
  jobs: number;
}

export async function restoreForeignDumpall(ctx: EngineContext, config: Pick<Config, 'pg' | 'restoreRoot' | 'recoveryTimeoutSeconds'>, request: ForeignDumpallRequest): Promise<DumpallRestored> {
  const { target, suffix, path } = request;
  const timeoutMs = Math.max(config.recoveryTimeoutSeconds, 600) * 1000;
  const owner = await ownerFor(config.pg.osUser);
  const work = join(config.restoreRoot, `dumpall-foreign-${randomBytes(3).toString('hex')}`);
  const seconds: Record<string, number> = {};
  const created: string[] = [];
  const finished = new Set<string>();
  const onPostgres = { ...target.connection, database: 'postgres' };
  try {
    const finishDownload = step(ctx, 'download', `Download ${path}, check it is the planned pg_dumpall file and what it would run`);
    await makeOwnedDir(config.restoreRoot, owner);
    await makeOwnedDir(work, owner);
    // psql's own guard: under this key it refuses every meta-command of the body (only \unrestrict <key> would lift it).
    const key = randomBytes(24).toString('hex');
    const files = bodyFiles(work, key);
    let bodies = new Map<string, string>();
    let read: BlobRead;
    try {
      read = await readDumpallBlob(ctx, path, files.sink);
    } finally {
      bodies = files.close();
    }
    const refused = refusalError(path, read.dump);
    if (refused) throw refused;
    if (read.sha256 !== request.sha256) throw new RecoverError('BACKUP_CORRUPT', `${path} changed since it was planned (sha256 ${read.sha256}, planned ${request.sha256}); nothing was created.`, { hint: `Plan again: /recover dumpall ${path} --to ${target.name}.` });
    const contents = foreignContents(read.dump, suffix);
    seconds.download = finishDownload(`${(read.bytes / 1e6).toFixed(1)} MB, sha256 ${read.sha256} as planned; ${contents.databases.length} databases, no refused meta-command`);

    const finishGlobals = step(ctx, 'globals', `Roles and tablespaces on ${target.name} (only those it lacks)`);
    await requireTargetDatabases(onPostgres, contents.databases.map((db) => db.newName), 'database');
    const inventory = await readTargetInventory(target.connection);
    const conflict = conflictError(dumpallConflicts(contents.databases.map((db) => db.database), contents.globals, inventory, suffix), target.name, path);
    if (conflict) throw conflict;
    const existing = { roles: new Set(inventory.roles), tablespaces: new Set(inventory.tablespaces) };
    await withTargetClient(onPostgres, async (client) => {
      for (const statement of globalsStatements(fromBytes(read.dump.globalsSql), existing)) {
        await client.query(statement).catch((error: unknown) => {
          throw new RecoverError('COMMAND_FAILED', `${target.name} refused ${statementHead(statement)} from ${path}: ${(error as Error).message}. No database was created.`, { hint: 'Create that role or tablespace by hand (a tablespace\'s directory must exist on the target host), then run it again.', cause: error });
        });
      }
    });
    const rolesCreated = contents.globals.roles.filter((role) => !existing.roles.has(role));
    const tablespacesCreated = contents.globals.tablespaces.filter((space) => !existing.tablespaces.has(space));
    seconds.globals = finishGlobals(`${rolesCreated.length} roles created (${rolesCreated.join(', ') || 'none'}), ${tablespacesCreated.length} tablespaces created; existing ones kept`);

    const jobs = Math.max(1, Math.min(request.jobs, contents.databases.length));
    const finishRestore = step(ctx, 'restore', `Create and load ${contents.databases.length} databases on ${target.name} (psql, one transaction each, ${jobs} at once)`);
    const restoreOne = async ({ read: db, database, newName }: (typeof contents.databases)[number]): Promise<DumpallRestored['databases'][number]> => {
      await withTargetClient(onPostgres, async (client) => {
        const names = (await client.query('SELECT datname FROM pg_database')).rows.map((row) => row.datname as string);
        if (names.includes(newName)) throw conflictError({ databases: [newName], roles: [] }, target.name, path)!;
        await client.query(db.create ? renameDatabaseIn(fromBytes(db.create), newName) : createEmptyDatabaseSql(newName));
        created.push(newName);
        for (const statement of db.databaseStatements) await client.query(renameDatabaseIn(fromBytes(statement), newName));
      });
      const body = bodies.get(db.name);
      if (body) await ctx.exec.run(...psqlLoadArgs(config.pg.bin, target.tool, newName, body), { asUser: config.pg.osUser, timeoutMs, signal: ctx.signal, env: target.toolEnv });
      await withTargetClient({ ...target.connection, database: newName }, (client) => client.query('ANALYZE'));
      finished.add(newName);
      const report = await verifyRestored(onPostgres, { databases: [newName], subject: `${newName} on ${target.name}`, amcheck: 'existing', counts: 'exact' });
      const copyCounts = new Map((report.databases.find((entry) => entry.name === newName)?.tables ?? []).map((table) => [table.table, table.rows]));
      const counted = copyRowCheck(Object.entries(db.copyRows).map(([table, rows]) => [fromBytes(table), rows] as const), copyCounts, db.insertTables.map(fromBytes));
      const failed = [...report.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.message}`), ...(counted.ok ? [] : [counted.message])];
      const ok = failed.length === 0;
      ctx.log.info({ database, newName, ok }, 'database restored from the foreign pg_dumpall file');
      return { database, newName, tables: counted.tables, rows: counted.rows, ok, message: ok ? counted.message : failed.join('; ') };
    };
    // After a failure no database is started; those loading finish (restoreOne keeps the job's
    // signal, not runBounded's), so the clean-up below knows every one that was created.
    const results = await runBounded(contents.databases, jobs, ctx.signal, (entry) => restoreOne(entry));
    const ok = results.every((result) => result.ok);
    seconds.restore = finishRestore(`${results.length} databases; ${ok ? 'every COPY row count equal to the file\'s' : `FAILED: ${results.filter((r) => !r.ok).map((r) => r.newName).join(', ')}`}`);
    return { stamp: path, target: target.name, rolesCreated, rolesKept: contents.globals.roles.filter((role) => existing.roles.has(role)), tablespacesCreated, databases: results, ok, seconds, unverified: FOREIGN_DUMPALL_UNVERIFIED, skipped: contents.skipped, sha256: read.sha256 };
  } catch (error) {
    for (const name of created.filter((db) => !finished.has(db))) {
      await withTargetClient(onPostgres, (client) => client.query(dropDatabaseSql(name))).catch((dropError: unknown) => ctx.log.error({ err: dropError }, `could not drop the unfinished ${name}`));
    }
    throw error;
  } finally {
    await removeTree(ctx.exec, work).catch((error: unknown) => ctx.log.error({ err: error }, `could not remove ${work}`));
  }
}

/** Each COPY's line count against the table's rows in the copy (pure); tables loaded by INSERT said as not counted. */
export function copyRowCheck(copied: readonly (readonly [string, number])[], copyCounts: ReadonlyMap<string, number>, insertTables: readonly string[]) {
  const differing = copied.filter(([table, rows]) => copyCounts.get(table) !== rows);
  const rows = copied.reduce((sum, [, n]) => sum + n, 0);
  const notCounted = insertTables.length ? `; not counted (loaded by INSERT): ${insertTables.join(', ')}` : '';
  return {
    ok: differing.length === 0,
    tables: copied.length,
    rows,
    message: differing.length === 0
      ? `${copied.length} tables, each with as many rows as lines in its COPY (${rows} rows)${notCounted}`
      : `row counts differ from the file's COPY lines: ${differing.map(([table, n]) => `${table}: ${copyCounts.get(table) ?? 'missing'} in the copy, ${n} in the file`).join('; ')}`,
  };
}
