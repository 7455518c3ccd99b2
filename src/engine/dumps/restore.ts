/**
 * `/recover dump <db>`: a stored logical dump restored as a NEW database on production, verified.
 * Every file is downloaded and its sha256 checked against the manifest before anything is
 * created (BACKUP_CORRUPT otherwise); the roles the dump names must exist unless owners and
 * grants are left out (--no-owner, shown in the plan). Then CREATE DATABASE from template0 with
 * the dump's encoding and locale, and pg_restore section by section: pre-data (tables, no
 * indexes or constraints), data with N jobs into bare tables, post-data (indexes, constraints,
 * foreign keys: validated once, against the loaded rows) with N jobs and a raised
 * maintenance_work_mem for those sessions only; the database's settings; ANALYZE; the checks of
 * /recover database plus every table's row count against the count taken in the dump's own
 * snapshot. A finished copy is recorded (copy-records.ts) as /recover database's copies are, so
 * a verified `<db>_restored_<stamp>` is swapped in by `/recover database <db> --swap …`.
 * Steps: download, create-database, restore-schema, restore-data, restore-indexes, analyze, verify.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import { pgClientConfig } from '../../util/connection-url.js';
import { nowIso, type EngineContext } from '../context.js';
import { integrityFor, readDatabaseFacts } from '../database/copy.js';
import type { CopyRecords } from '../database/copy-records.js';
import { alterDatabaseSetSql, commentOnDatabaseSql, copyMarker, createDatabaseLikeSql, databaseFactsSql, dropDatabaseSql, existingRolesSql, toDatabaseFacts } from '../database/sql.js';
import { removeTree } from '../instances.js';
import { makeOwnedDir } from '../local-cluster.js';
import { ownerFor } from '../os-user.js';
import { withTargetClient } from '../pg-client.js';
import { step } from '../restore-to-target.js';
import { requireTargetDatabases } from '../targets/guard.js';
import { verifyRestored, type IntegrityReport } from '../verify.js';
import { rolesMissingError } from './dump-roles.js';
import { loadDump, loadProgressEvents } from './load.js';
import { downloadDump } from './download.js';
import { downloadForeignDump, foreignCheck, FOREIGN_UNVERIFIED } from './foreign.js';
import type { DumpManifest } from './manifest.js';
import { sourceConnection } from './take.js';

export type DumpRestoreConfig = Pick<Config, 'pg' | 'source' | 'restoreRoot' | 'recoveryTimeoutSeconds' | 'verifyTables' | 'verifyConfigFile'>;

export interface DumpRestoreRequest {
  manifest: DumpManifest;
  newName: string;
  jobs: number;
  noOwner: boolean;
  /** For the post-data sessions (PGOPTIONS). */
  maintenanceWorkMemMb: number;
  production: string;
  records: CopyRecords;
  /**
   * A foreign `pg_dump -Fc` blob (foreign.ts) instead of a stored dump: `manifest` then only
   * carries what creating the database needs (foreignManifest), the checks are foreign.ts's.
   */
  foreign?: { path: string };
}

export interface DumpRestored {
  database: string;
  stamp: string;
  newName: string;
  bytes: number;
  tables: { table: string; dump: number; copy: number | null }[];
  report: IntegrityReport;
  record: { copyId: string; where: string };
  seconds: Record<string, number>;
  swapCommand: string | null;
}

/** The copy's description in its record and marker: which dump, and what its snapshot holds. */
export const dumpTargetText = (manifest: DumpManifest) => `dump ${manifest.database}/${manifest.stamp} (snapshot ${manifest.snapshot.time}, every commit before LSN ${manifest.snapshot.lsn})`;

/** The row counts of the copy against the dump's (pure): a check in the integrity report's words. */
export function rowCountCheck(newName: string, dumpCounts: DumpManifest['tables'], copyCounts: ReadonlyMap<string, number>) {
  const tables = dumpCounts.map(({ table, rows }) => ({ table, dump: rows, copy: copyCounts.get(table) ?? null }));
  const extra = [...copyCounts.keys()].filter((table) => !dumpCounts.some((entry) => entry.table === table));
  const differing = tables.filter((table) => table.copy !== table.dump);
  const ok = differing.length === 0 && extra.length === 0;
  return {
    tables,
    check: {
      name: `row counts ${newName}`,
      ok,
      message: ok
        ? `${tables.length} tables, the same row count as counted in the dump's snapshot (${tables.reduce((sum, table) => sum + table.dump, 0)} rows)`
        : [...differing.map((table) => `${table.table}: ${table.copy ?? 'missing'} in the copy, ${table.dump} in the dump`), ...extra.map((table) => `${table}: only in the copy`)].join('; '),
    },
  };
}

