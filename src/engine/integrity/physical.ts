/**
 * The checks below the data: sequences not behind their column's max, btree index integrity
 * with amcheck (bt_index_check with heapallindexed: AccessShareLock only, so production may
 * run it), and the checksum failures PostgreSQL counted.
 */
import type pg from 'pg';
import type { DatabaseChecks } from '../../config.js';
import { amcheckInstalledSql, btIndexCheckSql, btreeIndexesSql, checksumFailuresSql, createAmcheckSql, ownedSequencesSql, sequencePositionSql } from './sql.js';
import { failureText, isCorruption, plural, type IntegrityCheck } from './types.js';

export async function sequenceCheck(client: pg.Client, database: string): Promise<IntegrityCheck[]> {
  const sequences = (await client.query(ownedSequencesSql)).rows as { sequence: string; table: string; column: string }[];
  if (sequences.length === 0) return [];
  const behind: string[] = [];
  for (const { sequence, table, column } of sequences) {
    try {
      const row = (await client.query(sequencePositionSql(sequence, table, column))).rows[0];
      if (row.behind) behind.push(`${sequence} is at ${row.last_value}${row.is_called ? '' : ' (not yet called)'} but ${table}.${column} reaches ${row.max}`);
    } catch (error) {
      behind.push(`${sequence} (${table}.${column}) could not be read: ${failureText(error)}`);
    }
  }
  const name = `sequences ${database}`;
  if (behind.length === 0) return [{ name, ok: true, message: `${plural(sequences.length, 'owned sequence')} at or ahead of their column's max` }];
  return [{ name, ok: false, message: `${plural(behind.length, 'sequence')} behind in ${database} (the next insert would reuse a key): ${behind.slice(0, 10).join('; ')}` }];
}

export type AmcheckMode = 'create' | 'existing';

/**
 * bt_index_check(index, heapallindexed => true) on the btree indexes of the amcheck tables
 * (the critical tables unless configured). The extension is created only in 'create' mode
 * (side instances, or production when the config allows it); otherwise skipped when absent.
 */
export async function amcheckCheck(client: pg.Client, database: string, checks: DatabaseChecks, mode: AmcheckMode): Promise<IntegrityCheck[]> {
  const tables = checks.amcheckTables ?? checks.criticalTables;
  if (tables.length === 0) return [];
  const name = `indexes ${database}`;
  let installed = (await client.query(amcheckInstalledSql)).rows.length > 0;
  if (!installed && mode === 'create') {
    try {
      await client.query(createAmcheckSql);
      installed = true;
    } catch (error) {
      return [{ name, ok: false, message: `could not create the amcheck extension in ${database}: ${(error as Error).message}` }];
    }
  }
  if (!installed) {
    return [{ name, ok: true, skipped: true, message: `skipped: amcheck not installed in ${database} (CREATE EXTENSION amcheck there, or verify a side instance)` }];
  }
  const indexes = (await client.query(btreeIndexesSql, [tables])).rows as { oid: number; index: string; table: string }[];
  const broken: string[] = [];
  const unchecked: string[] = [];
  for (const index of indexes) {
    try {
      await client.query(btIndexCheckSql, [index.oid]);
    } catch (error) {
      (isCorruption(error) ? broken : unchecked).push(`${index.index} on ${index.table}: ${failureText(error)}`);
    }
  }
  if (broken.length === 0 && unchecked.length === 0) {
    return [{ name, ok: true, message: `${plural(indexes.length, 'btree index', 'btree indexes')} of ${plural(tables.length, 'table')} intact (bt_index_check, heapallindexed; partitions' indexes included)` }];
  }
  const problems = [
    ...(broken.length > 0 ? [`${plural(broken.length, 'corrupt index', 'corrupt indexes')} in ${database} (REINDEX them, and look for the cause): ${broken.slice(0, 5).join('; ')}`] : []),
    ...(unchecked.length > 0 ? [`${plural(unchecked.length, 'index', 'indexes')} in ${database} could not be checked: ${unchecked.slice(0, 5).join('; ')}`] : []),
  ];
  return [{ name, ok: false, message: problems.join('; ') }];
}

/** pg_stat_database.checksum_failures of every database (one check for the cluster). */
export async function checksumCheck(client: pg.Client, where: string): Promise<IntegrityCheck> {
  const rows = (await client.query(checksumFailuresSql)).rows as { data_checksums: string; database: string | null; failures: string; last_failure: string | null }[];
  const failures = rows.filter((row) => row.database !== null);
  const enabled = rows[0]?.data_checksums === 'on';
  if (failures.length > 0) {
    const detail = failures.map((row) => `${row.database}: ${row.failures}${row.last_failure ? ` (last ${row.last_failure})` : ''}`).join('; ');
    return { name: 'checksum failures', ok: false, message: `PostgreSQL counted data checksum failures on ${where} (pages are damaged): ${detail}` };
  }
  if (!enabled) return { name: 'checksum failures', ok: true, skipped: true, message: `skipped: data checksums are off on ${where}, so damaged pages are not counted` };
  return { name: 'checksum failures', ok: true, message: `no checksum failures recorded on ${where}` };
}
