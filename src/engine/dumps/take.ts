/**
 * `recover dump-backup`: a logical dump of each configured database (RECOVER_DUMP_DATABASES, else
 * every database of production that takes connections and is not a template) into the dumps
 * container, and one `pg_dumpall --globals-only` of the run stored beside each.
 * Per database: a REPEATABLE READ transaction exports its snapshot and reads the time, the LSN,
 * the database's facts and every table's exact row count in it, while `pg_dump -Fd -j N
 * --snapshot` dumps that very snapshot; then every file is uploaded (`parallel` at once, each
 * hashed as it streams) and manifest.json last. The local directory is removed.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../../config.js';
import { RecoverError, toRecoverError } from '../../errors.js';
import { hashingCounter } from '../../util/streams.js';
import { parseConnectionUrl, pgClientConfig, type SourceConnection } from '../../util/connection-url.js';
import { runBounded } from '../backup-parts/bounded.js';
import type { EngineContext } from '../context.js';
import { readDatabaseFacts } from '../database/copy.js';
import { databaseSettingsSql, referencedRolesSql } from '../database/sql.js';
import { removeTree } from '../instances.js';
import { afterRemoval, removePartialUpload } from '../partial-upload.js';
import { makeOwnedDir } from '../local-cluster.js';
import { ownerFor } from '../os-user.js';
import { targetClient, withTargetClient } from '../pg-client.js';
import { listDatabasesSql, rowCountSql } from '../sql.js';
import { requireTargetDatabases } from '../targets/guard.js';
import { listTables } from '../verify.js';
import { pgDumpallGlobalsArgs, pgDumpArgs } from './args.js';
import { dumpDirectory, dumpManifestKey, dumpManifestSchema, LSN_MEANING, type DumpFile, type DumpManifest } from './manifest.js';
import { claimDumpStamp, claimKey, releaseClaims } from './stamp-claim.js';

export type DumpConfig = Pick<Config, 'pg' | 'source' | 'restoreRoot' | 'recoveryTimeoutSeconds'> & { dumpDatabases?: string[] };

/** The snapshot's facts, read in the statement that exports it (the LSN right after it was taken). */
export const exportSnapshotSql = `SELECT pg_export_snapshot() AS snapshot, pg_current_wal_lsn()::text AS lsn, now() AS time,
  current_setting('server_version') AS server_version, current_setting('server_version_num')::int AS server_version_num`;

export function sourceConnection(config: Pick<Config, 'source'>): SourceConnection {
  if (!config.source.url) throw new RecoverError('CONFIG_INVALID', 'Dumps need RECOVER_SOURCE_URL (production, the databases to dump).', { hint: 'Set it, e.g. postgres://postgres@/postgres?host=/var/run/postgresql' });
  return parseConnectionUrl(config.source.url);
}

/** Uploads `files` (local path, name in the dump) under `keyPrefix`, `parallel` at once, each hashed as it streams: name, size and sha256 of each. */
async function uploadFiles(ctx: EngineContext, files: readonly { path: string; name: string }[], keyPrefix: string, parallel: number): Promise<DumpFile[]> {
  return runBounded(files, parallel, ctx.signal, async ({ path, name }, _index, signal) => {
    const counter = hashingCounter(() => undefined, Number.MAX_SAFE_INTEGER);
    const upload = ctx.storage.dumps.put(`${keyPrefix}${name}`, counter.stream, { signal });
    const read = pipeline(createReadStream(path), counter.stream, { signal }).catch((error: unknown) => {
      counter.stream.destroy(error as Error);
      throw error;
    });
    // Both settled before this file counts as failed: an upload still in flight could land after the cleanup.
    const [reading, uploading] = await Promise.allSettled([read, upload]);
    if (reading.status === 'rejected') throw reading.reason;
    if (uploading.status === 'rejected') throw uploading.reason;
    return { name, bytes: counter.bytes(), sha256: counter.sha256() };
  });
}

/**
 * One database's upload (its files, then the manifest). When it fails midway, the blobs already
 * stored under its stamp are deleted before the error goes on (engine/partial-upload.ts); the
 * dumps of the databases before it are complete and stay.
 */
async function storeDump(ctx: EngineContext, prefix: string, upload: () => Promise<DumpManifest>): Promise<DumpManifest> {
  try {
    return await upload();
  } catch (error) {
    const failure = toRecoverError(error, 'STORAGE_ERROR');
    const removal = await removePartialUpload(ctx.storage.dumps, prefix, ctx.log);
    throw afterRemoval(failure, removal, { where: `${ctx.storage.dumps.description}/${prefix}`, cleanedBy: 'the next scheduled dump\'s cleanup (RECOVER_DUMP_SCHEDULE), a day later,' });
  }
}

