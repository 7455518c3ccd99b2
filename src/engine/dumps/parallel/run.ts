/**
 * Runs a load plan (plan.ts) on `jobs` sessions of the new database: first every split table,
 * its rows dealt out between all sessions; then the other tables (each whole, frozen, by one
 * session) and the indexes, keys and foreign keys, on the lanes (lanes.ts), a table's indexes
 * as soon as its rows are in while other tables still load. The job's signal cancels whatever
 * runs on the server (pg_cancel_backend) and is thrown.
 */
import { join } from 'node:path';
import type pg from 'pg';
import { RecoverError } from '../../../errors.js';
import type { Logger } from '../../../types.js';
import { targetClient, type TargetConnection } from '../../pg-client.js';
import { copyRows } from './copy-rows.js';
import { runOnLanes, type LaneJob } from './lanes.js';
import { frozenCopySql, laneSetupSql, parallelWorkersSql, plainCopySql, relkindSql, tablespaceSql, type LaneSettings } from './load-sql.js';
import type { CopyJob, LoadPlan, StatementJob } from './plan.js';

export interface ParallelLoadRequest {
  /** The new database, as the loader's sessions connect to it. */
  connection: TargetConnection;
  dumpDir: string;
  jobs: number;
  settings: LaneSettings | null;
  /** Told as the load goes on (data files' bytes read; statements done); at most once per percent of the bytes. */
  onProgress?: (progress: LoadProgress) => void;
}

export interface LoadProgress {
  bytes: number;
  totalBytes: number;
  statements: number;
  totalStatements: number;
}

export interface ParallelLoaded {
  rows: number;
  tables: number;
  splitTables: string[];
  frozenTables: number;
  statements: number;
}

type Job = LaneJob & ({ kind: 'copy'; copy: CopyJob } | { kind: 'statement'; statement: StatementJob });

/** The plan's jobs for the lanes (pure): whole-table copies lock their table exclusively (TRUNCATE). */
export function laneJobs(plan: LoadPlan, archiveOrder: ReadonlyMap<number, number>): Job[] {
  const order = (id: number) => archiveOrder.get(id) ?? Number.MAX_SAFE_INTEGER;
  // Split tables are loaded before the lanes start: nothing waits for them there.
  const loadedFirst = new Set(plan.copies.filter((copy) => copy.split).map((copy) => copy.dumpId));
  return [
    ...plan.copies.filter((copy) => !copy.split).map((copy): Job => ({ kind: 'copy', copy, id: copy.dumpId, tables: [copy.table], exclusive: true, waitFor: [], weight: copy.bytes, cost: 0, order: order(copy.dumpId) })),
    ...plan.statements.map((statement): Job => ({ kind: 'statement', statement, id: statement.dumpId, tables: statement.tables, exclusive: statement.exclusive, waitFor: statement.waitFor.filter((id) => !loadedFirst.has(id)), weight: statement.weight, cost: statement.cost, order: order(Math.abs(statement.dumpId)) })),
  ];
}

async function openLanes(request: ParallelLoadRequest, setup: string, log?: Logger): Promise<{ clients: pg.Client[]; pids: number[] }> {
  const clients: pg.Client[] = [];
  const pids: number[] = [];
  try {
    for (let lane = 0; lane < Math.max(1, request.jobs); lane += 1) {
      const client = targetClient(request.connection, log);
      clients.push(client);
      await client.connect();
      await client.query(setup);
      pids.push(Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid));
    }
    return { clients, pids };
  } catch (error) {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    throw error;
  }
}

/** A table's rows that did not load, named (the job's own cancellation passes through as it is). */
const rowsFailed = (copy: CopyJob) => (error: unknown): never => {
  if (error instanceof Error && error.name === 'AbortError') throw error;
  throw new RecoverError('COMMAND_FAILED', `Loading the rows of ${copy.schema}.${copy.name} from ${copy.file} failed: ${(error as Error).message}`, { hint: 'Nothing of this table was kept; the unfinished database is dropped. Check the dump file and the server log.', cause: error });
};

/** What kind of relation a table is in the new database ('r' ordinary …; undefined: none), read once per table for the load. */
type RelkindOf = (client: pg.Client, table: { schema: string; name: string }) => Promise<string | undefined>;

function relkindReader(): RelkindOf {
  const known = new Map<string, Promise<string | undefined>>();
  return (client, table) => {
    const key = JSON.stringify([table.schema, table.name]);
    if (!known.has(key)) known.set(key, client.query(relkindSql, [table.schema, table.name]).then((result) => (result.rows[0] as { relkind: string } | undefined)?.relkind));
    return known.get(key)!;
  };
}

/**
 * The statement a job runs: a split key's halves only on an ordinary table (a partitioned one
 * would get a unique index on every partition from CREATE UNIQUE INDEX); otherwise the index half
 * does nothing (null) and the constraint half runs pg_dump's own statement.
 */
async function keyStatement(client: pg.Client, statement: StatementJob, unsplit: Set<number>, relkindOf: RelkindOf): Promise<string | null> {
  const key = statement.keyPart;
  if (!key) return statement.defn;
  if (key.part === 'constraint') return unsplit.has(key.constraint) ? key.original : statement.defn;
  if ((await relkindOf(client, statement.table!)) === 'r') return statement.defn;
  unsplit.add(key.constraint);
  return null;
}

