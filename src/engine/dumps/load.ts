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
import type { ConnectionParams } from '../pg-args.js';
import { pgRestoreSectionArgs, restoreSessionPgOptions, type RestoreSection } from './args.js';

export interface LoadLevers {
  pipelined: boolean;
  sessionSettings: boolean;
  /** wal_compression=lz4 for the sessions too: index builds WAL-log every page they write as a full image. */
  walCompression: boolean;
  /** max_parallel_maintenance_workers for the sessions: min(jobs, 4) when on, 0 when off (pg_restore's jobs already fill the cores). */
  parallelWorkers: boolean;
  /** pre-data in its own one-job run first; off: one pg_restore -j N over all three sections (its leader runs pre-data alone anyway). */
  schemaRun: boolean;
}

export const DEFAULT_LEVERS: LoadLevers = { pipelined: true, sessionSettings: true, walCompression: false, parallelWorkers: true, schemaRun: true };

export interface LoadRequest {
  bin: string;
  conn: ConnectionParams & { dbname: string };
  dumpDir: string;
  jobs: number;
  noOwner: boolean;
  maintenanceWorkMemMb: number;
}

/** Runs one tool (as the PostgreSQL OS user, with the job's signal and timeout) with extra environment. */
export type ToolRunner = (file: string, args: string[], env?: Record<string, string>) => Promise<unknown>;
/** Starts a step; the returned function ends it and gives its seconds. */
export type PhaseStarter = (kind: 'restore-schema' | 'restore-data' | 'restore-indexes', title: string) => (detail?: string) => number;

/** The restore's pg_restore runs in order (pure): which sections, with which session options. */
export function loadRuns(request: Pick<LoadRequest, 'jobs' | 'maintenanceWorkMemMb'> & { dbname: string }, levers: LoadLevers): { kind: 'restore-schema' | 'restore-data' | 'restore-indexes'; title: string; sections: RestoreSection[]; pgOptions: string | null }[] {
  const { jobs } = request;
  const parallel = levers.parallelWorkers ? Math.max(1, Math.min(jobs, 4)) : 0;
  const settings = levers.sessionSettings ? restoreSessionPgOptions(request.maintenanceWorkMemMb, parallel) : null;
  const options = levers.walCompression ? `${settings ?? ''} -c wal_compression=lz4`.trim() : settings;
  const schema = { kind: 'restore-schema' as const, title: `Restore the schema into ${request.dbname} (pre-data: tables, types, functions; no indexes yet)`, sections: ['pre-data' as const], pgOptions: options };
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

export async function loadDump(run: ToolRunner, phase: PhaseStarter, request: LoadRequest, levers: LoadLevers = DEFAULT_LEVERS): Promise<Record<string, number>> {
  const seconds: Record<string, number> = {};
  for (const entry of loadRuns({ ...request, dbname: request.conn.dbname }, levers)) {
    const finish = phase(entry.kind, entry.title);
    await run(...pgRestoreSectionArgs(request.bin, request.conn, request.dumpDir, entry.sections, request.jobs, request.noOwner), entry.pgOptions ? { PGOPTIONS: entry.pgOptions } : {});
    seconds[entry.kind] = finish();
  }
  return seconds;
}
