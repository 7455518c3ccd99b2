/**
 * /recover failback when the old primary's data directory did not survive (runbook §5.3, the
 * dump path): the rebuilt primary (RECOVER_SOURCE_URL, a new cluster) gets DR's database back.
 * pg_dump -Fd -j N of the database on the DR primary inside one exported snapshot, in which every
 * table's row count and content hash are read too; restored (dumps/load.ts, the same pg_restore
 * runs as /recover dump) into a NEW database `<db>_restored_<stamp>` on the rebuilt primary;
 * every table compared (rows and hash) with DR's snapshot; recorded as a verified copy; then the
 * rename swap of `/recover database --swap` (database/swap.ts): the old database kept as
 * `<db>_before_<stamp>`, connections drained, both renames in one transaction.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { readDatabaseFacts } from '../database/copy.js';
import type { CopyRecords } from '../database/copy-records.js';
import { alterDatabaseSetSql, commentOnDatabaseSql, copyMarker, createDatabaseLikeSql, databaseNamesSql, databaseSettingsSql, dropDatabaseSql, referencedRolesSql, type DatabaseFacts } from '../database/sql.js';
import { missingRoles } from '../dumps/dump-roles.js';
import { placeDatabase } from '../database/place.js';
import { swapDatabases, type Swapped } from '../database/swap.js';
import { pgDumpArgs } from '../dumps/args.js';
import { DEFAULT_LEVERS, loadDump, loadProgressEvents } from '../dumps/load.js';
import { removeTree } from '../instances.js';
import { makeOwnedDir } from '../local-cluster.js';
import { ownerFor } from '../os-user.js';
import { targetClient, withTargetClient } from '../pg-client.js';
import { step } from '../restore-to-target.js';
import { tableHashSql } from '../sql.js';
import { requireTargetDatabases } from '../targets/guard.js';
import { tableHashes, listTables } from '../verify.js';
import { sideConnection, sideUrl } from './switchover-facts.js';

export const FAILBACK_DUMP_STEPS = [
  { kind: 'dump-dr', title: "pg_dump -Fd -j N of the database on the DR primary, in one snapshot (every table's row count and hash read in it)", destructive: false },
  { kind: 'create-database', title: 'Create the new database on the rebuilt primary (never over an existing one)', destructive: false },
  { kind: 'restore-schema', title: 'Restore the schema (pre-data)', destructive: false },
  { kind: 'restore-data', title: "Load the rows and build each table's indexes and constraints", destructive: false },
  { kind: 'verify', title: "Compare every table's row count and content hash with DR's snapshot", destructive: false },
  { kind: 'check-swap', title: 'Check both databases are the approved ones', destructive: false },
  { kind: 'swap', title: 'Swap: <db> → <db>_before_<stamp>, the restored copy → <db> (connections drained, one transaction)', destructive: true },
] as const;
export type FailbackDumpStepKind = (typeof FAILBACK_DUMP_STEPS)[number]['kind'];

export interface FailbackDumpParams {
  method: 'dump';
  dr: { label: string };
  database: string;
  newName: string;
  beforeName: string;
  /**
   * The rebuilt primary's `<db>` when planned: the swap replaces only that one. Null: it had none
   * (a new cluster), so the verified copy is renamed to `<db>` (database/place.ts), if still absent.
   */
  databaseOid: string | null;
  jobs: number;
  /** Owners and grants left out (--no-owner --no-acl): the copy belongs to the restoring role. Absent in plans made before it existed: false. */
  noOwner?: boolean;
  requestedAt: string;
}

export interface FailbackDumpFacts {
  database: string;
  onDr: DatabaseFacts | null;
  rebuiltOid: string | null;
  /** Every database name on the rebuilt primary: the new and the _before_ names must be free. */
  names: string[];
  /** Roles DR's database names (owners, grantees) that the rebuilt primary lacks: pg_restore would fail on them half-way. */
  missingRoles: string[];
}