async function loadWhole(client: pg.Client, copy: CopyJob, path: string, signal: AbortSignal, onBytes: (bytes: number) => void, relkindOf: RelkindOf): Promise<{ rows: number; frozen: boolean }> {
  // Only an ordinary table can be emptied and written frozen (TRUNCATE of a foreign table would empty
  // the remote one), and only when the COPY writes into it, not into its partitioned root.
  if ((await relkindOf(client, copy)) !== 'r' || !copy.ownTable) return { rows: await copyRows([client], plainCopySql(copy.copyStmt), path, copy.gzip, signal, onBytes).catch(rowsFailed(copy)), frozen: false };
  const sql = frozenCopySql(copy.schema, copy.name, copy.copyStmt);
  await client.query('BEGIN');
  try {
    await client.query(sql.truncate);
    const rows = await copyRows([client], sql.copy, path, copy.gzip, signal, onBytes).catch(rowsFailed(copy));
    await client.query('COMMIT');
    return { rows, frozen: true };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export async function runParallelLoad(plan: LoadPlan, archiveOrder: ReadonlyMap<number, number>, request: ParallelLoadRequest, signal: AbortSignal, log?: Logger): Promise<ParallelLoaded> {
  signal.throwIfAborted();
  const { clients, pids } = await openLanes(request, laneSetupSql(plan.setup, request.settings), log);
  const cancel = () => {
    const canceller = targetClient(request.connection, log);
    void canceller
      .connect()
      .then(() => canceller.query('SELECT pg_catalog.pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [pids]))
      .catch((error: unknown) => log?.warn({ err: error }, 'could not cancel the loader sessions; closing them'))
      .finally(() => canceller.end().catch(() => undefined));
  };
  signal.addEventListener('abort', cancel, { once: true });
  const result: ParallelLoaded = { rows: 0, tables: 0, splitTables: [], frozenTables: 0, statements: 0 };
  const progress: LoadProgress = { bytes: 0, totalBytes: plan.copies.reduce((sum, copy) => sum + copy.bytes, 0), statements: 0, totalStatements: plan.statements.length };
  // Told when a whole percent of the bytes or of the statements is passed, not at every piece read.
  const percent = (done: number, total: number) => (total > 0 ? Math.floor((100 * done) / total) : 100);
  let told = '';
  const tell = () => {
    const now = `${percent(progress.bytes, progress.totalBytes)}:${percent(progress.statements, progress.totalStatements)}`;
    if (now === told) return;
    told = now;
    request.onProgress?.({ ...progress });
  };
  const onBytes = (bytes: number) => {
    progress.bytes += bytes;
    tell();
  };
  const unsplitKeys = new Set<number>();
  const relkindOf = relkindReader();
  try {
    for (const copy of plan.copies.filter((entry) => entry.split).sort((a, b) => b.bytes - a.bytes)) {
      result.rows += await copyRows(clients, plainCopySql(copy.copyStmt), join(request.dumpDir, copy.file), copy.gzip, signal, onBytes).catch(rowsFailed(copy));
      result.tables += 1;
      result.splitTables.push(`${copy.schema}.${copy.name}`);
    }
    // A statement's parallel maintenance workers: the configured number only when other lanes sit
    // idle as it starts (their cores are free); beside busy lanes, workers only add a merge.
    const workers = clients.map(() => request.settings?.parallelWorkers ?? 0);
    await runOnLanes(laneJobs(plan, archiveOrder), clients.length, async (job, lane, idleLanes) => {
      signal.throwIfAborted();
      const client = clients[lane]!;
      if (job.kind === 'copy') {
        const loaded = await loadWhole(client, job.copy, join(request.dumpDir, job.copy.file), signal, onBytes, relkindOf);
        result.rows += loaded.rows;
        result.tables += 1;
        if (loaded.frozen) result.frozenTables += 1;
        return;
      }
      const tablespace = tablespaceSql(job.statement.tablespace);
      try {
        const defn = await keyStatement(client, job.statement, unsplitKeys, relkindOf);
        if (defn === null) {
          // The index half of a key kept whole (not an ordinary table): nothing to run, done all the same.
          progress.statements += 1;
          tell();
          return;
        }
        const wanted = Math.min(request.settings?.parallelWorkers ?? 0, idleLanes);
        if (request.settings && wanted !== workers[lane]) {
          await client.query(parallelWorkersSql(wanted));
          workers[lane] = wanted;
        }
        if (tablespace) await client.query(tablespace);
        await client.query(defn);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw new RecoverError('COMMAND_FAILED', `Restoring the dump's ${job.statement.desc} ${job.statement.tag} failed: ${(error as Error).message}`, { hint: `The statement was: ${job.statement.defn.trim().slice(0, 300)}`, cause: error });
      }
      result.statements += 1;
      progress.statements += 1;
      tell();
    });
    signal.throwIfAborted();
    return result;
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  } finally {
    signal.removeEventListener('abort', cancel);
    await Promise.all(clients.map((client) => client.end().catch((error: unknown) => log?.warn({ err: error }, 'closing a loader session'))));
  }
}
