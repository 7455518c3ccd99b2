/**
 * Loading a directory-format dump into an existing, empty database: the part of /recover dump
 * (and of a dumpall's databases) that bench/dump.ts measures against plain pg_restore.
 *
 * Levers (each measured on its own, bench/dump.ts; the defaults are the ones that won):
 * - `pipelined`: schema first (one job), then ONE pg_restore -j N over data and post-data, so
 *   pg_restore's scheduler builds a table's indexes as soon as its rows are in, while other
 *   tables are still being copied, largest tables first; instead of three barriers (pre-data,
 *   all data, all post-data) where the second core idles while the biggest table loads alone.
 * - `sessionSettings`: PGOPTIONS for every restore session (only them; production's settings
 *   are not changed): maintenance_work_mem (index sorts in memory), max_parallel_maintenance_workers,
 *   synchronous_commit=off (each of pg_restore's many small commits does not wait for its WAL
 *   flush; a crash loses only this unfinished, unrecorded database). Durability is untouched:
 *   fsync and wal_level stay as they are.
 * - `parallelWorkers` off (max_parallel_maintenance_workers=0) and `schemaRun` off (one run over
 *   all sections) were measured at 1.7 GB restored (README, bench:dump) and did not beat the
 *   defaults beyond the shared machine's noise; kept as levers for the bench.
 */
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nowIso, type EngineContext } from '../context.js';
import type { ConnectionParams } from '../pg-args.js';
import type { TargetConnection } from '../pg-client.js';
import { pgRestoreSectionArgs, pgRestoreUseListArgs, restoreSessionPgOptions, type RestoreSection } from './args.js';
import { loadPlan, unsupportedArchive, type LoadPlan } from './parallel/plan.js';
import { runParallelLoad, type LoadProgress } from './parallel/run.js';
import { readToc } from './parallel/toc.js';

export interface LoadLevers {
  pipelined: boolean;
  sessionSettings: boolean;
  /** wal_compression=lz4 for the sessions too: index builds WAL-log every page they write as a full image. */
  walCompression: boolean;
  /** max_parallel_maintenance_workers for the sessions: min(jobs, 4) when on, 0 when off (pg_restore's jobs already fill the cores). */
  parallelWorkers: boolean;
  /** pre-data in its own one-job run first; off: one pg_restore -j N over all three sections (its leader runs pre-data alone anyway). */
  schemaRun: boolean;
  /**
   * The parallel loader (parallel/) instead of pg_restore for rows, indexes and keys: when the
   * request gives a connection and the archive is one it reads (directory format, pg_dump 11–15,
   * UTF8); anything else is pg_restore's as before.
   */
  parallelLoader: boolean;
  /** With the loader: a table holding more than one session's share of the rows is loaded by every session at once (not frozen then). */
  split: boolean;
  /** With the loader: a plain primary or unique key's index is built beside the table's other indexes, then made the constraint (plan.ts splitKey). */
  splitKeys: boolean;
}

export const DEFAULT_LEVERS: LoadLevers = { pipelined: true, sessionSettings: true, walCompression: false, parallelWorkers: true, schemaRun: true, parallelLoader: true, split: false, splitKeys: true };

export interface LoadRequest {
  bin: string;
  conn: ConnectionParams & { dbname: string };
  dumpDir: string;
  jobs: number;
  noOwner: boolean;
  maintenanceWorkMemMb: number;
  /** The new database for the loader's own sessions (node-postgres); without it pg_restore does everything. */
  client?: TargetConnection;
  /** The loader's progress (pg_restore alone reports none). */
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
}

/** Runs one tool (as the PostgreSQL OS user, with the job's signal and timeout) with extra environment. */
export type ToolRunner = (file: string, args: string[], env?: Record<string, string>) => Promise<unknown>;
/** Starts a step; the returned function ends it and gives its seconds. */
export type PhaseStarter = (kind: 'restore-schema' | 'restore-data' | 'restore-indexes', title: string) => (detail?: string) => number;

/** max_parallel_maintenance_workers for the restore's sessions (pure): min(jobs, 4), or 0 with the lever off. */
const parallelWorkersFor = (jobs: number, levers: Pick<LoadLevers, 'parallelWorkers'>) => (levers.parallelWorkers ? Math.max(1, Math.min(jobs, 4)) : 0);