/** The dump's table of contents against its recorded counts (pure): every table whose rows it holds was counted. */
export function tocCheck(tocTables: readonly string[], counted: DumpManifest['tables']) {
  const uncounted = tocTables.filter((table) => !counted.some((entry) => entry.table === table));
  return {
    name: 'dump contents',
    ok: uncounted.length === 0,
    message: uncounted.length === 0 ? `${tocTables.length} tables with data in the dump's table of contents, each with its row count from the dump's snapshot` : `in the dump's table of contents but without a recorded row count: ${uncounted.join(', ')}`,
  };
}

export async function restoreDump(ctx: EngineContext, config: DumpRestoreConfig, request: DumpRestoreRequest): Promise<DumpRestored> {
  const { newName, jobs } = request;
  let manifest = request.manifest;
  const source = sourceConnection(config);
  const production = pgClientConfig(source, 'postgres');
  const conn = { host: source.host, port: source.port, user: source.user, dbname: newName };
  const toolEnv: Record<string, string> = source.password ? { PGPASSWORD: source.password } : {};
  const timeoutMs = Math.max(config.recoveryTimeoutSeconds, 600) * 1000;
  const run = (file: string, args: string[], env: Record<string, string> = {}) => ctx.exec.run(file, args, { asUser: config.pg.osUser, timeoutMs, signal: ctx.signal, env: { ...toolEnv, ...env } });
  const seconds: Record<string, number> = {};
  const owner = await ownerFor(config.pg.osUser);
  const work = join(config.restoreRoot, `dump-restore-${manifest.stamp}-${randomBytes(3).toString('hex')}`);
  let created = false;
  let restoredFully = false;
  try {
    // Never a system database or a template as the source's name or the new one (engine/targets), checked again in the job.
    await requireTargetDatabases(production, [manifest.database, newName], 'database');
    const finishDownload = step(ctx, 'download', request.foreign ? `Download ${request.foreign.path} and check what a foreign dump allows` : `Download dump ${manifest.database}/${manifest.stamp} and check every file's sha256`);
    await makeOwnedDir(config.restoreRoot, owner);
    let dumpDir: string;
    let tocTables: string[];
    let targetText = dumpTargetText(manifest);
    if (request.foreign) {
      const got = await downloadForeignDump(ctx, request.foreign.path, work, owner, { bin: config.pg.bin, run });
      manifest = { ...manifest, roles: got.owners, dumpBytes: got.bytes };
      ({ file: dumpDir, tocTables } = got);
      targetText = `foreign dump ${request.foreign.path} (sha256 ${got.sha256}, from PostgreSQL ${got.header.serverVersion ?? '?'})`;
      seconds.download = finishDownload(`${(got.bytes / 1e6).toFixed(1)} MB, sha256 ${got.sha256}; PGDMP header and table of contents read (${tocTables.length} tables with data); not verified: ${FOREIGN_UNVERIFIED}`);
    } else {
      ({ dumpDir, tocTables } = await downloadDump(ctx, manifest, work, owner, jobs, { bin: config.pg.bin, run }));
      seconds.download = finishDownload(`${manifest.files.length} files, ${(manifest.dumpBytes / 1e6).toFixed(1)} MB, every sha256 matches`);
    }

    const finishCreate = step(ctx, 'create-database', `Create ${newName} on production (template0, ${manifest.encoding}, ${manifest.collate})`);
    await withTargetClient(production, async (client) => {
      if (!request.noOwner) {
        const present = new Set((await client.query(existingRolesSql, [manifest.roles])).rows.map((row) => row.rolname as string));
        const missing = manifest.roles.filter((role) => !present.has(role));
        // Checked at planning too (commands/dump): a role dropped since is refused here, before anything is created.
        if (missing.length > 0) throw rolesMissingError(missing, 'production', `/recover dump ${manifest.database} --no-owner`);
      }
      const ownerName = request.noOwner ? String((await client.query('SELECT current_user AS name')).rows[0].name) : manifest.owner;
      await client.query(createDatabaseLikeSql(newName, { ...manifest, owner: ownerName }));
      created = true;
    });
    const createdOid = toDatabaseFacts((await withTargetClient(production, (client) => client.query(databaseFactsSql, [newName]))).rows[0]).oid;
    seconds['create-database'] = finishCreate(`owner ${request.noOwner ? 'the restoring role' : manifest.owner}, encoding ${manifest.encoding}, collate ${manifest.collate}`);

    // A foreign dump is one custom-format file: pg_restore's alone (the loader reads directory dumps).
    const load = { bin: config.pg.bin, conn, ...(request.foreign ? {} : { client: { ...production, database: newName } }), signal: ctx.signal, onProgress: loadProgressEvents(ctx), dumpDir, jobs, noOwner: request.noOwner, maintenanceWorkMemMb: request.maintenanceWorkMemMb };
    Object.assign(seconds, await loadDump((file, args, env) => run(file, args, env), (kind, title) => step(ctx, kind, title), load));
    await withTargetClient(production, async (client) => {
      for (const setting of manifest.settings) {
        const sql = alterDatabaseSetSql(newName, setting);
        if (sql) await client.query(sql);
      }
    });
    restoredFully = true;

    const finishAnalyze = step(ctx, 'analyze', `ANALYZE ${newName}`);
    await withTargetClient({ ...production, database: newName }, (client) => client.query('ANALYZE'));
    seconds.analyze = finishAnalyze();

    const finishVerify = step(ctx, 'verify', `Verify ${newName}: integrity checks, row counts against the dump`);
    const report = await verifyRestored(production, { databases: [newName], subject: `the copy ${newName} on production`, amcheck: 'existing', counts: 'exact', tables: config.verifyTables, ...(await integrityFor(config.verifyConfigFile, manifest.database, newName)) });
    const copyCounts = new Map((report.databases.find((entry) => entry.name === newName)?.tables ?? []).map((table) => [table.table, table.rows]));
    const counted = request.foreign ? { tables: [], check: foreignCheck(tocTables, copyCounts) } : rowCountCheck(newName, manifest.tables, copyCounts);
    report.checks.push(counted.check, ...(request.foreign ? [] : [tocCheck(tocTables, manifest.tables)]));
    report.ok = report.checks.every((check) => check.ok);
    ctx.events.emit({ type: 'integrity.report', at: nowIso(ctx.clock), report });
    const after = await readDatabaseFacts(production, newName);
    if (after?.oid !== createdOid) {
      throw new RecoverError('COMMAND_FAILED', `${newName} was dropped or replaced while it was being verified; it is not recorded as a copy.`, { hint: `Find out who changed databases on production meanwhile; inspect or drop what is named ${newName} now.` });
    }
    const verified = report.ok;
    const failedChecks = report.checks.filter((check) => !check.ok).map((check) => check.name);
    const record = await request.records.record({ production: request.production, database: manifest.database, restoredName: newName, restoredOid: createdOid, targetText, verified, failedChecks });
    if (verified) await withTargetClient(production, (client) => client.query(commentOnDatabaseSql(newName, copyMarker(manifest.database, targetText))));
    seconds.verify = finishVerify(`${verified ? `passed: ${counted.tables.length} tables, row counts equal to the dump's` : `FAILED: ${failedChecks.join(', ')}`}; recorded as copy ${record.copyId}`);
    // Only a `<db>_restored_<stamp>` is what /recover database --swap takes.
    const swappable = verified && new RegExp(`^${manifest.database.replace(/\$/g, '\\$')}_restored_\\d{14}$`).test(newName);
    return {
      database: manifest.database,
      stamp: manifest.stamp,
      newName,
      bytes: after?.bytes ?? 0,
      tables: counted.tables,
      report,
      record: { copyId: record.copyId, where: request.records.where },
      seconds,
      swapCommand: swappable ? `/recover database ${manifest.database} --swap ${newName}` : null,
    };
  } catch (error) {
    // A database this job created and never finished holds nothing anyone needs; a finished one is kept (recorded).
    if (created && !restoredFully) {
      await withTargetClient(production, (client) => client.query(dropDatabaseSql(newName))).catch((dropError: unknown) => ctx.log.error({ err: dropError }, `could not drop the unfinished ${newName}`));
    }
    throw error;
  } finally {
    await removeTree(ctx.exec, work).catch((error: unknown) => ctx.log.error({ err: error }, `could not remove ${work}`));
  }
}
