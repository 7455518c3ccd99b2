/**
 * What production's catalog must allow before a rows restore runs, checked at planning and
 * again in the job before anything is restored or written: the table, the primary keys rows
 * are matched by (the table's and, with --with-children, each child table's: NO_PRIMARY_KEY,
 * exit 3), and every filter value read as its column's type (BAD_INPUT, exit 2, naming the
 * column, its type, the value and a valid one). Without this, `user_id = 99999999999999999999`
 * or `created_at >= 'not a date'` was refused only by the preview, after a side instance had
 * been restored.
 * The values are checked by PostgreSQL itself, in a READ ONLY transaction with a statement and
 * lock timeout: `SELECT 1 FROM <table> WHERE <filter> LIMIT 0` reads every parameter as the
 * type it is compared with (filter-compile.ts binds them untyped) and returns no row.
 */
import type pg from 'pg';
import { RecoverError } from '../../errors.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { quoteIdent } from '../sql.js';
import type { RowsSpec } from './classify.js';
import { compileFilter, compileFilterText, type CompiledFilter, type FilterBinding } from './filter-compile.js';
import { exampleSentence, filterColumnName } from './filter-examples.js';
import { filterError } from './filter-lexer.js';
import { parseFilter, type Condition } from './filter.js';
import { tableName } from './rows-sql.js';
import { ROOT_ALIAS } from './statements.js';
import { displayName, readRowSets, readTable, type RowSet, type TableInfo } from './table.js';

/** Bounds on the check's statements: a lock held on the table must not hang planning. */
export const PROBE_SETTINGS = [`SET LOCAL statement_timeout = 5000`, `SET LOCAL lock_timeout = 2000`] as const;

/** Every value read and every operator resolved, no row read. Parameters: the filter's. Pure. */
export function filterProbeSql(table: Pick<TableInfo, 'schema' | 'name'>, filter: Pick<CompiledFilter, 'sql'>): string {
  return `SELECT 1 FROM ${tableName(table.schema, table.name)} ${quoteIdent(ROOT_ALIAS)} WHERE ${filter.sql} LIMIT 0`;
}

/** One value read as the column's type (format_type's text, from the catalog). `$1` = the value. Pure. */
export function valueProbeSql(type: string): string {
  return `SELECT $1::${type}`;
}

/** An enum's labels in order. `$1` = the type (format_type's text). */
export const enumLabelsSql = `SELECT enumlabel FROM pg_enum WHERE enumtypid = $1::regtype ORDER BY enumsortorder`;

type PgError = Error & { code: string };

/** Runs `sql` read-only and bounded; the PostgreSQL error it raised, or null. Anything else (a lost connection) is thrown. */
async function probe(client: pg.Client, sql: string, params: readonly string[]): Promise<PgError | null> {
  await client.query('BEGIN READ ONLY');
  try {
    for (const setting of PROBE_SETTINGS) await client.query(setting);
    await client.query(sql, [...params]);
    return null;
  } catch (error) {
    if (typeof (error as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((error as PgError).code)) return error as PgError;
    throw error;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

const OPERATOR: Record<Condition['kind'], (condition: Condition) => string> = {
  compare: (condition) => (condition as Extract<Condition, { kind: 'compare' }>).op,
  in: () => 'in (…)',
  between: () => 'between',
  null: () => 'is null',
};

/** The refusal for a value the column cannot read: the column, its type, the value, PostgreSQL's words and a valid value. */
async function valueRefusal(client: pg.Client, binding: FilterBinding, error: PgError): Promise<RecoverError> {
  const { column } = binding;
  const labels = column.category === 'E' ? (await client.query<{ enumlabel: string }>(enumLabelsSql, [column.type]).catch(() => ({ rows: [] }))).rows.map((row) => row.enumlabel) : [];
  return filterError(
    `The filter value ${binding.typed} at position ${binding.pos} does not fit column ${filterColumnName(column.name)} (${column.type}): ${error.message}. Nothing was restored or written.`,
    exampleSentence(column, labels),
  );
}

/** Which condition (and value) PostgreSQL refused, probed one at a time; the refusal to show. */
async function explain(client: pg.Client, table: TableInfo, text: string, failure: PgError): Promise<RecoverError> {
  if (failure.code === '57014' || failure.code === '55P03') {
    return new RecoverError('COMMAND_FAILED', `Could not check the filter against ${displayName(table)} in production: ${failure.message} (a lock held on the table?). Nothing was restored or written.`, { hint: 'Plan again when the table is not locked.', cause: failure });
  }
  for (const condition of parseFilter(text).conditions) {
    const one = compileFilter({ conditions: [condition] }, text, table.columns, displayName(table), { alias: ROOT_ALIAS });
    const error = await probe(client, filterProbeSql(table, one), one.params);
    if (!error) continue;
    const column = one.bindings[0]?.column ?? table.columns.find((c) => c.name === condition.column.name || c.name === condition.column.name.toLowerCase());
    const named = column ? `column ${filterColumnName(column.name)} (${column.type})` : `column ${condition.column.name}`;
    if (error.code === '42883' && column) {
      return filterError(`${named} cannot be compared with ${OPERATOR[condition.kind](condition)}: ${error.message}. Nothing was restored or written.`, `Filter ${filterColumnName(column.name)} with is null / is not null, or by another column${column.type === 'json' ? ' (json has no equality; a jsonb column has)' : ''}.`);
    }
    if (error.code.startsWith('22')) {
      for (const [index, binding] of one.bindings.entries()) {
        const bad = await probe(client, valueProbeSql(binding.column.type), [one.params[index]!]);
        if (bad) return valueRefusal(client, binding, bad);
      }
    }
    return filterError(`The condition on ${named} at position ${condition.column.pos} is refused by PostgreSQL: ${error.message}. Nothing was restored or written.`, column ? exampleSentence(column) : undefined);
  }
  return filterError(`The filter is refused by PostgreSQL: ${failure.message}. Nothing was restored or written.`);
}

/** The filter compiled against `table` and every value read by PostgreSQL as its column's type; refused (BAD_INPUT) otherwise. */
export async function checkFilterValues(client: pg.Client, table: TableInfo, text: string): Promise<CompiledFilter> {
  const filter = compileFilterText(text, table.columns, displayName(table), { alias: ROOT_ALIAS });
  const failure = await probe(client, filterProbeSql(table, filter), filter.params);
  if (failure) throw await explain(client, table, text, failure);
  return filter;
}

export interface RowsTarget {
  table: TableInfo;
  sets: RowSet[];
  filter: CompiledFilter;
}

/**
 * The rows restore's checks on production's catalog (read-only): the table, the filter's
 * columns and values, then the primary keys. `where` names the place in refusals.
 */
export async function checkRowsOnProduction(connection: TargetConnection, spec: RowsSpec, where: string): Promise<RowsTarget> {
  return withTargetClient(connection, async (client) => {
    const table = await readTable(client, spec.table, where);
    const filter = await checkFilterValues(client, table, spec.filter);
    const sets = await readRowSets(client, table, spec.withChildren, spec.maxDepth);
    return { table, sets, filter };
  });
}
