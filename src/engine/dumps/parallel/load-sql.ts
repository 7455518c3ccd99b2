/**
 * The SQL the parallel loader sends (pure builders, tested as a table). It runs only inside the
 * new database the job created, never an existing one: the dump's own statements (from its table
 * of contents, exactly as pg_restore would send them) and the loader's wrapping of a table's rows.
 */
import { quoteIdent } from '../../sql.js';

export interface LaneSettings {
  maintenanceWorkMemMb: number;
  parallelWorkers: number;
}

/**
 * One lane's session: pg_restore's fixed settings (no timeouts, the archive's encoding,
 * standard_conforming_strings and empty search_path, no function-body checks, row security off
 * so every row is copied), then the restore's own session settings when asked (index sorts in
 * memory, parallel maintenance workers, commits not waiting for their WAL flush: a crash can
 * lose only the last commits of this unfinished new database).
 */
export function laneSetupSql(archiveSetup: readonly string[], settings: LaneSettings | null): string {
  return [
    'SET statement_timeout = 0;',
    'SET lock_timeout = 0;',
    'SET idle_in_transaction_session_timeout = 0;',
    ...archiveSetup.map((statement) => (statement.endsWith(';') ? statement : `${statement};`)),
    'SET check_function_bodies = false;',
    'SET xmloption = content;',
    'SET client_min_messages = warning;',
    'SET row_security = off;',
    ...(settings ? [`SET maintenance_work_mem = '${Math.max(1, Math.floor(settings.maintenanceWorkMemMb))}MB';`, `SET max_parallel_maintenance_workers = ${Math.max(0, Math.floor(settings.parallelWorkers))};`, 'SET synchronous_commit = off;'] : []),
  ].join('\n');
}

/** One session's parallel maintenance workers for its next index build. */
export function parallelWorkersSql(workers: number): string {
  return `SET max_parallel_maintenance_workers = ${Math.max(0, Math.floor(workers))}`;
}

/** What kind of relation a table of the dump is in the new database ('r' ordinary, 'p' partitioned, 'f' foreign …). */
export const relkindSql = 'SELECT c.relkind, c.relpersistence FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2';

/**
 * A whole ordinary table's rows: emptied in the loading transaction (it is empty: the pre-data
 * pass just created it) so COPY may write them frozen, as VACUUM FREEZE would leave them: the
 * index builds and every later read then find committed, visible rows without setting hint bits
 * (no second write of the table), and the restored rows never need an anti-wraparound vacuum.
 */
export function frozenCopySql(schema: string, name: string, copyStmt: string): { truncate: string; copy: string } {
  return { truncate: `TRUNCATE ONLY ${quoteIdent(schema)}.${quoteIdent(name)}`, copy: `${plainCopySql(copyStmt)} WITH (FREEZE)` };
}

/** The archive's COPY … FROM stdin without its semicolon (rows of a split table, or of a table COPY cannot freeze: partitioned, foreign). */
export function plainCopySql(copyStmt: string): string {
  return copyStmt.trim().replace(/;\s*$/, '');
}

/**
 * A plain primary or unique key of pg_dump's as its two halves (plan.ts splitKey): its unique
 * index, then the constraint made from it. `table`, `name` and `columns` are pg_dump's own
 * quoted text, spliced as pg_dump wrote them.
 */
export function keyHalvesSql(table: string, name: string, kind: 'PRIMARY KEY' | 'UNIQUE', columns: string): { index: string; constraint: string } {
  return { index: `CREATE UNIQUE INDEX ${name} ON ${table} USING btree (${columns});`, constraint: `ALTER TABLE ONLY ${table} ADD CONSTRAINT ${name} ${kind} USING INDEX ${name};` };
}

/** pg_restore's _selectTablespace: where an index or constraint's index goes ('' the database's default). */
export function tablespaceSql(tablespace: string | null): string | null {
  if (tablespace === null) return null;
  return tablespace === '' ? "SET default_tablespace = ''" : `SET default_tablespace = ${quoteIdent(tablespace)}`;
}
