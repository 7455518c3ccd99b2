/**
 * Argument lists and settings of logical dumps and their restores (pure, tested as tables).
 * Dumps are directory format (`-Fd`): the only one pg_dump writes with several jobs, and one
 * pg_restore reads with several jobs by section.
 */
import { join } from 'node:path';
import { connectionArgs, type ConnectionParams } from '../pg-args.js';

/**
 * One database in directory format with `jobs` workers, inside an exported snapshot (the
 * transaction that exported it stays open meanwhile, so the LSN and the row counts read in it
 * describe exactly what the dump holds). Large objects included; no password prompt.
 */
export function pgDumpArgs(bin: string, conn: ConnectionParams & { dbname: string }, outDir: string, jobs: number, snapshot: string): [string, string[]] {
  return [join(bin, 'pg_dump'), [...connectionArgs(conn), '--format', 'directory', '--jobs', String(jobs), '--snapshot', snapshot, '--file', outDir, '--no-password']];
}

/** Roles and tablespaces (no databases, no passwords' absence hidden: role passwords are included as pg_dumpall writes them). */
export function pgDumpallGlobalsArgs(bin: string, conn: ConnectionParams, outFile: string): [string, string[]] {
  return [join(bin, 'pg_dumpall'), [...connectionArgs({ ...conn, dbname: undefined }), '--globals-only', '--file', outFile, '--no-password']];
}

export type RestoreSection = 'pre-data' | 'data' | 'post-data';

/**
 * Sections of a directory dump into an existing database. pre-data alone runs in one job (it is
 * DDL in dependency order, fast); anything with data or post-data with `jobs`. The first error
 * stops it. `noOwner`: objects belong to the restoring role and no grants are restored
 * (--no-owner --no-acl), only when asked, since a copy without the application's grants cannot replace it.
 */
export function pgRestoreSectionArgs(bin: string, conn: ConnectionParams & { dbname: string }, dumpDir: string, sections: RestoreSection | readonly RestoreSection[], jobs: number, noOwner: boolean): [string, string[]] {
  const list = typeof sections === 'string' ? [sections] : sections;
  return [
    join(bin, 'pg_restore'),
    [
      ...connectionArgs(conn),
      ...list.flatMap((section) => ['--section', section]),
      ...(list.every((section) => section === 'pre-data') ? [] : ['--jobs', String(jobs)]),
      ...(noOwner ? ['--no-owner', '--no-acl'] : []),
      '--exit-on-error', '--no-password',
      dumpDir,
    ],
  ];
}

/**
 * The entries the parallel loader leaves to pg_restore (sequence values, large objects,
 * triggers, grants …), named in `listFile` by dump id, with `jobs` workers, after the loader.
 */
export function pgRestoreUseListArgs(bin: string, conn: ConnectionParams & { dbname: string }, dumpDir: string, listFile: string, jobs: number, noOwner: boolean): [string, string[]] {
  return [
    join(bin, 'pg_restore'),
    [...connectionArgs(conn), '--use-list', listFile, '--jobs', String(jobs), ...(noOwner ? ['--no-owner', '--no-acl'] : []), '--exit-on-error', '--no-password', dumpDir],
  ];
}

/** The dump's table of contents (`pg_restore -l`): what it holds, read without a server. */
export function pgRestoreListArgs(bin: string, dumpDir: string): [string, string[]] {
  return [join(bin, 'pg_restore'), ['--list', dumpDir]];
}

/**
 * PGOPTIONS for a restore's sessions (only them; production's settings are not changed): index
 * builds and constraint checks sort in memory up to maintenance_work_mem each (jobs of them at
 * once) with parallel workers; commits do not wait for their WAL flush (synchronous_commit=off:
 * a crash can lose only the last commits of this unfinished new database, never corrupt it).
 */
export function restoreSessionPgOptions(maintenanceWorkMemMb: number, parallelWorkers: number): string {
  return `-c maintenance_work_mem=${maintenanceWorkMemMb}MB -c max_parallel_maintenance_workers=${parallelWorkers} -c synchronous_commit=off`;
}

/** TABLE DATA entries of a `pg_restore -l` listing: every table whose rows the dump holds, named as verify.ts's listTables names them (`table` in public, else `schema.table`). */
export function tableDataEntries(listing: string): string[] {
  const tables: string[] = [];
  for (const line of listing.split('\n')) {
    // "3345; 0 16390 TABLE DATA public items postgres"
    const match = /^\d+;\s+\d+\s+\d+\s+TABLE DATA\s+(\S+)\s+(\S+)\s/.exec(line);
    if (match) tables.push(match[1] === 'public' ? match[2]! : `${match[1]}.${match[2]}`);
  }
  return tables;
}