export async function takeDumps(ctx: EngineContext, config: DumpConfig, options: { jobs: number; parallel: number }): Promise<DumpManifest[]> {
  const source = sourceConnection(config);
  const production = pgClientConfig(source, 'postgres');
  const conn = { host: source.host, port: source.port, user: source.user };
  const toolEnv = source.password ? { PGPASSWORD: source.password } : undefined;
  const run = (file: string, args: string[]) => ctx.exec.run(file, args, { asUser: config.pg.osUser, timeoutMs: Math.max(config.recoveryTimeoutSeconds, 600) * 1000, signal: ctx.signal, ...(toolEnv ? { env: toolEnv } : {}) });

  const existing = await withTargetClient(production, async (client) => (await client.query(listDatabasesSql)).rows.map((row) => row.datname as string)).catch((error: unknown) => {
    if (error instanceof RecoverError) throw error;
    throw new RecoverError('COMMAND_FAILED', `Production (RECOVER_SOURCE_URL, ${source.host}:${source.port}) did not answer: ${(error as Error).message}. Nothing was dumped.`, {
      hint: 'Check that production runs and that this runner can reach it with RECOVER_SOURCE_URL, then run `recover dump-backup`.',
      cause: error,
    });
  });
  const databases = config.dumpDatabases?.length ? config.dumpDatabases : existing;
  const missing = databases.filter((db) => !existing.includes(db));
  if (missing.length > 0) throw new RecoverError('DATABASE_NOT_FOUND', `RECOVER_DUMP_DATABASES names ${missing.join(', ')}, which production does not have (or which take no connections). Nothing was dumped.`, { hint: `Production's databases: ${existing.join(', ')}. Fix RECOVER_DUMP_DATABASES or leave it empty for all of them.` });
  // User databases that take connections only (engine/targets), as every command that names one.
  await requireTargetDatabases(production, databases, 'tables');

  // Claimed before anything is uploaded: no other run's upload or clean-up can touch these directories (stamp-claim.ts).
  const { stamp, claims } = await claimDumpStamp(ctx, databases);
  const pending = new Set(claims);
  const owner = await ownerFor(config.pg.osUser);
  const work = join(config.restoreRoot, `dump-${stamp}-${randomBytes(3).toString('hex')}`);
  await makeOwnedDir(config.restoreRoot, owner);
  await makeOwnedDir(work, owner);
  const manifests: DumpManifest[] = [];
  try {
    const globals = join(work, 'globals.sql');
    await run(...pgDumpallGlobalsArgs(config.pg.bin, conn, globals));
    for (const database of databases) {
      const startedAt = ctx.clock.now().toISOString();
      const facts = await readDatabaseFacts(production, database);
      if (!facts) throw new RecoverError('DATABASE_NOT_FOUND', `Database ${database} was dropped while dumps were taken.`, { hint: 'Run recover dump-backup again.' });
      const outDir = join(work, database);
      const client = targetClient({ ...production, database });
      await client.connect();
      let snapshotRow: Record<string, unknown>;
      let roles: string[];
      let settings: string[];
      let tables: { table: string; rows: number }[];
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        snapshotRow = (await client.query(exportSnapshotSql)).rows[0];
        roles = (await client.query(referencedRolesSql)).rows.map((row) => row.rolname as string);
        settings = (await client.query(databaseSettingsSql)).rows.map((row) => row.setting as string);
        // pg_dump reads the snapshot while the exact counts are taken in it (an extra scan of each table, overlapped).
        const counting = (async () => {
          const counted: { table: string; rows: number }[] = [];
          for (const table of await listTables(client)) counted.push({ table, rows: Number((await client.query(rowCountSql(table))).rows[0].rows) });
          return counted;
        })();
        const [counted] = await Promise.all([counting, run(...pgDumpArgs(config.pg.bin, { ...conn, dbname: database }, outDir, options.jobs, String(snapshotRow.snapshot)))]);
        tables = counted;
        await client.query('COMMIT');
      } finally {
        await client.end().catch(() => undefined);
      }
      const prefix = dumpDirectory(database, stamp);
      const dumped = (await readdir(outDir)).sort().map((name) => ({ path: join(outDir, name), name: `files/${name}` }));
      const manifest = await storeDump(ctx, prefix, async () => {
        const files = await uploadFiles(ctx, [...dumped, { path: globals, name: 'globals.sql' }], prefix, options.parallel);
        const manifest = dumpManifestSchema.parse({
          formatVersion: 1,
          database,
          stamp,
          serverVersion: String(snapshotRow.server_version),
          serverVersionNum: Number(snapshotRow.server_version_num),
          encoding: facts.encoding,
          collate: facts.collate,
          ctype: facts.ctype,
          provider: facts.provider,
          icuLocale: facts.icuLocale,
          owner: facts.owner,
          roles,
          settings,
          databaseBytes: facts.bytes,
          dumpBytes: files.reduce((sum, file) => sum + file.bytes, 0),
          snapshot: { time: new Date(snapshotRow.time as Date).toISOString(), lsn: String(snapshotRow.lsn), lsnMeaning: LSN_MEANING },
          tables,
          jobs: options.jobs,
          files,
          startedAt,
          finishedAt: ctx.clock.now().toISOString(),
      });
      await ctx.storage.dumps.put(dumpManifestKey(database, stamp), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), { ifNotExists: true, signal: ctx.signal });
      return manifest;
      }).finally(() => pending.delete(claimKey(database, stamp)));
      // Stored (or its directory removed whole by storeDump): the claim has done its work.
      await releaseClaims(ctx, [claimKey(database, stamp)]);
      await removeTree(ctx.exec, outDir);
      ctx.log.info({ database, stamp, bytes: manifest.dumpBytes, files: manifest.files.length }, 'dump stored');
      manifests.push(manifest);
    }
    return manifests;
  } finally {
    // Databases never reached (an earlier one failed): their empty directories are given back.
    await releaseClaims(ctx, [...pending]);
    await removeTree(ctx.exec, work).catch((error: unknown) => ctx.log.error({ err: error }, `could not remove ${work}`));
  }
}

