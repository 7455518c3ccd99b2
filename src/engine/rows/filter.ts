/**
 * The rows filter: `column op value` conditions joined by `and`, parsed into an AST by a small
 * recursive-descent parser over filter-lexer's tokens, checked against the table's columns
 * (filter-check.ts) and compiled to SQL with quoted identifiers and $n parameters. Never raw
 * SQL: a value only ever becomes a parameter, a column only a quoted identifier it names.
 */
import { filterError, tokenizeFilter, FILTER_SHAPE, type Token } from './filter-lexer.js';

export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type Literal =
  | { kind: 'int'; text: string; pos: number }
  | { kind: 'decimal'; text: string; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'bool'; value: boolean; pos: number };

export interface ColumnRef {
  name: string;
  pos: number;
}

export type Condition =
  | { kind: 'compare'; column: ColumnRef; op: CompareOp; value: Literal }
  | { kind: 'in'; column: ColumnRef; negated: boolean; values: Literal[] }
  | { kind: 'between'; column: ColumnRef; low: Literal; high: Literal }
  | { kind: 'null'; column: ColumnRef; negated: boolean };

export interface Filter {
  /** All must hold (joined by `and`). */
  conditions: Condition[];
}

/** At most this many conditions, and values in one `in (…)`: a filter is typed by a person. */
export const MAX_CONDITIONS = 32;
export const MAX_IN_VALUES = 1000;

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'between', 'is', 'null', 'true', 'false']);

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the filter';
    case 'string':
      return `the string '${token.text}'`;
    case 'int':
    case 'decimal':
      return `the number ${token.text}`;
    case 'ident':
      return KEYWORDS.has(token.text.toLowerCase()) ? `the word ${token.text}` : `${token.text}`;
    case 'quoted-ident':
      return `"${token.text}"`;
    default:
      return `'${token.text}'`;
  }
}

class Parser {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.index]!;
  }
  private next(): Token {
    return this.tokens[this.index++]!;
  }
  private isWord(token: Token, word: string): boolean {
    return token.kind === 'ident' && token.text.toLowerCase() === word;
  }
  private expected(what: string, token = this.peek()): never {
    if (this.isWord(token, 'or')) {
      throw filterError(`"or" at position ${token.pos} is not supported: conditions are joined by "and" only.`, `For alternatives of one column use in (…), e.g. status in ('failed', 'cancelled'); otherwise run the command once per alternative.`);
    }
    throw filterError(`Expected ${what} at position ${token.pos}, found ${describe(token)}.`);
  }
  private expectWord(word: string, what = word): void {
    const token = this.peek();
    if (!this.isWord(token, word)) this.expected(what, token);
    this.index++;
  }

  parse(): Filter {
    if (this.peek().kind === 'end') throw filterError('The filter is empty.');
    const conditions: Condition[] = [this.condition()];
    while (this.peek().kind !== 'end') {
      if (!this.isWord(this.peek(), 'and')) this.expected('"and" or the end of the filter');
      this.index++;
      conditions.push(this.condition());
      if (conditions.length > MAX_CONDITIONS) throw filterError(`The filter has more than ${MAX_CONDITIONS} conditions.`);
    }
    return { conditions };
  }

  private column(): ColumnRef {
    const token = this.peek();
    if (token.kind === 'quoted-ident' || (token.kind === 'ident' && !KEYWORDS.has(token.text.toLowerCase()))) {
      this.index++;
      return { name: token.text, pos: token.pos };
    }
    return this.expected('a column name');
  }

  private literal(): Literal {
    const token = this.next();
    switch (token.kind) {
      case 'int':
      case 'decimal':
        return { kind: token.kind, text: token.text, pos: token.pos };
      case 'string':
        return { kind: 'string', value: token.text, pos: token.pos };
      case 'ident':
        if (this.isWord(token, 'true') || this.isWord(token, 'false')) return { kind: 'bool', value: this.isWord(token, 'true'), pos: token.pos };
        if (this.isWord(token, 'null')) throw filterError(`null at position ${token.pos} is not a value to compare with: write "column is null" or "column is not null".`);
        break;
      default:
        break;
    }
    this.index--;
    return this.expected("a value (a number, a 'quoted string', true or false)");
  }

  private condition(): Condition {
    const column = this.column();
    const token = this.peek();
    if (token.kind === 'op') {
      this.index++;
      return { kind: 'compare', column, op: token.text as CompareOp, value: this.literal() };
    }
    if (this.isWord(token, 'is')) {
      this.index++;
      const negated = this.isWord(this.peek(), 'not');
      if (negated) this.index++;
      this.expectWord('null', negated ? '"null" after "is not"' : '"null" or "not null" after "is"');
      return { kind: 'null', column, negated };
    }
    if (this.isWord(token, 'between')) {
      this.index++;
      const low = this.literal();
      this.expectWord('and', '"and" between the two bounds of between');
      return { kind: 'between', column, low, high: this.literal() };
    }
    const negated = this.isWord(token, 'not');
    if (negated) this.index++;
    if (this.isWord(this.peek(), 'in')) {
      this.index++;
      if (this.peek().kind !== 'lparen') this.expected('"(" after in');
      this.index++;
      const values: Literal[] = [this.literal()];
      while (this.peek().kind === 'comma') {
        this.index++;
        values.push(this.literal());
        if (values.length > MAX_IN_VALUES) throw filterError(`More than ${MAX_IN_VALUES} values in one in (…) at position ${token.pos}.`);
      }
      if (this.peek().kind !== 'rparen') this.expected('"," or ")" in the in (…) list');
      this.index++;
      return { kind: 'in', column, negated, values };
    }
    return this.expected(negated ? '"in" after "not"' : `an operator after the column ${column.name} (= <> < <= > >= in between is)`);
  }
}

/** Text → AST; refusals are BAD_INPUT naming the position and what was expected. */
export function parseFilter(text: string): Filter {
  if (text.length > 10_000) throw filterError('The filter is longer than 10,000 characters.');
  return new Parser(tokenizeFilter(text)).parse();
}

export { FILTER_SHAPE };
