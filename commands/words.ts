/** Words of `/recover <name> …` and `recover <name> …`: one tokenizer and one flag reader for both. */
import { RecoverError } from '../src/errors.js';
import type { CliOptions } from './types.js';

export interface ParsedFlags {
  positional: string[];
  flags: Record<string, string | true>;
  /** Every value of a repeatable flag, in order (`--db a --db b`, `--db a,b`, `--db a b`). */
  lists: Record<string, string[]>;
}

/**
 * Quotes as phones and Macs type them read as the ASCII quotes people meant: “double”, „low“,
 * ‟reversed‟, «guillemets» and the double prime as ", ‘single’, ‚low‘, ‹guillemets› and the
 * prime as '. In the whole text, not only around words, so `--where “status = ‘done’”` is one word
 * holding the SQL string 'done'. Unicode spaces (no-break, thin, as French typing puts inside
 * « ») read as spaces, and `—at` as `--at`. For Slack and the CLI alike (tokenize, cliWords).
 * The cost: a filter cannot match a value holding one of these quotes or spaces.
 */
const DOUBLE_QUOTES = /[\u201C\u201D\u201E\u201F\u2033\u2036\u00AB\u00BB\uFF02\u301D\u301E\u301F]/g;
const SINGLE_QUOTES = /[\u2018\u2019\u201A\u201B\u2032\u2035\u2039\u203A\uFF07]/g;
const UNICODE_SPACES = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
/** The same keyboards turn `--` into an em or en dash: starting a word, before a letter, it was an option. */
const DASHED_OPTION = /(^|\s)[\u2013\u2014](?=[A-Za-z])/g;

export function normalizeTyped(text: string): string {
  return text.replace(DOUBLE_QUOTES, '"').replace(SINGLE_QUOTES, "'").replace(UNICODE_SPACES, ' ').replace(DASHED_OPTION, '$1--');
}

/**
 * Splits Slack text into words after normalizeTyped; "double" or 'single' quotes keep spaces,
 * also after a flag's `=` (`--where="user_id = 1"`). An apostrophe inside a word stays in it.
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const pattern = /(--[A-Za-z][\w-]*=)?(?:"([^"]*)"|'([^']*)')|(\S+)/g;
  for (const match of normalizeTyped(text).matchAll(pattern)) tokens.push(match[4] ?? `${match[1] ?? ''}${match[2] ?? match[3]!}`);
  return tokens;
}

const isQuote = (c: string | undefined, kind: '"' | "'"): boolean => c !== undefined && normalizeTyped(c) === kind && c !== kind;

/**
 * The recover CLI's words as Slack's would be: a shell takes only ASCII quotes as quotes, so
 * `--where “user_id = 12345”` reaches argv as three words. Words from one opening curly quote to
 * the word ending in its closing one are joined again (the quotes dropped), then every word is
 * normalized as tokenize() does. ASCII quotes the shell left in a word stay as they are.
 */
export function cliWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const prefix = /^--[A-Za-z][\w-]*=/.exec(word)?.[0] ?? '';
    const opening = word[prefix.length];
    const kind = isQuote(opening, '"') ? '"' : isQuote(opening, "'") ? "'" : null;
    const closes = (w: string, from: number) => w.length > from && isQuote(w.at(-1), kind!);
    let end = i;
    if (kind !== null && !closes(word, prefix.length + 1)) {
      while (end + 1 < argv.length && !closes(argv[end + 1]!, 0)) end++;
      end = end + 1 < argv.length ? end + 1 : i; // never closed: the words stay apart, as in Slack
    }
    if (kind !== null && (end > i || closes(word, prefix.length + 1))) {
      const joined = argv.slice(i, end + 1).join(' ');
      words.push(normalizeTyped(`${prefix}${joined.slice(prefix.length + 1, -1)}`));
      i = end;
    } else {
      words.push(normalizeTyped(word));
    }
  }
  return words;
}

/**
 * `--flag value`, `--flag=value` and bare `--flag`; everything else is positional. A flag in
 * `listFlags` may be repeated, take comma-separated values, and take the following words up to
 * the next `--option` or a word starting with a digit (a time: `--db a b 2025-01-15T…`).
 * A value flag given twice (`--port 1 --port 2`) is refused rather than silently picking one.
 */
