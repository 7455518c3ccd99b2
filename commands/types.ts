/**
 * What a /recover subcommand is. One file per subcommand in this folder; `index.ts` lists
 * them. `plan()` is pure: the runner gathers the facts (the backup catalog, the time) and
 * calls it; the bot only shows the result, because the bot holds no storage credentials.
 */
import type { z } from 'zod';
import type { Catalog } from '../src/catalog/catalog.js';
import { RecoverError } from '../src/errors.js';
import type { Plan, Risk } from '../src/types.js';
import type { EngineContext, PgToolConfig } from '../src/engine/context.js';

export interface PlanFacts {
  catalog: Catalog;
  now: Date;
  /** The production cluster this runner pool serves, as people name it (e.g. aiagent_prod). */
  production: { name: string };
  /** The request being planned (Slack) or a random id (CLI): generated names include it, so they are unique. */
  requestId: string;
  /** Side instance names already taken: the directories under the restore root. */
  instancesInUse: readonly string[];
}

/** What a runner-side plan check may use: the engine's context and PostgreSQL's tools. */
export interface PlanCheckContext {
  engine: EngineContext;
  pg: PgToolConfig;
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
  /**
   * Runner (and CLI) only, before plan(): checks what the catalog cannot tell and is too costly
   * for plan() to read (e.g. the WAL's own contents); throws a refusal, as plan() does, but a
   * more precise one.
   */
  precheck?(ctx: PlanCheckContext, args: Args, facts: PlanFacts): Promise<void>;
}

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
