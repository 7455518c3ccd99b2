/** Words of `/recover <name> …` and `recover <name> …`: one tokenizer and one flag reader for both. */
import { RecoverError } from '../src/errors.js';
import type { CliOptions } from './types.js';

export interface ParsedFlags {
  positional: string[];
  flags: Record<string, string | true>;
  /** Every value of a repeatable flag, in order (`--db a --db b`, `--db a,b`, `--db a b`). */
  lists: Record<string, string[]>;
}

/** Splits Slack text into words; "double" or 'single' quotes keep spaces. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const match of text.matchAll(pattern)) tokens.push(match[1] ?? match[2] ?? match[3]!);
  return tokens;
}

/**
 * `--flag value`, `--flag=value` and bare `--flag`; everything else is positional. A flag in
 * `listFlags` may be repeated, take comma-separated values, and take the following words up to
 * the next `--option` or a word starting with a digit (a time: `--db a b 2025-01-15T…`).
 * A value flag given twice (`--port 1 --port 2`) is refused rather than silently picking one.
 */
export function parseFlags(tokens: string[], valueFlags: readonly string[], listFlags: readonly string[] = []): ParsedFlags {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  const lists: Record<string, string[]> = {};
  const set = (name: string, value: string | true) => {
    if (name in flags && !listFlags.includes(name)) throw new RecoverError('BAD_INPUT', `--${name} is given more than once.`, { hint: `Give --${name} once.` });
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

/**
 * The CLI words of a command without CLI-only words of its own: `--json` and `--dry-run` (or
 * those it accepts) are taken out (bare, anywhere), the rest goes to the Slack parser, which
 * refuses them in Slack.
 */
export function withCommonCliFlags<Args>(
  parse: (tokens: string[]) => Args,
  tokens: string[],
  accepted: readonly ('--json' | '--dry-run')[] = ['--json', '--dry-run'],
): { args: Args; cli: CliOptions } {
  const rest = tokens.filter((token) => !(accepted as readonly string[]).includes(token));
  return { args: parse(rest), cli: { json: accepted.includes('--json') && tokens.includes('--json'), dryRun: accepted.includes('--dry-run') && tokens.includes('--dry-run') } };
}