export function parseFlags(tokens: string[], valueFlags: readonly string[], listFlags: readonly string[] = []): ParsedFlags {
  const positional: string[] = [];
  // No prototype: `--constructor` or `--__proto__` are unknown options, not inherited keys.
  const flags: Record<string, string | true> = Object.create(null);
  const lists: Record<string, string[]> = Object.create(null);
  const set = (name: string, value: string | true) => {
    if (Object.hasOwn(flags, name) && !listFlags.includes(name)) throw new RecoverError('BAD_INPUT', `--${name} is given more than once.`, { hint: `Give --${name} once.` });
    flags[name] = value;
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.startsWith('--')) {
      positional.push(token);
      continue;
    }
    const equals = token.indexOf('=');
    const name = equals < 0 ? token.slice(2) : token.slice(2, equals);
    const inline = equals < 0 ? undefined : token.slice(equals + 1);
    if (listFlags.includes(name)) {
      const words: string[] = [];
      if (inline !== undefined) words.push(inline);
      else while (i + 1 < tokens.length && !tokens[i + 1]!.startsWith('--') && !/^\d/.test(tokens[i + 1]!)) words.push(tokens[++i]!);
      // `--db` with nothing after it is kept as one empty value, for the schema to refuse.
      (lists[name] ??= []).push(...(words.length === 0 ? [''] : words.flatMap((word) => word.split(','))));
      flags[name] = true;
    } else if (inline !== undefined) set(name, inline);
    else if (valueFlags.includes(name) && i + 1 < tokens.length && !tokens[i + 1]!.startsWith('--')) set(name, tokens[++i]!);
    else set(name, true);
  }
  return { positional, flags, lists };
}

/** The CLI-only words every command may take; each declares which (read-only ones: --json alone). */
export type CommonCliFlag = '--json' | '--dry-run' | '--confirm';

/**
 * The CLI words of a command without CLI-only words of its own: `--json` and `--dry-run` (or
 * those it accepts) are taken out (bare, anywhere), and `--confirm NAME` (or `--confirm=NAME`)
 * with its value; the rest goes to the Slack parser, which refuses them in Slack.
 */
export function withCommonCliFlags<Args>(
  parse: (tokens: string[]) => Args,
  tokens: string[],
  accepted: readonly CommonCliFlag[] = ['--json', '--dry-run', '--confirm'],
): { args: Args; cli: CliOptions } {
  const { rest: words, confirm } = accepted.includes('--confirm') ? takeConfirm(tokens) : { rest: tokens, confirm: undefined };
  const rest = words.filter((token) => !(accepted as readonly string[]).includes(token));
  const cli: CliOptions = { json: accepted.includes('--json') && words.includes('--json'), dryRun: accepted.includes('--dry-run') && words.includes('--dry-run') };
  return { args: parse(rest), cli: confirm === undefined ? cli : { ...cli, confirm } };
}

const CONFIRM_HINT = 'Review the plan with --dry-run, then give --confirm <production name> (the name the plan asks for).';

/** `--confirm NAME` or `--confirm=NAME`, at most once, taken out of the words; a missing value is refused, never read as "not given". */
export function takeConfirm(tokens: readonly string[]): { rest: string[]; confirm: string | undefined } {
  const rest: string[] = [];
  let confirm: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    let value: string | undefined;
    if (token === '--confirm') {
      const next = tokens[i + 1];
      value = next === undefined || next.startsWith('--') ? '' : next;
      if (value !== '') i++;
    } else if (token.startsWith('--confirm=')) value = token.slice('--confirm='.length);
    else {
      rest.push(token);
      continue;
    }
    if (value === '') throw new RecoverError('BAD_INPUT', '--confirm needs the production name.', { hint: CONFIRM_HINT });
    if (confirm !== undefined) throw new RecoverError('BAD_INPUT', '--confirm is given more than once.', { hint: 'Give --confirm once.' });
    confirm = value;
  }
  return { rest, confirm };
}
