/**
 * `/recover dumpall <stamp> --to <server>` (runbook §3.2): every database dumped in one
 * `recover dump-backup` run (one stamp), with the run's roles and tablespaces, onto another server.
 * Order: every file of every dump downloaded and its sha256 checked (nothing is created from a
 * damaged dump); the target checked again for the databases and roles the plan found absent
 * (a conflict that appeared since stops it before anything is created); the globals applied
 * (only the roles and tablespaces the target lacks: existing ones are never altered); then each
 * database created from template0 like the dumped one, loaded as /recover dump loads
 * (load.ts), its settings, ANALYZE, and its row counts compared with the dump's. A database this
 * job created and did not finish is dropped; finished ones stay and are reported.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { alterDatabaseSetSql, createDatabaseLikeSql, databaseNamesSql, dropDatabaseSql } from '../database/sql.js';
import { removeTree } from '../instances.js';
import { makeOwnedDir } from '../local-cluster.js';
import { ownerFor } from '../os-user.js';
import type { ConnectionParams } from '../pg-args.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { step } from '../restore-to-target.js';
import { requireTargetDatabases } from '../targets/guard.js';
import { verifyRestored } from '../verify.js';
import { downloadDump, type DownloadedDump } from './download.js';
import { globalsStatements, parseGlobals, statementHead, type Globals } from './globals.js';
import { loadDump } from './load.js';
import type { DumpManifest } from './manifest.js';
import { rowCountCheck } from './restore.js';

export type DumpallConfig = Pick<Config, 'pg' | 'restoreRoot' | 'recoveryTimeoutSeconds'>;

/** What is on the target server: its databases, roles, tablespaces and the role restoring. */
export interface TargetInventory {
  databases: string[];
  roles: string[];
  tablespaces: string[];
  self: string;
}

export const targetInventorySql = `SELECT
  (SELECT array_agg(datname::text ORDER BY datname) FROM pg_database) AS databases,
  (SELECT array_agg(rolname::text ORDER BY rolname) FROM pg_roles) AS roles,
  (SELECT array_agg(spcname::text ORDER BY spcname) FROM pg_tablespace) AS tablespaces,
  current_user::text AS self`;

export async function readTargetInventory(connection: TargetConnection): Promise<TargetInventory> {
  const row = (await withTargetClient({ ...connection, database: 'postgres' }, (client) => client.query(targetInventorySql))).rows[0];
  return { databases: row.databases ?? [], roles: row.roles ?? [], tablespaces: row.tablespaces ?? [], self: row.self };
}

/** The name each database gets on the target (pure). */
export const restoredName = (database: string, suffix: string | null) => `${database}${suffix ?? ''}`;

/**
 * What stands in the way on the target (pure): databases that would be restored over, and roles
 * of the globals the target already has (the restoring role itself aside: it is the target's own
 * superuser, never recreated nor altered). With a suffix the databases get new names and existing
 * roles are kept as they are, so only the renamed databases can conflict.
 */
export function dumpallConflicts(databases: readonly string[], globals: Globals, target: TargetInventory, suffix: string | null): { databases: string[]; roles: string[] } {
  return {
    databases: databases.map((db) => restoredName(db, suffix)).filter((name) => target.databases.includes(name)),
    roles: suffix ? [] : globals.roles.filter((role) => role !== target.self && target.roles.includes(role)),
  };
}

export function conflictError(conflicts: { databases: string[]; roles: string[] }, targetName: string, stamp: string): RecoverError | null {
  if (conflicts.databases.length === 0 && conflicts.roles.length === 0) return null;
  const parts = [
    ...(conflicts.databases.length ? [`databases ${conflicts.databases.join(', ')}`] : []),
    ...(conflicts.roles.length ? [`roles ${conflicts.roles.join(', ')}`] : []),
  ];
  return new RecoverError('INSTANCE_EXISTS', `${targetName} already has ${parts.join(' and ')}; nothing is restored over them. Nothing was created.`, {
    hint: `Restore under new names: /recover dumpall ${stamp} --to ${targetName} --rename-suffix _restored (databases get the suffix; existing roles are kept as they are), or choose another server.`,
  });
}

