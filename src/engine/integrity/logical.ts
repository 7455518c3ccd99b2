/**
 * The checks on the data of one database: critical tables exist, no foreign key left NOT
 * VALID, no orphan rows (every foreign key and every configured relation, with or without a
 * key), rule checks. Each gives pass/fail checks whose message says what is wrong and where.
 */
import type pg from 'pg';
import type { DatabaseChecks, IntegrityConfig } from '../../config.js';
import {
  existingTablesSql, foreignKeysSql, orphanRowsSql, ruleTimeoutSql, ruleViolationsSql, unvalidatedForeignKeysSql, type RelationSpec,
} from './sql.js';
import { failureText, plural, type IntegrityCheck } from './types.js';

const list = (items: string[], max = 10): string => (items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`);

export async function criticalTablesCheck(client: pg.Client, database: string, checks: DatabaseChecks): Promise<IntegrityCheck[]> {
  if (checks.criticalTables.length === 0) return [];
  const found = new Set((await client.query(existingTablesSql, [checks.criticalTables])).rows.map((row) => row.name as string));
  const missing = checks.criticalTables.filter((table) => !found.has(table));
  return [
    missing.length === 0
      ? { name: `critical tables ${database}`, ok: true, message: `all ${plural(checks.criticalTables.length, 'critical table')} exist` }
      : { name: `critical tables ${database}`, ok: false, message: `missing in ${database}: ${list(missing)} (of ${checks.criticalTables.length} critical tables)` },
  ];
}

export async function unvalidatedForeignKeysCheck(client: pg.Client, database: string): Promise<IntegrityCheck> {
  const { rows } = await client.query(unvalidatedForeignKeysSql);
  const name = `foreign keys validated ${database}`;
  if (rows.length === 0) return { name, ok: true, message: 'no foreign key is left NOT VALID' };
  const where = rows.map((row) => `${row.name} on ${row.table}`);
  return { name, ok: false, message: `${plural(rows.length, 'foreign key')} NOT VALID in ${database} (rows written before them were never checked): ${list(where)}` };
}

interface NamedRelation extends RelationSpec {
  label: string;
}

const describeRelation = (r: RelationSpec): string => `${r.child}(${r.columns.join(', ')}) → ${r.parent}(${r.parentColumns.join(', ')})`;

/** Orphans for every foreign key and every configured relation: one failed check per relation with orphans, else one passing check. */
export async function orphanChecks(client: pg.Client, database: string, checks: DatabaseChecks, config: IntegrityConfig): Promise<IntegrityCheck[]> {
  const foreignKeys: NamedRelation[] = (await client.query(foreignKeysSql)).rows.map((row) => ({
    label: `foreign key ${row.name}`,
    child: row.child,
    columns: row.columns,
    parent: row.parent,
    parentColumns: row.parent_columns,
  }));
  const relations: NamedRelation[] = [...foreignKeys];
  for (const configured of checks.relations) {
    const same = (r: RelationSpec) => describeRelation(r) === describeRelation(configured);
    if (!relations.some(same)) relations.push({ label: 'configured relation', ...configured });
  }
  if (relations.length === 0) return [];
  const failed: IntegrityCheck[] = [];
  for (const relation of relations) {
    const name = `orphans ${database}.${relation.child} → ${relation.parent}`;
    try {
      const row = (await client.query(orphanRowsSql(relation), [config.orphanExamples])).rows[0];
      const count = Number(row.orphans);
      if (count > 0) {
        const examples = (row.examples as string[]).length > 0 ? `; e.g. ${(row.examples as string[]).join(' | ')}` : '';
        failed.push({ name, ok: false, message: `${plural(count, 'row')} of ${relation.child} without a parent in ${relation.parent} (${relation.label}: ${describeRelation(relation)})${examples}` });
      }
    } catch (error) {
      failed.push({ name, ok: false, message: `could not check ${relation.label} ${describeRelation(relation)}: ${failureText(error)}` });
    }
  }
  if (failed.length > 0) return failed;
  const configured = relations.length - foreignKeys.length;
  return [{ name: `orphans ${database}`, ok: true, message: `no orphan rows: ${plural(foreignKeys.length, 'foreign key')} and ${plural(configured, 'other configured relation')} checked` }];
}

/** Each rule in its own READ ONLY transaction with a statement_timeout; its rows are the violations. */
export async function ruleChecks(client: pg.Client, database: string, checks: DatabaseChecks, config: IntegrityConfig): Promise<IntegrityCheck[]> {
  const results: IntegrityCheck[] = [];
  for (const rule of checks.rules) {
    const name = `rule ${database}: ${rule.name}`;
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(ruleTimeoutSql(config.ruleTimeoutMs));
      const row = (await client.query(ruleViolationsSql(rule.sql), [3])).rows[0];
      const count = Number(row.violations);
      results.push(
        count === 0
          ? { name, ok: true, message: 'no violating rows' }
          : { name, ok: false, message: `${plural(count, 'violating row')} in ${database}; e.g. ${(row.examples as string[]).join(' | ')}` },
      );
    } catch (error) {
      results.push({ name, ok: false, message: `the rule could not run in ${database}: ${failureText(error)}` });
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
    }
  }
  return results;
}