/** The database on both sides, user databases only (engine/targets), read before the plan. */
export async function readFailbackDumpFacts(config: Pick<Config, 'source' | 'failover'>, database: string): Promise<FailbackDumpFacts> {
  const dr = sideConnection(config, 'dr');
  const rebuilt = sideConnection(config, 'production');
  await requireTargetDatabases(dr, [database], 'database');
  await requireTargetDatabases(rebuilt, [database], 'swap');
  const onDr = await readDatabaseFacts(dr, database);
  const named = onDr ? await withTargetClient({ ...dr, database }, async (c) => (await c.query(referencedRolesSql)).rows.map((row) => row.rolname as string)) : [];
  const present = await withTargetClient(rebuilt, async (c) => (await c.query('SELECT rolname FROM pg_roles')).rows.map((row) => row.rolname as string));
  return {
    database,
    onDr,
    missingRoles: missingRoles(named, present),
    rebuiltOid: (await readDatabaseFacts(rebuilt, database))?.oid ?? null,
    names: await withTargetClient(rebuilt, async (c) => (await c.query(databaseNamesSql)).rows.map((row) => row.datname as string)),
  };
}

export type TableDigest = Record<string, { rows: number; hash: string }>;

/** The copy's tables against DR's snapshot (pure): equal rows and hash for every table, none missing or extra. */
export function hashCheck(source: TableDigest, copy: TableDigest): { ok: boolean; message: string } {
  const problems: string[] = [];
  for (const [table, want] of Object.entries(source)) {
    const got = copy[table];
    if (!got) problems.push(`${table}: missing in the copy`);
    else if (got.rows !== want.rows) problems.push(`${table}: ${got.rows} rows in the copy, ${want.rows} on DR`);
    else if (got.hash !== want.hash) problems.push(`${table}: same ${got.rows} rows but different contents (hash)`);
  }
  for (const table of Object.keys(copy)) if (!source[table]) problems.push(`${table}: only in the copy`);
  const rows = Object.values(source).reduce((sum, t) => sum + t.rows, 0);
  return problems.length === 0 ? { ok: true, message: `${Object.keys(source).length} tables, ${rows} rows: row counts and content hashes equal to DR's snapshot` } : { ok: false, message: problems.join('; ') };
}

export interface FailbackDumpResult {
  method: 'dump';
  database: string;
  newName: string;
  tables: number;
  rows: number;
  verify: string;
  /** The swap, or (no `<db>` on the rebuilt primary) the rename: `beforeName` null. */
  swapped: Omit<Swapped, 'beforeName'> & { beforeName: string | null };
  seconds: Record<string, number>;
}

