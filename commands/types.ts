/**
 * What a /recover subcommand is. One file per subcommand in this folder; `index.ts` lists
 * them. `plan()` is pure: the runner gathers the facts (the backup catalog, the time) and
 * calls it; the bot only shows the result, because the bot holds no storage credentials.
 */
import type { z } from 'zod';
import type { Catalog } from '../src/storage/catalog.js';
import type { Plan, Risk } from '../src/types.js';

export interface PlanFacts {
  catalog: Catalog;
  now: Date;
  /** The production cluster this runner pool serves, as people name it (e.g. aiagent_prod). */
  production: { name: string };
}

/** Where a command is answered: by the bot from the control DB, or planned and run by a runner. */
export type CommandHome = 'bot' | 'runner';

export interface RecoverCommand<Args = unknown> {
  name: string;
  /** One line, shown in help and in refusals: `pitr <time with offset> [--db NAME] …`. */
  usage: string;
  /** A correct, copyable example: `/recover pitr 2025-01-15T14:29:59+00:00`. */
  example: string;
  description: string;
  home: CommandHome;
  schema: z.ZodType<Args>;
  /** Text after the subcommand → validated args; throws RecoverError('BAD_INPUT') naming the fix. */
  parse(tokens: string[]): Args;
  risk(args: Args): Risk;
  /** For destructive commands: the exact text the requester must type to confirm, else null. */
  confirmation(args: Args, facts: { production: { name: string } }): string | null;
  plan?(args: Args, facts: PlanFacts): Plan;
}

export interface ParsedFlags {
  positional: string[];
  flags: Record<string, string | true>;
}

/** Splits Slack text into words; "double" or 'single' quotes keep spaces. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const match of text.matchAll(pattern)) tokens.push(match[1] ?? match[2] ?? match[3]!);
  return tokens;
}

/** `--flag value`, `--flag=value` and bare `--flag`; everything else is positional. */
export function parseFlags(tokens: string[], valueFlags: readonly string[]): ParsedFlags {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!token.startsWith('--')) {
      positional.push(token);
      continue;
    }
    const [name, inline] = token.slice(2).split('=', 2) as [string, string | undefined];
    if (inline !== undefined) flags[name] = inline;
    else if (valueFlags.includes(name) && i + 1 < tokens.length && !tokens[i + 1]!.startsWith('--')) flags[name] = tokens[++i]!;
    else flags[name] = true;
  }
  return { positional, flags };
}
