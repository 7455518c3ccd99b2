/**
 * Plan 1 of /recover database: one database brought back to a point in time as a new database
 * beside it on production, nothing else touched. A side instance restored to the target
 * (restoreSideInstance: prefetch and all), `pg_dump -Fd -j N` of the database from it into a
 * directory on the runner (as the postgres OS user), CREATE DATABASE `<db>_restored_<stamp>`
 * on production from template0 with the original's owner, encoding and locale, `pg_restore -j N`
 * into it (owners and grants kept: every role they name must exist in production, checked
 * first), the database-wide settings copied, then verification of the copy (verifyRestored and
 * the row count of every table against the side instance). Every finished copy is recorded by
 * recover-bot itself (request.records: its database oid, read right after CREATE DATABASE and
 * again after verification, the target and the verification's outcome): that record, never
 * production, is what the swap requires. A verified copy also gets a comment, for people
 * only (anyone could write one). The dump directory and the side instance are removed.
 * Steps: select, restore-base-backup, configure-recovery, replay-wal, dump, create-database, restore-dump, verify, remove-instance.
 */
import { join } from 'node:path';
import type { RestoreSelection } from '../../catalog/select-restore.js';
import type { IntegrityConfig } from '../../config.js';
import { RecoverError } from '../../errors.js';
import type { RecoveryTarget } from '../../types.js';
import { parseConnectionUrl, pgClientConfig, type SourceConnection } from '../../util/connection-url.js';
import { nowIso, type EngineContext } from '../context.js';
import { loadIntegrityConfig } from '../integrity/index.js';
import { openSideInstance, removeSideInstance, removeTree } from '../instances.js';
import { makeOwnedDir } from '../local-cluster.js';
import { ownerFor } from '../os-user.js';
import { pgDumpDirectoryArgs, pgRestoreDirectoryArgs } from '../pg-args.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { restoreSideInstance, step, type RestoreConfig } from '../restore-to-target.js';
import type { CopyRecords } from './copy-records.js';
import { requireTargetDatabases } from '../targets/guard.js';
import { rowCountSql } from '../sql.js';
import { listTables, verifyRestored, type IntegrityReport } from '../verify.js';
import {
  alterDatabaseSetSql, commentOnDatabaseSql, copyMarker, createDatabaseLikeSql, databaseFactsSql, databaseSettingsSql,
  dropDatabaseSql, existingRolesSql, referencedRolesSql, toDatabaseFacts, type DatabaseFacts,
} from './sql.js';

export interface DatabaseCopyRequest {
  selection: RestoreSelection;
  target: RecoveryTarget;
  inclusive: boolean;
  /** The target as plans show it; goes into the copy's marker. */
  targetText: string;
  instanceName: string;
  database: string;
  newName: string;
  jobs: number;
  /** Production as people name it (RECOVER_PRODUCTION_NAME), for the record. */
  production: string;
  /** Where the finished copy is recorded (the control DB for a runner job, the CLI's state directory). */
  records: CopyRecords;
}

export interface TableCount {
  table: string;
  side: number;
  copy: number | null;
}

export interface DatabaseCopied {
  database: string;
  newName: string;
  instanceName: string;
  reachedTime: string | null;
  /** Size of the new database on production, bytes. */
  bytes: number;
  tables: TableCount[];
  settingsCopied: number;
  report: IntegrityReport;
  /** The copy's record (copy-records.ts): the job's id or the CLI's random id, and where it is kept. */
  record: { copyId: string; where: string };
  /** The exact follow-up that swaps the copy in (only when verified). */
  swapCommand: string | null;
}

export function sourceOf(config: Pick<RestoreConfig, 'source'>): SourceConnection {
  if (!config.source.url) throw new RecoverError('CONFIG_INVALID', 'Restoring a database needs RECOVER_SOURCE_URL (production, where the copy is created).', { hint: 'Configure how the runner connects to production.' });
  return parseConnectionUrl(config.source.url);
}

export async function readDatabaseFacts(connection: TargetConnection, name: string): Promise<DatabaseFacts | null> {
  return withTargetClient({ ...connection, database: 'postgres' }, async (client) => {
    const { rows } = await client.query(databaseFactsSql, [name]);
    return rows[0] ? toDatabaseFacts(rows[0]) : null;
  });
}

async function tableCounts(connection: TargetConnection, database: string): Promise<Map<string, number>> {
  return withTargetClient({ ...connection, database }, async (client) => {
    const counts = new Map<string, number>();
    for (const table of await listTables(client)) counts.set(table, Number((await client.query(rowCountSql(table))).rows[0].rows));
    return counts;
  });
}