export async function runFailbackDump(ctx: EngineContext, config: Config, params: FailbackDumpParams, copies: CopyRecords, beforeDestructiveStep: (step: string) => Promise<void>): Promise<FailbackDumpResult> {
  const { database, newName } = params;
  const dr = sideConnection(config, 'dr');
  const drUrl = sideUrl(config, 'dr');
  const rebuilt = sideConnection(config, 'production');
  const rebuiltUrl = sideUrl(config, 'production');
  const timeoutMs = Math.max(config.recoveryTimeoutSeconds, 600) * 1000;
  const run = (file: string, args: string[], password: string | undefined, env: Record<string, string> = {}) =>
    ctx.exec.run(file, args, { asUser: config.pg.osUser, timeoutMs, signal: ctx.signal, env: { ...(password ? { PGPASSWORD: password } : {}), ...env } });
  const owner = await ownerFor(config.pg.osUser);
  const work = join(config.restoreRoot, `failback-dump-${randomBytes(4).toString('hex')}`);
  const seconds: Record<string, number> = {};
  let created = false;
  try {
    // Checked again in the job: user databases only, on both sides.
    await requireTargetDatabases(dr, [database], 'database');
    await requireTargetDatabases(rebuilt, [database, newName, params.beforeName], 'swap');
    await makeOwnedDir(config.restoreRoot, owner);
    await makeOwnedDir(work, owner);
    const dumpDir = join(work, database);
    let finish = step(ctx, 'dump-dr', `pg_dump -Fd -j ${params.jobs} of ${database} on ${params.dr.label}, in one snapshot`);
    const facts = await readDatabaseFacts(dr, database);
    if (!facts) throw new RecoverError('DATABASE_NOT_FOUND', `${database} does not exist on the DR primary ${params.dr.label}. Nothing was done.`);
    const client = targetClient({ ...dr, database });
    await client.connect();
    let source: TableDigest = {};
    let settings: string[] = [];
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const snapshot = String((await client.query('SELECT pg_export_snapshot() AS s')).rows[0].s);
      settings = (await client.query(databaseSettingsSql)).rows.map((row) => row.setting as string);
      const hashing = (async () => {
        const digest: TableDigest = {};
        for (const table of await listTables(client)) {
          const row = (await client.query(tableHashSql(table))).rows[0];
          digest[table] = { rows: Number(row.rows), hash: String(row.hash) };
        }
        return digest;
      })();
      [source] = await Promise.all([hashing, run(...pgDumpArgs(config.pg.bin, { host: drUrl.host, port: drUrl.port, user: drUrl.user, dbname: database }, dumpDir, params.jobs, snapshot), drUrl.password)]);
      await client.query('COMMIT');
    } finally {
      await client.end().catch((error: unknown) => ctx.log.warn({ err: error }, 'closing the snapshot session on DR'));
    }
    seconds['dump-dr'] = finish(`${Object.keys(source).length} tables hashed in the dump's snapshot`);

    finish = step(ctx, 'create-database', `Create ${newName} on the rebuilt primary (template0, ${facts.encoding}, ${facts.collate})`);
    if (await readDatabaseFacts(rebuilt, newName)) throw new RecoverError('COMMAND_FAILED', `${newName} already exists on the rebuilt primary; it is never overwritten. Nothing was changed.`, { hint: 'Plan the failback again (a new stamp) or drop that database yourself.' });
    const noOwner = params.noOwner ?? false;
    const databaseOwner = noOwner ? rebuiltUrl.user : facts.owner;
    await withTargetClient(rebuilt, (c) => c.query(createDatabaseLikeSql(newName, { ...facts, owner: databaseOwner })));
    created = true;
    seconds['create-database'] = finish(`owner ${databaseOwner}${noOwner ? ' (--no-owner: the restoring role, no grants)' : ''}`);
    const load = { bin: config.pg.bin, conn: { host: rebuiltUrl.host, port: rebuiltUrl.port, user: rebuiltUrl.user, dbname: newName }, client: { ...rebuilt, database: newName }, signal: ctx.signal, onProgress: loadProgressEvents(ctx), dumpDir, jobs: params.jobs, noOwner, maintenanceWorkMemMb: 256 };
    Object.assign(seconds, await loadDump((file, args, env) => run(file, args, rebuiltUrl.password, env), (kind, title) => step(ctx, kind, title), load, DEFAULT_LEVERS));
    await withTargetClient(rebuilt, async (c) => {
      for (const setting of settings) {
        const sql = alterDatabaseSetSql(newName, setting);
        if (sql) await c.query(sql);
      }
    });

    finish = step(ctx, 'verify', `ANALYZE ${newName}, then compare every table with DR's snapshot (row count and content hash)`);
    await withTargetClient({ ...rebuilt, database: newName }, (c) => c.query('ANALYZE'));
    const check = hashCheck(source, await tableHashes(rebuilt, newName));
    const restored = await readDatabaseFacts(rebuilt, newName);
    const targetText = `failback dump of ${database} from the DR primary ${params.dr.label}`;
    const record = await copies.record({ production: config.productionName ?? 'production', database, restoredName: newName, restoredOid: restored!.oid, targetText, verified: check.ok, failedChecks: check.ok ? [] : ['table hashes'] });
    if (!check.ok) throw new RecoverError('COMMAND_FAILED', `${newName} differs from DR's ${database}: ${check.message}. Nothing was swapped.`, { hint: `${database} on the rebuilt primary is unchanged; ${newName} is kept for inspection (drop it when done).` });
    await withTargetClient(rebuilt, (c) => c.query(commentOnDatabaseSql(newName, copyMarker(database, targetText))));
    seconds.verify = finish(check.message);

    const swapped =
      params.databaseOid === null
        ? { ...(await placeDatabase(ctx, config, { database, restoredName: newName, restoredOid: restored!.oid, copyId: record.copyId, copies, beforeDestructiveStep })), beforeName: null }
        : await swapDatabases(ctx, config, { database, restoredName: newName, beforeName: params.beforeName, databaseOid: params.databaseOid, restoredOid: restored!.oid, copyId: record.copyId, copies, beforeDestructiveStep });
    const rows = Object.values(source).reduce((sum, t) => sum + t.rows, 0);
    return { method: 'dump', database, newName, tables: Object.keys(source).length, rows, verify: check.message, swapped, seconds };
  } catch (error) {
    // A half-loaded copy holds nothing anyone needs; a loaded one (verify step reached) is kept.
    if (created && seconds['restore-data'] === undefined) {
      await withTargetClient(rebuilt, (c) => c.query(dropDatabaseSql(newName))).catch((dropError: unknown) => ctx.log.error({ err: dropError }, `could not drop the unfinished ${newName}`));
    }
    throw error;
  } finally {
    await removeTree(ctx.exec, work).catch((error: unknown) => ctx.log.error({ err: error }, `could not remove ${work}`));
  }
}
