/**
 * Verification after a restore and for `/recover verify`: the server accepts connections,
 * every database answers, row counts and newest timestamps per table, the checksum failures
 * PostgreSQL counted, and the runbook's integrity checks configured by RECOVER_VERIFY_CONFIG
 * (integrity/: critical tables, NOT VALID foreign keys, orphans, rules, sequences, amcheck).
 * Also (for tests and comparisons) a content hash per table.
 */
import type pg from 'pg';
import { withTargetClient, type TargetConnection } from './pg-client.js';
import { listDatabasesSql, listUserTablesSql, tableHashSql } from './sql.js';
import { checksFor, type IntegrityConfig, type VerifyTable } from '../config.js';
import { checksumCheck, checkTimeoutMs, databaseIntegrityChecks, loadIntegrityConfig, timeoutSql, type AmcheckMode, type IntegrityCheck } from './integrity/index.js';
import { productionCounts, sideComparisonCheck } from './integrity/compare.js';
import { countSettings, countSummary } from './integrity/count-plan.js';
import { countTables, readCatalog, type CountedTable } from './integrity/counts.js';

export type VerifyCheck = IntegrityCheck;

export interface VerifyOptions {
  databases?: string[];
  tables?: VerifyTable[];
  subject?: string;
  /** The checker's configuration, or the file to read it from (RECOVER_VERIFY_CONFIG). */
  integrity?: IntegrityConfig;
  configFile?: string;
  /**
   * 'create': CREATE EXTENSION amcheck when missing (side instances); 'existing' (default): use
   * it only if installed, else the check is skipped — unless the config sets createAmcheckOnProduction.
   */
  amcheck?: AmcheckMode;
  /**
   * A side instance of production: compare each database's row counts with production's
   * (the configured and critical tables, else every table), informational.
   */
  compareWith?: { connection: TargetConnection; name: string };
  /**
   * 'planned' (default): exact counts for the critical and configured tables and those below the
   * config's exactCountBelowMb, estimates elsewhere; 'exact': every table counted (a copy compared
   * count for count with its source).
   */
  counts?: 'planned' | 'exact';
  /** The budget's clock (tests). */
  now?: () => number;
}

/** A table's row count: exact unless `count` says 'estimate' (pg_class.reltuples) or 'skipped' (the time budget ran out; the estimate is shown). */
export type TableFacts = CountedTable;

export interface IntegrityReport {
  ok: boolean;
  /** What was checked when it is not a just-restored instance (`/recover verify`): e.g. "production aiagent_prod". */
  subject?: string;
  checks: VerifyCheck[];
  databases: { name: string; tables: TableFacts[] }[];
}

async function withDb<T>(connection: pg.ClientConfig, database: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  return withTargetClient({ ...connection, database }, use);
}

export async function listTables(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query(listUserTablesSql);
  return rows.map((row) => (row.schema === 'public' ? row.table : `${row.schema}.${row.table}`));
}