/** The restore's pg_restore runs in order (pure): which sections, with which session options. */
export function loadRuns(request: Pick<LoadRequest, 'jobs' | 'maintenanceWorkMemMb'> & { dbname: string }, levers: LoadLevers): { kind: 'restore-schema' | 'restore-data' | 'restore-indexes'; title: string; sections: RestoreSection[]; pgOptions: string | null }[] {
  const { jobs } = request;
  const settings = levers.sessionSettings ? restoreSessionPgOptions(request.maintenanceWorkMemMb, parallelWorkersFor(jobs, levers)) : null;
  const options = levers.walCompression ? `${settings ?? ''} -c wal_compression=lz4`.trim() : settings;
  const schema = { kind: 'restore-schema' as const, title: `Restore the schema into ${request.dbname} (pre-data: tables, types, functions; no indexes yet)`, sections: ['pre-data' as const], pgOptions: options };
  if (levers.parallelLoader) {
    return [
      schema,
      { kind: 'restore-data', title: `Load the rows (${levers.split ? `a table holding more than one session's share by all ${jobs} sessions at once, the others each by one session, written frozen` : 'each table by one session, written frozen'}) and build the indexes, keys and foreign keys, each table's as soon as its rows are in (${jobs} sessions, largest tables first${options ? `, maintenance_work_mem ${request.maintenanceWorkMemMb} MB per session` : ''}); then sequence values, large objects, triggers and grants (pg_restore -L). A dump the loader cannot read is pg_restore's alone (-j ${jobs}).`, sections: ['data', 'post-data'], pgOptions: options },
    ];
  }
  if (levers.pipelined && !levers.schemaRun) {
    return [{ kind: 'restore-data', title: `Restore the schema, then load the rows and build each table's indexes and constraints as soon as its rows are in (pg_restore -j ${jobs}, largest tables first${options ? `, maintenance_work_mem ${request.maintenanceWorkMemMb} MB per session` : ''})`, sections: ['pre-data', 'data', 'post-data'], pgOptions: options }];
  }
  if (levers.pipelined) {
    return [
      schema,
      { kind: 'restore-data', title: `Load the rows and build each table's indexes and constraints as soon as its rows are in (data and post-data, pg_restore -j ${jobs}, largest tables first${options ? `, maintenance_work_mem ${request.maintenanceWorkMemMb} MB per session` : ''})`, sections: ['data', 'post-data'], pgOptions: options },
    ];
  }
  return [
    schema,
    { kind: 'restore-data', title: `Load the rows (data, pg_restore -j ${jobs})`, sections: ['data'], pgOptions: options },
    { kind: 'restore-indexes', title: `Build indexes and add constraints and foreign keys (post-data, -j ${jobs}${options ? `, maintenance_work_mem ${request.maintenanceWorkMemMb} MB` : ''})`, sections: ['post-data'], pgOptions: options },
  ];
}

/** The loader's progress as the job's `restore-data` step progress: bytes of the dump's data files read, statements in the detail. */
export function loadProgressEvents(ctx: Pick<EngineContext, 'events' | 'clock'>): (progress: LoadProgress) => void {
  return (progress) =>
    ctx.events.emit({ type: 'step.progress', at: nowIso(ctx.clock), step: 'restore-data', done: progress.bytes, total: progress.totalBytes, unit: 'bytes', detail: `${progress.statements} of ${progress.totalStatements} indexes, keys and foreign keys built` });
}

/** The loader's plan for this dump directory, or why it cannot take it (then pg_restore does everything). */
export async function parallelLoadPlan(dumpDir: string, jobs: number, levers: Pick<LoadLevers, 'split' | 'splitKeys'>): Promise<{ plan: LoadPlan; order: Map<number, number> } | { unsupported: string }> {
  const buffer = await readFile(join(dumpDir, 'toc.dat')).catch(() => null);
  if (!buffer) return { unsupported: 'no toc.dat (not a directory-format dump)' };
  const read = readToc(buffer);
  if (!read.ok) return { unsupported: read.unsupported };
  const why = unsupportedArchive(read.toc);
  if (why) return { unsupported: why };
  const files = new Map<string, number>();
  for (const name of await readdir(dumpDir)) if (/^\d+\.dat(\.gz)?$/.test(name)) files.set(name, (await stat(join(dumpDir, name))).size);
  return { plan: loadPlan(read.toc, files, { lanes: jobs, split: levers.split, splitKeys: levers.splitKeys }), order: new Map(read.toc.entries.map((entry, index) => [entry.dumpId, index])) };
}

async function loadInParallel(run: ToolRunner, phase: PhaseStarter, request: LoadRequest & { client: TargetConnection }, levers: LoadLevers, loader: { plan: LoadPlan; order: Map<number, number> }): Promise<Record<string, number>> {
  const seconds: Record<string, number> = {};
  const [schema] = loadRuns({ ...request, dbname: request.conn.dbname }, levers);
  let finish = phase('restore-schema', schema!.title);
  await run(...pgRestoreSectionArgs(request.bin, request.conn, request.dumpDir, 'pre-data', request.jobs, request.noOwner), schema!.pgOptions ? { PGOPTIONS: schema!.pgOptions } : {});
  seconds['restore-schema'] = finish();
  const { plan } = loader;
  const settings = levers.sessionSettings ? { maintenanceWorkMemMb: request.maintenanceWorkMemMb, parallelWorkers: parallelWorkersFor(request.jobs, levers) } : null;
  const split = plan.copies.filter((copy) => copy.split).map((copy) => `${copy.schema}.${copy.name}`);
  finish = phase('restore-data', `Load the rows (${plan.copies.length} tables${split.length > 0 ? `; ${split.join(', ')} by all ${request.jobs} sessions at once` : ''}; the others each in one session, written frozen) and build ${plan.statements.length} indexes, keys and foreign keys, each table's as soon as its rows are in (${request.jobs} sessions, largest tables first${settings ? `, maintenance_work_mem ${request.maintenanceWorkMemMb} MB per session` : ''}); then the rest (sequence values, large objects, triggers, grants …) with pg_restore -L`);
  const loaded = await runParallelLoad(plan, loader.order, { connection: request.client, dumpDir: request.dumpDir, jobs: request.jobs, settings, ...(request.onProgress ? { onProgress: request.onProgress } : {}) }, request.signal ?? new AbortController().signal);
  if (plan.rest.length > 0) {
    const listDir = await mkdtemp(join(tmpdir(), 'rb-restore-list-'));
    try {
      // pg_restore runs as the PostgreSQL OS user: the list must be readable by it.
      await chmod(listDir, 0o755);
      const listFile = join(listDir, 'rest.list');
      await writeFile(listFile, plan.rest.map((id) => `${id}\n`).join(''), { mode: 0o644 });
      await run(...pgRestoreUseListArgs(request.bin, request.conn, request.dumpDir, listFile, request.jobs, request.noOwner), schema!.pgOptions ? { PGOPTIONS: schema!.pgOptions } : {});
    } finally {
      await rm(listDir, { recursive: true, force: true });
    }
  }
  seconds['restore-data'] = finish(`${loaded.tables} tables, ${loaded.rows} rows (${loaded.frozenTables} written frozen${loaded.splitTables.length > 0 ? `, ${loaded.splitTables.join(', ')} split between ${request.jobs} sessions` : ''}); ${loaded.statements} indexes and constraints; ${plan.rest.length} other entries (sequence values, large objects, triggers, grants …) by pg_restore -L`);
  return seconds;
}

export async function loadDump(run: ToolRunner, phase: PhaseStarter, request: LoadRequest, levers: LoadLevers = DEFAULT_LEVERS): Promise<Record<string, number>> {
  if (levers.parallelLoader && request.client) {
    const loader = await parallelLoadPlan(request.dumpDir, request.jobs, levers);
    if ('plan' in loader) return loadInParallel(run, phase, { ...request, client: request.client }, levers, loader);
  }
  levers = { ...levers, parallelLoader: false };
  const seconds: Record<string, number> = {};
  for (const entry of loadRuns({ ...request, dbname: request.conn.dbname }, levers)) {
    const finish = phase(entry.kind, entry.title);
    await run(...pgRestoreSectionArgs(request.bin, request.conn, request.dumpDir, entry.sections, request.jobs, request.noOwner), entry.pgOptions ? { PGOPTIONS: entry.pgOptions } : {});
    seconds[entry.kind] = finish();
  }
  return seconds;
}
