/**
 * Issue 17 item 7, the pure parts: whole numbers outside the column's integer type refused by the
 * compiler (naming the type and its range), every parameter bound to the column it is compared
 * with, the example of a valid value each refusal shows, the probe SQL, and refusals found only
 * after a side restore reported as such (exit 1, instance kept), never as "nothing ran".
 */
import { describe, expect, test } from 'vitest';
import { compileFilterText, type ColumnInfo } from '../../../../src/engine/rows/filter-compile.js';
import { exampleSentence, exampleValue } from '../../../../src/engine/rows/filter-examples.js';
import { filterProbeSql, valueProbeSql } from '../../../../src/engine/rows/filter-check.js';
import { databaseNotFound } from '../../../../src/engine/pg-client.js';
import { afterRestore } from '../../../../src/engine/side-refusal.js';
import { EXIT, exitCodeFor, RecoverError, type ErrorCode } from '../../../../src/errors.js';
import { refusal } from '../../../support/refusal.js';

const COLUMNS: ColumnInfo[] = [
  { name: 'user_id', type: 'bigint', category: 'N' },
  { name: 'n', type: 'integer', category: 'N' },
  { name: 'small', type: 'smallint', category: 'N' },
  { name: 'price', type: 'numeric(5,2)', category: 'N' },
  { name: 'payload', type: 'jsonb', category: 'U' },
  { name: 'created_at', type: 'timestamp with time zone', category: 'D' },
  { name: 'Mood', type: 'mood', category: 'E' },
];
const compile = (text: string) => compileFilterText(text, COLUMNS, 'events', { alias: 'r0' });

describe('whole numbers outside the column type are refused by the compiler, naming the type and its range', () => {
  test.each([
    ['user_id = 99999999999999999999', /^99999999999999999999 at position 11 does not fit column user_id \(bigint\): bigint holds whole numbers from -9223372036854775808 to 9223372036854775807\.$/],
    ['user_id = -9223372036854775809', /bigint holds whole numbers from -9223372036854775808/],
    ['n in (1, 2, 2147483648)', /^2147483648 at position 13 does not fit column n \(integer\): integer holds whole numbers from -2147483648 to 2147483647\.$/],
    ['small between 0 and 32768', /^32768 .* \(smallint\): smallint holds whole numbers from -32768 to 32767\.$/],
  ])('%s', (text, message) => {
    const error = refusal(() => compile(text));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(/^Example of a valid value: \S+ = \d+\./);
  });

  test('the bounds themselves and numbers for numeric columns are kept', () => {
    expect(compile('user_id = 9223372036854775807 and user_id > -9223372036854775808 and small = -32768').params).toEqual(['9223372036854775807', '-9223372036854775808', '-32768']);
    expect(compile('price = 99999999999999999999').params).toEqual(['99999999999999999999']);
  });
});

test('each parameter is bound to its column and the value as typed (for refusals)', () => {
  const compiled = compile(`payload = 'not json' and created_at between '2025-01-01' and 'x''y' and "Mood" in ('ok')`);
  expect(compiled.bindings.map((b) => [b.column.name, b.typed, b.pos])).toEqual([
    ['payload', "'not json'", 11],
    ['created_at', "'2025-01-01'", 45],
    ['created_at', "'x''y'", 62],
    ['Mood', "'ok'", 84],
  ]);
  expect(compiled.params).toHaveLength(compiled.bindings.length);
});