export interface DumpallTarget {
  name: string;
  /** For the pg client (database postgres). */
  connection: TargetConnection;
  /** For pg_restore. */
  tool: ConnectionParams;
  toolEnv: Record<string, string>;
}

export interface DumpallRequest {
  stamp: string;
  manifests: DumpManifest[];
  target: DumpallTarget;
  suffix: string | null;
  jobs: number;
  maintenanceWorkMemMb: number;
}

export interface DumpallRestored {
  stamp: string;
  target: string;
  rolesCreated: string[];
  rolesKept: string[];
  tablespacesCreated: string[];
  databases: { database: string; newName: string; tables: number; rows: number; ok: boolean; message: string }[];
  ok: boolean;
  seconds: Record<string, number>;
  /** A foreign pg_dumpall file: what could not be verified, its empty databases left out, its sha256. */
  unverified?: string;
  skipped?: string[];
  sha256?: string;
}

export async function restoreDumpall(ctx: EngineContext, config: DumpallConfig, request: DumpallRequest): Promise<DumpallRestored> {
  const { manifests, target, suffix, jobs } = request;
  const timeoutMs = Math.max(config.recoveryTimeoutSeconds, 600) * 1000;
  const run = (file: string, args: string[], env: Record<string, string> = {}) => ctx.exec.run(file, args, { asUser: config.pg.osUser, timeoutMs, signal: ctx.signal, env: { ...target.toolEnv, ...env } });
  const owner = await ownerFor(config.pg.osUser);
  const work = join(config.restoreRoot, `dumpall-${request.stamp}-${randomBytes(3).toString('hex')}`);
  const seconds: Record<string, number> = {};
  const created: string[] = [];
  const finished = new Set<string>();
  try {
    const finishDownload = step(ctx, 'download', `Download the ${manifests.length} dumps of ${request.stamp} and check every file's sha256`);
    await makeOwnedDir(config.restoreRoot, owner);
    await makeOwnedDir(work, owner);
    const downloaded: DownloadedDump[] = [];
    for (const manifest of manifests) downloaded.push(await downloadDump(ctx, manifest, join(work, manifest.database), owner, jobs, { bin: config.pg.bin, run }));
    const globalsSql = await readFile(downloaded[0]!.globalsFile, 'utf8');
    const globals = parseGlobals(globalsSql);
    seconds.download = finishDownload(`${manifests.length} dumps, ${(manifests.reduce((sum, m) => sum + m.dumpBytes, 0) / 1e6).toFixed(1)} MB, every sha256 matches`);

    const finishGlobals = step(ctx, 'globals', `Roles and tablespaces on ${target.name} (only those it lacks)`);
    // Never a system database or a template as a new name (engine/targets), whatever the run holds.
    await requireTargetDatabases({ ...target.connection, database: 'postgres' }, manifests.map((m) => restoredName(m.database, suffix)), 'database');
    const inventory = await readTargetInventory(target.connection);
    const refused = conflictError(dumpallConflicts(manifests.map((m) => m.database), globals, inventory, suffix), target.name, request.stamp);
    if (refused) throw refused;
    const existing = { roles: new Set(inventory.roles), tablespaces: new Set(inventory.tablespaces) };
    await withTargetClient({ ...target.connection, database: 'postgres' }, async (client) => {
      for (const statement of globalsStatements(globalsSql, existing)) {
        await client.query(statement).catch((error: unknown) => {
          throw new RecoverError('COMMAND_FAILED', `${target.name} refused ${statementHead(statement)} from the dump's globals.sql: ${(error as Error).message}. No database was created.`, { hint: 'Create that role or tablespace by hand (a tablespace\'s directory must exist on the target host), then run it again.', cause: error });
        });
      }
    });
    const rolesCreated = globals.roles.filter((role) => !existing.roles.has(role));
    const tablespacesCreated = globals.tablespaces.filter((space) => !existing.tablespaces.has(space));
    seconds.globals = finishGlobals(`${rolesCreated.length} roles created (${rolesCreated.join(', ') || 'none'}), ${tablespacesCreated.length} tablespaces created; existing ones kept`);

    const finishRestore = step(ctx, 'restore', `Create and load ${manifests.length} databases on ${target.name} (pg_restore -j ${jobs})`);
    const results: DumpallRestored['databases'] = [];
    for (const [index, manifest] of manifests.entries()) {
      const newName = restoredName(manifest.database, suffix);
      await withTargetClient({ ...target.connection, database: 'postgres' }, async (client) => {
        const names = (await client.query(databaseNamesSql)).rows.map((row) => row.datname as string);
        if (names.includes(newName)) throw conflictError({ databases: [newName], roles: [] }, target.name, request.stamp)!;
        await client.query(createDatabaseLikeSql(newName, manifest));
        created.push(newName);
      });
      await loadDump((file, args, env) => run(file, args, env), () => () => 0, { bin: config.pg.bin, conn: { ...target.tool, dbname: newName }, client: { ...target.connection, database: newName }, signal: ctx.signal, dumpDir: downloaded[index]!.dumpDir, jobs, noOwner: false, maintenanceWorkMemMb: request.maintenanceWorkMemMb });
      await withTargetClient({ ...target.connection, database: 'postgres' }, async (client) => {
        for (const setting of manifest.settings) {
          const sql = alterDatabaseSetSql(newName, setting);
          if (sql) await client.query(sql);
        }
      });
      await withTargetClient({ ...target.connection, database: newName }, (client) => client.query('ANALYZE'));
      finished.add(newName);
      const report = await verifyRestored({ ...target.connection, database: 'postgres' }, { databases: [newName], subject: `${newName} on ${target.name}`, amcheck: 'existing', counts: 'exact' });
      const copyCounts = new Map((report.databases.find((entry) => entry.name === newName)?.tables ?? []).map((table) => [table.table, table.rows]));
      const counted = rowCountCheck(newName, manifest.tables, copyCounts);
      const ok = report.checks.every((check) => check.ok) && counted.check.ok;
      const failed = [...report.checks, counted.check].filter((check) => !check.ok).map((check) => `${check.name}: ${check.message}`);
      results.push({ database: manifest.database, newName, tables: counted.tables.length, rows: counted.tables.reduce((sum, table) => sum + table.dump, 0), ok, message: ok ? counted.check.message : failed.join('; ') });
      ctx.log.info({ database: manifest.database, newName, ok }, 'database restored from the dump');
    }
    const ok = results.every((result) => result.ok);
    seconds.restore = finishRestore(`${results.length} databases; ${ok ? 'every row count equal to the dump\'s' : `FAILED: ${results.filter((r) => !r.ok).map((r) => r.newName).join(', ')}`}`);
    return { stamp: request.stamp, target: target.name, rolesCreated, rolesKept: globals.roles.filter((role) => existing.roles.has(role)), tablespacesCreated, databases: results, ok, seconds };
  } catch (error) {
    // A database this job created and did not finish holds nothing anyone needs; finished ones stay.
    for (const name of created.filter((db) => !finished.has(db))) {
      await withTargetClient({ ...target.connection, database: 'postgres' }, (client) => client.query(dropDatabaseSql(name))).catch((dropError: unknown) => ctx.log.error({ err: dropError }, `could not drop the unfinished ${name}`));
    }
    throw error;
  } finally {
    await removeTree(ctx.exec, work).catch((error: unknown) => ctx.log.error({ err: error }, `could not remove ${work}`));
  }
}
