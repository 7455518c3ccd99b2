/** The rows filter grammar: valid filters compile to quoted SQL + parameters; everything else is refused, saying where and what. */
import { describe, expect, test } from 'vitest';
import { RecoverError } from '../../../../src/errors.js';
import { compileFilterText, type ColumnInfo } from '../../../../src/engine/rows/filter-compile.js';
import { parseFilter } from '../../../../src/engine/rows/filter.js';

const COLUMNS: ColumnInfo[] = [
  { name: 'id', type: 'bigint', category: 'N' },
  { name: 'user_id', type: 'integer', category: 'N' },
  { name: 'amount', type: 'numeric(10,2)', category: 'N' },
  { name: 'status', type: 'text', category: 'S' },
  { name: 'active', type: 'boolean', category: 'B' },
  { name: 'created_at', type: 'timestamp with time zone', category: 'D' },
  { name: 'tags', type: 'text[]', category: 'A' },
  { name: 'MixedCase', type: 'text', category: 'S' },
];

const compile = (text: string, options: { alias?: string; paramOffset?: number } = {}) => compileFilterText(text, COLUMNS, 'public.workflows', options);

describe('valid filters compile to quoted identifiers and $n parameters', () => {
  test.each([
    ['user_id = 12345', '("user_id" = $1)', ['12345']],
    ['USER_ID=12345', '("user_id" = $1)', ['12345']],
    ['user_id <> -7', '("user_id" <> $1)', ['-7']],
    ['user_id != 7', '("user_id" <> $1)', ['7']],
    ['id < 10 and id >= 2', '("id" < $1) AND ("id" >= $2)', ['10', '2']],
    ['amount <= 12.50', '("amount" <= $1)', ['12.50']],
    ['amount > .5', '("amount" > $1)', ['0.5']],
    ["status = 'it''s done'", '("status" = $1)', ["it's done"]],
    ["status in ('failed', 'cancelled')", '("status" IN ($1, $2))', ['failed', 'cancelled']],
    ['user_id not in (1,2)', '("user_id" NOT IN ($1, $2))', ['1', '2']],
    ["created_at between '2025-01-01' and '2025-01-15 14:30:00+00' AND active = true", '("created_at" BETWEEN $1 AND $2) AND ("active" = $3)', ['2025-01-01', '2025-01-15 14:30:00+00', 'true']],
    ['status is null', '("status" IS NULL)', []],
    ['status IS NOT NULL and active = FALSE', '("status" IS NOT NULL) AND ("active" = $1)', ['false']],
    ['"MixedCase" = \'x\'', '("MixedCase" = $1)', ['x']],
    ["status = '1=1; drop table workflows --'", '("status" = $1)', ['1=1; drop table workflows --']],
  ])('%s', (text, sql, params) => {
    expect(compile(text)).toMatchObject({ text, sql, params });
  });

  test('alias and parameter offset for embedding in a larger statement', () => {
    expect(compile("user_id = 5 and status = 'x'", { alias: 't', paramOffset: 2 })).toMatchObject({ sql: '("t"."user_id" = $3) AND ("t"."status" = $4)', params: ['5', 'x'] });
  });

  test('the AST keeps positions', () => {
    expect(parseFilter('id = 1 and status is not null').conditions).toEqual([
      { kind: 'compare', column: { name: 'id', pos: 1 }, op: '=', value: { kind: 'int', text: '1', pos: 6 } },
      { kind: 'null', column: { name: 'status', pos: 12 }, negated: true },
    ]);
  });
});

function refusal(text: string): string {
  try {
    compile(text);
  } catch (error) {
    expect(error).toBeInstanceOf(RecoverError);
    expect((error as RecoverError).code).toBe('BAD_INPUT');
    return (error as RecoverError).message;
  }
  throw new Error(`not refused: ${text}`);
}

describe('refusals name the position and what is expected', () => {
  test.each([
    ['', /empty/],
    ['usr_id = 12345', /^Unknown column usr_id at position 1 in public\.workflows; columns are: id, user_id, amount, status, active, created_at, tags, MixedCase\.$/],
    ['1=1', /^Expected a column name at position 1, found the number 1\./],
    ['1=1; drop table workflows', /^Unexpected ';' \(one filter, not SQL statements\) at position 4/],
    ['user_id = 1; drop table workflows', /^Unexpected ';' \(one filter, not SQL statements\) at position 12/],
    ['user_id = 1 or user_id = 2', /^"or" at position 13 is not supported: conditions are joined by "and" only\./],
    ['user_id = 1 -- comment', /^Unexpected '--' \(no SQL comments\) at position 13/],
    ['user_id = 1 /* x */', /^Unexpected '\/' at position 13/],
    ["user_id = 'abc'", /^'abc' at position 11 does not fit column user_id \(integer\): write the number without quotes\.$/],
    ['status = 5', /^5 at position 10 does not fit column status \(text\): write the value in single quotes\.$/],
    ['user_id = 1.5', /^1\.5 at position 11 does not fit column user_id \(integer\): it is not a whole number\.$/],
    ["active = 'yes'", /does not fit column active \(boolean\): write true or false without quotes/],
    ['id = true', /does not fit column id \(bigint\): write a number/],
    ["tags = '{a}'", /comparing array columns is not supported/],
    ["status = 'open", /^The string starting at position 10 is not closed/],
    ['user_id = ', /^Expected a value \(a number, a 'quoted string', true or false\) at position 11, found the end of the filter\./],
    ['user_id', /^Expected an operator after the column user_id .* at position 8, found the end of the filter\./],
    ['user_id = 1 user_id = 2', /^Expected "and" or the end of the filter at position 13, found user_id\./],
    ['user_id = null', /null at position 11 is not a value to compare with: write "column is null"/],
    ['status is nul', /^Expected "null" or "not null" after "is" at position 11, found nul\./],
    ['id between 1 or 5', /"or" at position 14 is not supported/],
    ['id between 1, 5', /^Expected "and" between the two bounds of between at position 13, found ','\./],
    ['id in 1, 2', /^Expected "\(" after in at position 7, found the number 1\./],
    ['id in (1, 2', /^Expected "," or "\)" in the in \(…\) list at position 12, found the end of the filter\./],
    ['id = 1e5', /^Unexpected 'e' at position 7 right after the number 1/],
    ['id = 0x10', /^Unexpected 'x' at position 7/],
    ['and = 1', /^Expected a column name at position 1, found the word and\./],
    ['id = 1 and', /^Expected a column name at position 11, found the end of the filter\./],
    ['id = $1', /^Unexpected '\$' at position 6/],
    ['id = (select 1)', /^Expected a value .* at position 6, found '\('\./],
    ['lower(status) = \'x\'', /^Expected an operator after the column lower .* at position 6, found '\('\./],
    ['"" = 1', /^Empty quoted column name at position 1/],
  ])('%s', (text, message) => {
    expect(refusal(text)).toMatch(message);
  });

  test('every refusal says what a filter is', () => {
    try {
      compile('id = 1; delete from x');
    } catch (error) {
      expect((error as RecoverError).hint).toMatch(/never SQL/);
    }
  });
});
