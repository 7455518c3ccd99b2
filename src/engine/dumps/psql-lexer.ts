/**
 * A plain SQL script read the way psql reads it (pure, line by line, tested as tables), so a
 * foreign pg_dumpall file can be judged before psql ever sees it: where each statement ends
 * (`;` outside quotes, comments and parentheses), which lines are COPY … FROM stdin data, and
 * every psql meta-command (a backslash outside a string, a quoted identifier, a dollar quote or
 * a comment: psql runs it wherever it stands on the line). Only whole-line meta-commands named in
 * ALLOWED_META are passed on; any other (`\!` runs a shell, `\o |cmd` and `\copy … program` too)
 * is a refusal naming its line. This is the first of two guards: the restore also runs psql
 * behind a `\restrict` key of its own (dumpall-plain-run.ts), so psql itself refuses any
 * meta-command this reading might have missed.
 */

/** The meta-commands pg_dumpall writes, which the restore handles itself (none reaches psql). */
export const ALLOWED_META = ['connect', 'c', 'restrict', 'unrestrict', 'encoding'] as const;

export type LexEvent =
  | { kind: 'statement'; text: string; line: number }
  | { kind: 'copy-row' }
  | { kind: 'copy-end' }
  | { kind: 'meta'; command: (typeof ALLOWED_META)[number]; args: string; line: number };

export interface MetaRefusal {
  line: number;
  command: string;
  why: string;
}

type Quote = null | { kind: 'string' | 'estring' | 'ident' } | { kind: 'dollar'; tag: string } | { kind: 'comment'; depth: number };

const COPY_FROM_STDIN = /^\s*COPY\s[\s\S]*\sFROM\s+stdin\s*;$/i;
const identChar = /[A-Za-z0-9_$\u0080-\uffff]/;

export class PsqlLexer {
  readonly refusals: MetaRefusal[] = [];
  private lineNo = 0;
  private mode: 'sql' | 'copy' = 'sql';
  private pending = '';
  private pendingLine = 0;
  private quote: Quote = null;
  private depth = 0;

