/**
 * A parsed filter checked against the table's columns (as read from pg_attribute by
 * rows-sql.ts's tableColumnsSql) and compiled to a WHERE clause: columns become quoted
 * identifiers of columns that exist, values become $n parameters (text, typed by PostgreSQL
 * from the column they are compared with). Pure.
 * Parameters are left untyped on purpose: PostgreSQL then reads each one as the column's own
 * type, so `user_id = 99999999999999999999` on a bigint column is an error ("out of range for
 * type bigint") instead of a numeric comparison that matches nothing, and a string is read as
 * the column's date, json, uuid or enum. An explicit cast would be worse (`'toolong'::varchar(3)`
 * truncates). filter-check.ts makes production read every value this way before anything runs.
 */
import { quoteIdent } from '../sql.js';
import { exampleSentence } from './filter-examples.js';
import { filterError } from './filter-lexer.js';
import { parseFilter, type ColumnRef, type Condition, type Filter, type Literal } from './filter.js';

export interface ColumnInfo {
  name: string;
  /** format_type(): `integer`, `character varying(20)`, `timestamp with time zone`… */
  type: string;
  /** pg_type.typcategory: N numeric, S string, B boolean, D date/time, A array, U user-defined, E enum… */
  category: string;
}

export interface CompiledFilter {
  /** The filter as typed, for people (plans and previews). */
  text: string;
  /** A boolean SQL expression over the table's columns (qualified by `alias` if given). */
  sql: string;
  /** Values for $offset+1 … in order, as text. */
  params: string[];
  /** For each parameter (same order): the column it is compared with and the value as typed, to name a value the column cannot read. */
  bindings: FilterBinding[];
}

export interface FilterBinding {
  column: ColumnInfo;
  /** The value as written in the filter (strings quoted), e.g. `'not json'` or `99999999999999999999`. */
  typed: string;
  /** 1-based position of the value in the filter. */
  pos: number;
}

const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint']);
/** What each integer type holds: a whole number outside it can never be compared with the column. */
export const INTEGER_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  smallint: [-32768n, 32767n],
  integer: [-2147483648n, 2147483647n],
  bigint: [-9223372036854775808n, 9223372036854775807n],
};

function listColumns(columns: readonly ColumnInfo[]): string {
  const names = columns.map((column) => column.name);
  return names.length > 40 ? `${names.slice(0, 40).join(', ')}, … (${names.length} in all)` : names.join(', ');
}

function findColumn(ref: ColumnRef, columns: readonly ColumnInfo[], table: string): ColumnInfo {
  const exact = columns.find((column) => column.name === ref.name);
  if (exact) return exact;
  // Unquoted names fold to lower case in SQL; the filter does the same.
  const folded = columns.find((column) => column.name === ref.name.toLowerCase());
  if (folded) return folded;
  throw filterError(`Unknown column ${ref.name} at position ${ref.pos} in ${table}; columns are: ${listColumns(columns)}.`, `Use one of the columns of ${table} (write "MixedCase" names in double quotes).`);
}

function literalText(value: Literal): string {
  switch (value.kind) {
    case 'int':
    case 'decimal':
      return value.text;
    case 'string':
      return `'${value.value.replace(/'/g, "''")}'`;
    case 'bool':
      return String(value.value);
  }
}

/** Refuses a value the column cannot hold as typed, naming the column's type. */
function checkLiteral(column: ColumnInfo, value: Literal): string {
  const refuse = (why: string): never => {
    throw filterError(`${literalText(value)} at position ${value.pos} does not fit column ${column.name} (${column.type}): ${why}.`, `${exampleSentence(column)} Compare numbers with numbers, text, dates and times with quoted strings, booleans with true or false.`);
  };
  if (column.category === 'A') refuse('comparing array columns is not supported');
  switch (value.kind) {
    case 'int':
      if (column.category !== 'N') refuse(column.category === 'B' ? 'write true or false' : 'write the value in single quotes');
      if (INTEGER_RANGES[column.type]) {
        const [low, high] = INTEGER_RANGES[column.type]!;
        const number = BigInt(value.text);
        if (number < low || number > high) refuse(`${column.type} holds whole numbers from ${low} to ${high}`);
      }
      return value.text;
    case 'decimal':
      if (column.category !== 'N') refuse(column.category === 'B' ? 'write true or false' : 'write the value in single quotes');
      if (INTEGER_TYPES.has(column.type)) refuse('it is not a whole number');
      return value.text;
    case 'string':
      if (column.category === 'N') refuse('write the number without quotes');
      if (column.category === 'B') refuse('write true or false without quotes');
      return value.value;
    case 'bool':
      if (column.category !== 'B') refuse(column.category === 'N' ? 'write a number' : 'write the value in single quotes');
      return String(value.value);
  }
}

/**
 * Checks every column and value of `filter` against `columns` and returns SQL text plus
 * parameters. `paramOffset`: parameters already taken by the surrounding statement.
 */
export function compileFilter(filter: Filter, text: string, columns: readonly ColumnInfo[], table: string, options: { alias?: string; paramOffset?: number } = {}): CompiledFilter {
  const params: string[] = [];
  const bindings: FilterBinding[] = [];
  const offset = options.paramOffset ?? 0;
  const param = (column: ColumnInfo, value: Literal) => {
    params.push(checkLiteral(column, value));
    bindings.push({ column, typed: literalText(value), pos: value.pos });
    return `$${offset + params.length}`;
  };
  const qualify = (column: ColumnInfo) => (options.alias ? `${quoteIdent(options.alias)}.${quoteIdent(column.name)}` : quoteIdent(column.name));
  const part = (condition: Condition): string => {
    const column = findColumn(condition.column, columns, table);
    const name = qualify(column);
    switch (condition.kind) {
      case 'compare':
        return `${name} ${condition.op} ${param(column, condition.value)}`;
      case 'in':
        return `${name} ${condition.negated ? 'NOT IN' : 'IN'} (${condition.values.map((value) => param(column, value)).join(', ')})`;
      case 'between':
        return `${name} BETWEEN ${param(column, condition.low)} AND ${param(column, condition.high)}`;
      case 'null':
        return `${name} IS ${condition.negated ? 'NOT ' : ''}NULL`;
    }
  };
  const sql = filter.conditions.map((condition) => `(${part(condition)})`).join(' AND ');
  return { text, sql, params, bindings };
}

/** Parse and compile in one go (the command's path). */
export function compileFilterText(text: string, columns: readonly ColumnInfo[], table: string, options: { alias?: string; paramOffset?: number } = {}): CompiledFilter {
  return compileFilter(parseFilter(text), text, columns, table, options);
}
