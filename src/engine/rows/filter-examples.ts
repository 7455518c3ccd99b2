/**
 * A valid value for a column, as the rows filter writes it, for refusals: a person who typed
 * `created_at >= 'not a date'` is shown `created_at >= '2025-01-15 14:29:59+00'`. Pure.
 */
import type { ColumnInfo } from './filter-compile.js';

/** The column as the filter names it: plain when it folds to itself, else in double quotes. */
export function filterColumnName(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

const quoted = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** By format_type's name without its modifiers (`numeric(5,2)` → `numeric`, `timestamp(3) with time zone` → `timestamp with time zone`). */
const EXAMPLES: Readonly<Record<string, string>> = {
  smallint: '123',
  integer: '12345',
  bigint: '12345',
  numeric: '12.5',
  real: '12.5',
  'double precision': '12.5',
  money: "'12.50'",
  boolean: 'true',
  'timestamp with time zone': "'2025-01-15 14:29:59+00'",
  'timestamp without time zone': "'2025-01-15 14:29:59'",
  date: "'2025-01-15'",
  'time without time zone': "'14:29:59'",
  'time with time zone': "'14:29:59+00'",
  interval: "'1 day 2 hours'",
  json: `'{"key": "value"}'`,
  jsonb: `'{"key": "value"}'`,
  uuid: "'123e4567-e89b-12d3-a456-426614174000'",
  inet: "'192.168.0.1'",
  cidr: "'192.168.0.0/24'",
  macaddr: "'08:00:2b:01:02:03'",
  bytea: "'\\x0102ff'",
  text: "'some text'",
  'character varying': "'some text'",
  character: "'abc'",
};

/** The type's name without modifiers, e.g. `character varying(20)` → `character varying`. */
export function baseTypeName(type: string): string {
  return type.replace(/\(\d+(,\d+)?\)/g, '').replace(/\[\]$/, '').trim();
}

/**
 * A value the column reads, as filter text (`12345`, `'2025-01-15'`, `true`), or null when the
 * type is not one known here. `labels`: an enum's values in order (the first one is shown).
 */
export function exampleValue(column: Pick<ColumnInfo, 'type' | 'category'>, labels: readonly string[] = []): string | null {
  if (column.category === 'E' && labels.length > 0) return quoted(labels[0]!);
  return EXAMPLES[baseTypeName(column.type)] ?? null;
}

/** `Example of a valid value: payload = '{"key": "value"}'`, with an enum's values listed; a plain sentence when no example is known. */
export function exampleSentence(column: Pick<ColumnInfo, 'name' | 'type' | 'category'>, labels: readonly string[] = []): string {
  const value = exampleValue(column, labels);
  const shown = labels.slice(0, 20).map(quoted).join(', ');
  const values = column.category === 'E' && labels.length > 0 ? ` (its values: ${shown}${labels.length > 20 ? `, … ${labels.length} in all` : ''})` : '';
  if (value === null) return `Write a value PostgreSQL reads as ${column.type}, in single quotes${values}.`;
  return `Example of a valid value: ${filterColumnName(column.name)} = ${value}${values}.`;
}