  /** One line of the script (without its newline). */
  push(line: string): LexEvent[] {
    this.lineNo += 1;
    if (this.mode === 'copy') {
      if (line === '\\.') {
        this.mode = 'sql';
        return [{ kind: 'copy-end' }];
      }
      return [{ kind: 'copy-row' }];
    }
    if (this.pending === '' && this.quote === null) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('--')) return [];
      if (trimmed.startsWith('\\')) return this.wholeLineMeta(trimmed);
    }
    return this.scan(line);
  }

  /** The end of the script: a statement left open is a refusal (psql would send it anyway). */
  end(): LexEvent[] {
    if (this.pending.trim() !== '' || this.quote !== null) this.refusals.push({ line: this.pendingLine || this.lineNo, command: '(unterminated statement)', why: 'the script ends inside a statement, string or comment' });
    if (this.mode === 'copy') this.refusals.push({ line: this.lineNo, command: '(COPY data)', why: 'the script ends inside COPY data (no \\. line)' });
    return [];
  }

  private wholeLineMeta(trimmed: string): LexEvent[] {
    const match = /^\\([A-Za-z]+|.)(?:\s+(.*))?$/.exec(trimmed);
    const command = match?.[1] ?? trimmed.slice(1, 2);
    // A backslash outside double quotes would end this meta-command and start another (psql reads `\\` so).
    const outsideQuotes = (match?.[2] ?? '').replace(/"(?:[^"]|"")*"/g, '""');
    if ((ALLOWED_META as readonly string[]).includes(command) && !outsideQuotes.includes('\\')) {
      return [{ kind: 'meta', command: command as (typeof ALLOWED_META)[number], args: (match?.[2] ?? '').trim(), line: this.lineNo }];
    }
    this.refusals.push({ line: this.lineNo, command: `\\${command}`, why: metaWhy(command) });
    return [];
  }

  private scan(line: string): LexEvent[] {
    const events: LexEvent[] = [];
    if (this.pending === '') this.pendingLine = this.lineNo;
    let start = 0;
    let lineEnd = line.length;
    for (let i = 0; i < line.length; i += 1) {
      const c = line[i]!;
      const q = this.quote;
      if (q) {
        if (q.kind === 'string' || q.kind === 'estring') {
          if (q.kind === 'estring' && c === '\\') i += 1;
          else if (c === '\'') {
            if (line[i + 1] === '\'') i += 1;
            else this.quote = null;
          }
        } else if (q.kind === 'ident') {
          if (c === '"') {
            if (line[i + 1] === '"') i += 1;
            else this.quote = null;
          }
        } else if (q.kind === 'dollar') {
          if (line.startsWith(q.tag, i)) {
            i += q.tag.length - 1;
            this.quote = null;
          }
        } else if (q.kind !== 'comment') {
          continue;
        } else if (line.startsWith('/*', i)) {
          q.depth += 1;
          i += 1;
        } else if (line.startsWith('*/', i)) {
          i += 1;
          q.depth -= 1;
          if (q.depth === 0) this.quote = null;
        }
        continue;
      }
      const before = i > 0 ? line[i - 1]! : ' ';
      if (line.startsWith('--', i)) {
        lineEnd = i;
        break;
      }
      if (line.startsWith('/*', i)) {
        this.quote = { kind: 'comment', depth: 1 };
        i += 1;
      } else if (c === '\'') {
        const escaped = (before === 'E' || before === 'e') && (i < 2 || !identChar.test(line[i - 2]!));
        this.quote = { kind: escaped ? 'estring' : 'string' };
      } else if (c === '"') {
        this.quote = { kind: 'ident' };
      } else if (c === '$' && !identChar.test(before)) {
        const tag = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(line.slice(i))?.[0];
        if (tag) {
          this.quote = { kind: 'dollar', tag };
          i += tag.length - 1;
        }
      } else if (c === '(') {
        this.depth += 1;
      } else if (c === ')') {
        this.depth = Math.max(0, this.depth - 1);
      } else if (c === '\\') {
        const command = /^\\([A-Za-z]+|.?)/.exec(line.slice(i))![1]!;
        this.refusals.push({ line: this.lineNo, command: `\\${command}`, why: `${metaWhy(command)}; and only on a line of its own` });
        return events;
      } else if (c === ';' && this.depth === 0) {
        const text = `${this.pending}${line.slice(start, i + 1)}`.trim();
        this.pending = '';
        start = i + 1;
        events.push({ kind: 'statement', text, line: this.pendingLine });
        this.pendingLine = this.lineNo;
        if (COPY_FROM_STDIN.test(text)) {
          if (line.slice(start).trim() !== '') this.refusals.push({ line: this.lineNo, command: '(COPY)', why: 'text after COPY … FROM stdin on its line' });
          this.mode = 'copy';
          return events;
        }
      }
    }
    // A comment after the last statement of a line is not the start of another.
    if (this.pending !== '' || line.slice(start, lineEnd).trim() !== '' || this.quote !== null) this.pending = `${this.pending}${line.slice(start)}\n`;
    return events;
  }
}

function metaWhy(command: string): string {
  const allowed = 'allowed: \\connect, \\restrict, \\unrestrict, \\encoding (as pg_dumpall writes them)';
  if (command === '!') return `psql would run a shell command; ${allowed}`;
  if (command === 'o' || command === 'out' || command === 'w' || command === 'write' || command === 'g' || command === 'gx') return `psql would write to a file or a program; ${allowed}`;
  if (command === 'copy') return `psql would read or write a client file or run a program; ${allowed}`;
  if (command === 'i' || command === 'ir' || command === 'include' || command === 'include_relative') return `psql would read another file; ${allowed}`;
  return `not a meta-command pg_dumpall writes; ${allowed}`;
}