/** The checker's configuration with the original's checks applied to the copy's name. */
export async function integrityFor(configFile: string | undefined, database: string, newName: string): Promise<{ integrity?: IntegrityConfig; configFile?: string }> {
  if (!configFile) return {};
  try {
    const integrity = await loadIntegrityConfig(configFile);
    const own = integrity.databases[database];
    return { integrity: own ? { ...integrity, databases: { ...integrity.databases, [newName]: own } } : integrity };
  } catch {
    return { configFile }; // verifyRestored reports the unreadable file as a failed check
  }
}

export async function restoreDatabaseCopy(ctx: EngineContext, config: RestoreConfig, request: DatabaseCopyRequest): Promise<DatabaseCopied> {
  const { database, newName, jobs } = request;
  const source = sourceOf(config);
  const production = pgClientConfig(source, 'postgres');
  const toolEnv = source.password ? { PGPASSWORD: source.password } : undefined;
  const timeoutMs = Math.max(config.recoveryTimeoutSeconds, 600) * 1000;
  const run = (file: string, args: string[]) => ctx.exec.run(file, args, { asUser: config.pg.osUser, timeoutMs, signal: ctx.signal, ...(toolEnv ? { env: toolEnv } : {}) });

  // A user database only (never template0, template1, postgres), checked again before the side instance is restored.
  await requireTargetDatabases(production, [database], 'database');
  const finishSelect = step(ctx, 'select', `Check backup ${request.selection.backup.id} and the WAL segments in storage`);
  finishSelect(`backup ${request.selection.backup.id}, ${request.selection.requiredSegments.length} WAL segments`);
  const owner = await ownerFor(config.pg.osUser);
  const restored = await restoreSideInstance(ctx, config, request.selection, { target: request.target, inclusive: request.inclusive, action: 'promote', instanceName: request.instanceName }, owner);
  const side = restored.layout.connection;
  const sidePort = Number(side.port);
  const dumpParent = join(restored.layout.workDir, 'dump');
  let created = false;
  let createdOid = '';
  let restoredFully = false;
  try {
    const finishDump = step(ctx, 'dump', `Dump ${database} from the side instance (pg_dump -Fd -j ${jobs})`);
    const original = await readDatabaseFacts(side, database);
    if (!original) throw new RecoverError('COMMAND_FAILED', `Database ${database} did not exist at ${request.targetText}: the restored side instance has no such database.`, { hint: 'Choose a later target.' });
    const roles = await withTargetClient({ ...side, database }, async (client) => (await client.query(referencedRolesSql)).rows.map((row) => row.rolname as string));
    const settings = await withTargetClient({ ...side, database }, async (client) => (await client.query(databaseSettingsSql)).rows.map((row) => row.setting as string));
    await makeOwnedDir(dumpParent, owner);
    const dumpDir = join(dumpParent, database);
    const [dumpFile, dumpArgs] = pgDumpDirectoryArgs(config.pg.bin, { host: String(side.host), port: sidePort, user: 'postgres', dbname: database }, dumpDir, jobs);
    await run(dumpFile, dumpArgs);
    finishDump(`${(original.bytes / 1e6).toFixed(1)} MB database dumped with ${jobs} jobs`);

    const finishCreate = step(ctx, 'create-database', `Create ${newName} on production (template0, ${original.encoding}, ${original.collate})`);
    await withTargetClient(production, async (client) => {
      const present = new Set((await client.query(existingRolesSql, [roles])).rows.map((row) => row.rolname as string));
      const missing = roles.filter((role) => !present.has(role));
      if (missing.length > 0) {
        throw new RecoverError('COMMAND_FAILED', `The restored ${database} names roles production does not have: ${missing.join(', ')}. Nothing was created.`, {
          hint: `Owners and grants are kept so the copy can replace the original; create the roles (CREATE ROLE …) and run the command again.`,
        });
      }
      await client.query(createDatabaseLikeSql(newName, original));
      created = true;
      // The copy's identity from here on: its record binds to this oid, not to a name anyone can re-create.
      createdOid = toDatabaseFacts((await client.query(databaseFactsSql, [newName])).rows[0]).oid;
    });
    finishCreate(`owner ${original.owner}, encoding ${original.encoding}, collate ${original.collate}, ctype ${original.ctype}`);

    const finishRestore = step(ctx, 'restore-dump', `Restore the dump into ${newName} (pg_restore -j ${jobs})`);
    const [restoreFile, restoreArgs] = pgRestoreDirectoryArgs(config.pg.bin, { host: source.host, port: source.port, user: source.user, dbname: newName }, dumpDir, jobs);
    await run(restoreFile, restoreArgs);
    let settingsCopied = 0;
    await withTargetClient(production, async (client) => {
      for (const setting of settings) {
        const sql = alterDatabaseSetSql(newName, setting);
        if (!sql) continue;
        await client.query(sql);
        settingsCopied++;
      }
    });
    restoredFully = true;
    finishRestore(`restored with ${jobs} jobs; ${settingsCopied} database settings copied`);

    const finishVerify = step(ctx, 'verify', `Verify ${newName}: integrity checks, row counts against the side instance`);
    const report = await verifyRestored(production, { databases: [newName], subject: `the copy ${newName} on production`, amcheck: 'existing', counts: 'exact', tables: config.verifyTables, ...(await integrityFor(config.verifyConfigFile, database, newName)) });
    const sideCounts = await tableCounts(side, database);
    const copyCounts = new Map((report.databases.find((entry) => entry.name === newName)?.tables ?? []).map((table) => [table.table, table.rows]));
    const tables: TableCount[] = [...sideCounts].map(([table, rows]) => ({ table, side: rows, copy: copyCounts.get(table) ?? null }));
    const extra = [...copyCounts.keys()].filter((table) => !sideCounts.has(table));
    const differing = tables.filter((table) => table.copy !== table.side);
    report.checks.push({
      name: `row counts ${newName}`,
      ok: differing.length === 0 && extra.length === 0,
      message: differing.length === 0 && extra.length === 0
        ? `${tables.length} tables, the same row count as in the side instance (${tables.reduce((sum, table) => sum + table.side, 0)} rows)`
        : [...differing.map((table) => `${table.table}: ${table.copy ?? 'missing'} in the copy, ${table.side} in the side instance`), ...extra.map((table) => `${table}: only in the copy`)].join('; '),
    });
    report.ok = report.checks.every((check) => check.ok);
    // The channel's integrity report (the result's report is nested, so the job's end would not show it).
    ctx.events.emit({ type: 'integrity.report', at: nowIso(ctx.clock), report });
    const after = await readDatabaseFacts(production, newName);
    const verified = report.ok;
    if (after?.oid !== createdOid) {
      throw new RecoverError('COMMAND_FAILED', `${newName} was dropped or replaced while it was being verified (its oid is ${after?.oid ?? 'gone'}, this job created ${createdOid}); it is not recorded as a copy and cannot be swapped in.`, {
        hint: `Find out who changed databases on production meanwhile; then make a new copy. Inspect or drop what is named ${newName} now.`,
      });
    }
    const failedChecks = report.checks.filter((check) => !check.ok).map((check) => check.name);
    const record = await request.records.record({ production: request.production, database, restoredName: newName, restoredOid: createdOid, targetText: request.targetText, verified, failedChecks }).catch((error: unknown) => {
      throw new RecoverError('COMMAND_FAILED', `The copy ${newName} was made${verified ? ' and verified' : ''} but could not be recorded in ${request.records.where}: ${(error as Error).message} Without the record it cannot be swapped in; it is kept on production.`, {
        hint: `Fix what stopped the record, drop ${newName} (DROP DATABASE "${newName}") and make a new copy.`,
        cause: error,
      });
    });
    // For people looking at the databases only: the swap checks the record above, never this comment.
    if (verified) await withTargetClient(production, (client) => client.query(commentOnDatabaseSql(newName, copyMarker(database, request.targetText))));
    finishVerify(`${verified ? `passed: ${tables.length} tables, row counts equal` : `FAILED: ${failedChecks.join(', ')}`}; recorded as copy ${record.copyId}`);

    const finishRemove = step(ctx, 'remove-instance', `Remove the dump and the side instance ${request.instanceName}`);
    await removeSide(ctx, config, request.instanceName, restored.layout.instanceId, 'fast');
    finishRemove();
    return {
      database,
      newName,
      instanceName: request.instanceName,
      reachedTime: restored.outcome.reachedTime ?? null,
      bytes: after?.bytes ?? 0,
      tables,
      settingsCopied,
      report,
      record: { copyId: record.copyId, where: request.records.where },
      swapCommand: verified ? `/recover database ${database} --swap ${newName}` : null,
    };
  } catch (error) {
    // A copy this job created and never finished holds nothing anyone needs: it is dropped so
    // it cannot be mistaken for a restore. A finished but unverified copy is kept (recorded as failed, never swapped in).
    if (created && !restoredFully) {
      await withTargetClient(production, (client) => client.query(dropDatabaseSql(newName))).catch((dropError: unknown) => ctx.log.error({ err: dropError }, `could not drop the unfinished copy ${newName}`));
    }
    await removeSide(ctx, config, request.instanceName, restored.layout.instanceId, 'immediate').catch((removeError: unknown) => ctx.log.error({ err: removeError }, 'could not remove the side instance'));
    throw error;
  } finally {
    // Gone with the instance, unless its removal failed: then only inside an instance that still checks out.
    const left = await openSideInstance(config, request.instanceName).catch(() => null);
    if (left) await removeTree(ctx.exec, join(left.workDir, 'dump'));
  }
}

/** The side instance this job created, checked (its marker id) right before it is stopped and removed. */
async function removeSide(ctx: EngineContext, config: RestoreConfig, name: string, id: string | undefined, mode: 'fast' | 'immediate'): Promise<void> {
  await removeSideInstance(ctx.exec, await openSideInstance(config, name, id ? { expectId: id } : {}), mode);
}
