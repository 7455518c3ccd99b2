/**
 * The tokenizer of the rows filter (`user_id = 12345 and status in ('a', 'b')`): one pass over
 * the characters, no regular expressions over the whole text, nothing evaluated. Positions are
 * 1-based character offsets, so a refusal can say where the problem is.
 */
import { RecoverError } from '../../errors.js';

export type TokenKind = 'ident' | 'quoted-ident' | 'int' | 'decimal' | 'string' | 'op' | 'lparen' | 'rparen' | 'comma' | 'end';

export interface Token {
  kind: TokenKind;
  /** The identifier (quoted ones without quotes), the number's digits, the string's value, the operator. */
  text: string;
  /** 1-based position of the token's first character in the filter. */
  pos: number;
}

export const FILTER_SHAPE = 'conditions `column op value` joined by `and` (ops: = <> < <= > >= in (…) between … and … is [not] null)';

export function filterError(message: string, hint = `A filter is ${FILTER_SHAPE}, never SQL. Example: user_id = 12345 and created_at >= '2025-01-15'`): RecoverError {
  return new RecoverError('BAD_INPUT', message, { hint });
}

const isDigit = (c: string) => c >= '0' && c <= '9';
const isIdentStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdentPart = (c: string) => isIdentStart(c) || isDigit(c) || c === '$';

/** Longest operator first: `<=` before `<`. `!=` is read as `<>`. */
const OPERATORS = ['<=', '>=', '<>', '!=', '=', '<', '>'] as const;

/** A readable name for a character in a refusal (control characters by code). */
function showChar(c: string): string {
  return c < ' ' || c === '\u007f' ? `U+${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}` : `'${c}'`;
}

export function tokenizeFilter(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const pos = i + 1;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < text.length && isIdentPart(text[j]!)) j++;
      tokens.push({ kind: 'ident', text: text.slice(i, j), pos });
      i = j;
    } else if (isDigit(c) || (c === '-' && isDigit(text[i + 1] ?? '')) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      let j = c === '-' ? i + 1 : i;
      while (j < text.length && isDigit(text[j]!)) j++;
      let kind: TokenKind = 'int';
      if (text[j] === '.') {
        kind = 'decimal';
        j++;
        const fractionStart = j;
        while (j < text.length && isDigit(text[j]!)) j++;
        if (j === fractionStart) throw filterError(`A number at position ${pos} ends in "." : expected digits after the decimal point.`);
      }
      // `12abc` or `1e5` is not a number this grammar knows; say so rather than split it.
      if (j < text.length && (isIdentPart(text[j]!) || text[j] === '.')) {
        throw filterError(`Unexpected ${showChar(text[j]!)} at position ${j + 1} right after the number ${text.slice(i, j)}: numbers are plain digits, optionally with a decimal point (no exponents).`);
      }
      const digits = text.slice(i, j);
      tokens.push({ kind, text: digits.startsWith('.') ? `0${digits}` : digits.replace(/^-\./, '-0.'), pos });
      i = j;
    } else if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw filterError(`The string starting at position ${pos} is not closed: expected a closing ' (write '' for a quote inside it).`);
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      tokens.push({ kind: 'string', text: value, pos });
      i = j + 1;
    } else if (c === '"') {
      let name = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw filterError(`The quoted column name starting at position ${pos} is not closed: expected a closing ".`);
        if (text[j] === '"') {
          if (text[j + 1] === '"') {
            name += '"';
            j += 2;
            continue;
          }
          break;
        }
        name += text[j];
        j++;
      }
      if (name.length === 0) throw filterError(`Empty quoted column name at position ${pos}.`);
      tokens.push({ kind: 'quoted-ident', text: name, pos });
      i = j + 1;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', text: c, pos });
      i++;
    } else {
      const op = OPERATORS.find((candidate) => text.startsWith(candidate, i));
      if (!op) {
        const what = c === ';' ? "';' (one filter, not SQL statements)" : c === '-' && text[i + 1] === '-' ? "'--' (no SQL comments)" : showChar(c);
        throw filterError(`Unexpected ${what} at position ${pos}: expected a column, an operator, a value, '(' ')' ',' or and.`);
      }
      tokens.push({ kind: 'op', text: op === '!=' ? '<>' : op, pos });
      i += op.length;
    }
  }
  tokens.push({ kind: 'end', text: '', pos: text.length + 1 });
  return tokens;
}