describe('examples of valid values', () => {
  test.each([
    [{ type: 'bigint', category: 'N' }, '12345'],
    [{ type: 'numeric(5,2)', category: 'N' }, '12.5'],
    [{ type: 'timestamp(3) with time zone', category: 'D' }, "'2025-01-15 14:29:59+00'"],
    [{ type: 'timestamp without time zone', category: 'D' }, "'2025-01-15 14:29:59'"],
    [{ type: 'date', category: 'D' }, "'2025-01-15'"],
    [{ type: 'json', category: 'U' }, `'{"key": "value"}'`],
    [{ type: 'uuid', category: 'U' }, "'123e4567-e89b-12d3-a456-426614174000'"],
    [{ type: 'character varying(20)', category: 'S' }, "'some text'"],
    [{ type: 'boolean', category: 'B' }, 'true'],
    [{ type: 'geometry', category: 'U' }, null],
  ])('%j', (column, value) => {
    expect(exampleValue(column)).toBe(value);
  });

  test('an enum shows its first value and lists them; an unknown type says what to write', () => {
    expect(exampleSentence({ name: 'Mood', type: 'mood', category: 'E' }, ['ok', "it's"])).toBe(`Example of a valid value: "Mood" = 'ok' (its values: 'ok', 'it''s').`);
    expect(exampleSentence({ name: 'shape', type: 'geometry', category: 'U' })).toBe('Write a value PostgreSQL reads as geometry, in single quotes.');
    expect(exampleSentence({ name: 'created_at', type: 'timestamp with time zone', category: 'D' })).toBe("Example of a valid value: created_at = '2025-01-15 14:29:59+00'.");
  });
});

test('the probe reads every value and no row; a single value is read as the column type', () => {
  const compiled = compile("user_id = 1 and payload = '{}'");
  expect(filterProbeSql({ schema: 'app', name: 'Events' }, compiled)).toBe('SELECT 1 FROM "app"."Events" "r0" WHERE ("r0"."user_id" = $1) AND ("r0"."payload" = $2) LIMIT 0');
  expect(valueProbeSql('timestamp with time zone')).toBe('SELECT $1::timestamp with time zone');
});

describe('exit statuses of the refusals', () => {
  test.each([
    ['DATABASE_NOT_FOUND', EXIT.refused],
    ['NO_PRIMARY_KEY', EXIT.refused],
    ['MODE_REFUSED', EXIT.refused],
    ['REFUSED_AFTER_RESTORE', EXIT.failed],
    ['BAD_INPUT', EXIT.badInput],
  ] as [ErrorCode, number][])('%s exits %i', (code, exit) => {
    expect(exitCodeFor(code)).toBe(exit);
  });

  test('DATABASE_NOT_FOUND names the databases that exist and one to use', () => {
    const error = databaseNotFound('nosuchdb', ['app', 'postgres'], { where: 'Production' });
    expect(error.message).toBe('Production has no database nosuchdb; its databases are: app, postgres.');
    expect(error.hint).toBe('Give --db with the database that holds the table, e.g. --db app.');
  });
});

describe('a refusal found after a side restore', () => {
  const side = { instanceName: 'rows-1', dataDir: '/restores/rows-1/data', connect: 'psql -h /restores/rows-1/run -p 5555 -U postgres app' };

  test.each(['BAD_INPUT', 'NO_PRIMARY_KEY', 'DATABASE_NOT_FOUND', 'MODE_REFUSED'] as ErrorCode[])('%s becomes REFUSED_AFTER_RESTORE (exit 1), the instance kept', (code) => {
    const error = afterRestore(new RecoverError(code, 'events has no primary key. Nothing was restored.', { hint: 'Use as-new.' }), side) as RecoverError;
    expect(error.code).toBe('REFUSED_AFTER_RESTORE');
    expect(exitCodeFor(error.code)).toBe(EXIT.failed);
    expect(error.message).toBe(`events has no primary key. (${code}, found in the side copy after its restore; nothing was written to production.) The side instance rows-1 is kept, running: ${side.connect}.`);
    expect(error.hint).toMatch(/^Use as-new\.\nLook at it .*pg_ctl stop -D \/restores\/rows-1\/data/);
  });

  test('failures (exit 1) and other errors pass unchanged', () => {
    const failed = new RecoverError('COMMAND_FAILED', 'x');
    expect(afterRestore(failed, side)).toBe(failed);
    const plain = new Error('y');
    expect(afterRestore(plain, side)).toBe(plain);
  });
});