export async function verifyRestored(connection: pg.ClientConfig, options: VerifyOptions = {}): Promise<IntegrityReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const checks: VerifyCheck[] = [];
  const report: IntegrityReport = { ok: false, ...(options.subject ? { subject: options.subject } : {}), checks, databases: [] };
  const server = options.subject ?? 'the restored server';
  const cluster = options.subject ?? 'the restored cluster';
  let databases: string[];
  let postgresHoldsTables = false;
  // The checker's file first: its ruleTimeoutMs bounds every check's statements.
  let integrity = options.integrity;
  let configProblem: VerifyCheck | undefined;
  if (!integrity && options.configFile) {
    try {
      integrity = await loadIntegrityConfig(options.configFile);
    } catch (error) {
      configProblem = { name: 'verify config', ok: false, message: `${(error as Error).message}: the integrity checks did not run` };
    }
  }
  try {
    let checksums: VerifyCheck | undefined;
    databases = await withDb(connection, 'postgres', async (client) => {
      postgresHoldsTables = (await listTables(client)).length > 0;
      await client.query(timeoutSql(checkTimeoutMs(integrity)));
      checksums = await checksumCheck(client, server).catch((error: Error) => ({ name: 'checksum failures', ok: false, message: `could not read pg_stat_database: ${error.message}` }));
      return (await client.query(listDatabasesSql)).rows.map((row) => row.datname as string);
    });
    checks.push({ name: 'connection', ok: true, message: `${server} accepts connections` }, checksums!);
  } catch (error) {
    checks.push({ name: 'connection', ok: false, message: `cannot connect: ${(error as Error).message}` });
    return report;
  }
  if (configProblem) checks.push(configProblem);
  const settings = countSettings(integrity);
  const amcheck = options.amcheck === 'create' || integrity?.createAmcheckOnProduction ? 'create' : 'existing';
  // `postgres` is usually just the maintenance database, but some clusters keep their data there:
  // skipping it then would verify nothing at all.
  const wanted = options.databases ?? databases.filter((name) => name !== 'postgres' || postgresHoldsTables);
  for (const database of wanted) {
    if (!databases.includes(database)) {
      checks.push({ name: `database ${database}`, ok: false, message: `database ${database} does not exist in ${cluster}` });
      continue;
    }
    try {
      const tables = await withDb(connection, database, async (client) => {
        // Every statement of the database's checks is bounded, row counts included (a lock held elsewhere must not hang the report).
        await client.query(timeoutSql(checkTimeoutMs(integrity)));
        const names = await listTables(client);
        const counted = await countTables({
          database, names, catalog: await readCatalog(client),
          asked: new Set([...(options.tables ?? []).map((t) => t.table), ...(integrity ? checksFor(integrity, database).criticalTables : [])]),
          timestampColumns: new Map((options.tables ?? []).flatMap((t) => (t.timestampColumn ? [[t.table, t.timestampColumn] as const] : []))),
          exactBelowBytes: settings.exactBelowBytes, allExact: options.counts === 'exact', parallel: settings.parallel,
          deadline: started + settings.budgetMs, now, ruleTimeoutMs: checkTimeoutMs(integrity),
          // Each worker's own session, read-only from its first statement.
          session: (use) => withDb(connection, database, async (worker) => {
            await worker.query('SET default_transaction_read_only = on');
            await use(worker);
          }),
        });
        const facts = counted.facts;
        checks.push(...counted.checks);
        for (const configured of options.tables ?? []) {
          if (!names.includes(configured.table)) checks.push({ name: `table ${database}.${configured.table}`, ok: false, message: `expected table ${configured.table} is missing` });
        }
        const integrityChecks = integrity ? await databaseIntegrityChecks(client, database, integrity, amcheck) : [];
        return { facts, integrityChecks };
      });
      checks.push({ name: `database ${database}`, ok: true, message: `${tables.facts.length} tables readable; row counts ${countSummary(tables.facts.map((t) => t.count))}` }, ...tables.integrityChecks);
      report.databases.push({ name: database, tables: tables.facts });
    } catch (error) {
      checks.push({ name: `database ${database}`, ok: false, message: `query failed: ${(error as Error).message}` });
    }
  }
  if (options.compareWith) checks.push(...(await compareWithProduction(report, options, integrity)));
  report.ok = checks.every((check) => check.ok);
  return report;
}

/** Row counts of the compared tables of each verified database, side against production (informational checks). */
async function compareWithProduction(report: IntegrityReport, options: VerifyOptions, integrity: IntegrityConfig | undefined): Promise<VerifyCheck[]> {
  const { connection, name } = options.compareWith!;
  const checks: VerifyCheck[] = [];
  for (const db of report.databases) {
    const named = [...(options.tables ?? []).map((t) => t.table), ...(integrity ? checksFor(integrity, db.name).criticalTables : [])];
    const side = new Map(db.tables.map((t) => [t.table, t.rows]));
    // Only exact counts are compared: an estimate would show differences that are not there.
    const tables = named.length > 0 ? [...new Set(named)].filter((t) => side.has(t)) : db.tables.filter((t) => t.count === undefined).map((t) => t.table);
    try {
      const counts = await withDb(connection, db.name, async (client) => {
        await client.query('SET default_transaction_read_only = on');
        await client.query(timeoutSql(checkTimeoutMs(integrity)));
        return productionCounts(client, tables);
      });
      checks.push(sideComparisonCheck(db.name, name, tables.map((table) => ({ table, side: side.get(table)!, production: counts.get(table) ?? null }))));
    } catch (error) {
      // Production lacks the database (withTargetClient reports 3D000 as DATABASE_NOT_FOUND).
      if (['3D000', 'DATABASE_NOT_FOUND'].includes((error as { code?: string }).code ?? '')) checks.push(sideComparisonCheck(db.name, name, [], true));
      else checks.push({ name: `compared with production ${db.name}`, ok: true, informational: true, message: `informational: could not read production's row counts: ${(error as Error).message}` });
    }
  }
  return checks;
}

/** Content hash of every user table of a database: compare a restore with a snapshot. */
export async function tableHashes(connection: pg.ClientConfig, database: string): Promise<Record<string, { rows: number; hash: string }>> {
  return withDb(connection, database, async (client) => {
    const result: Record<string, { rows: number; hash: string }> = {};
    for (const table of await listTables(client)) {
      const row = (await client.query(tableHashSql(table))).rows[0];
      result[table] = { rows: Number(row.rows), hash: row.hash };
    }
    return result;
  });
}
