/**
 * The words of `/recover table …` and `recover table …`. Two forms, two plans:
 *   table <schema.table> (--at <time> | --before-xid N) [--mode …] [--db NAME] [--instance NAME]
 *     restores a side instance to the target and compares the table with production (nothing written);
 *   table <schema.table> --from-instance NAME [--mode …] [--db NAME] [--keep-instance]
 *     writes the side copy into production (destructive: typed confirmation and approval, bound
 *     to the comparison's counts).
 * Modes: `as-new <name>` (the default, as-new `<table>_restored`: a new table beside the live
 * one, the live table untouched; a name that exists in production is refused at planning, so
 * the table's own name is accepted only when production no longer has it — dropped), `missing-rows` (insert rows missing by primary key), `replace`
 * (the contents made equal to the side copy's; refused when other tables' rows would be orphaned).
 */
import { z } from 'zod';
import { RecoverError } from '../src/errors.js';
import { INSTANCE_NAME, parseAtOrBeforeXid, targetSchema } from './pitr-args.js';
import { parseFlags } from './words.js';
import { tableName } from './schemas.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const identifier = z.string().regex(NAME, 'a name: letters, digits, _ or $, up to 63');
const instanceName = z.string().regex(INSTANCE_NAME, 'an instance name: a letter or digit, then letters, digits, - or _, up to 63');

export const modeSchema = z.discriminatedUnion('kind', [z.object({ kind: z.literal('as-new'), name: identifier }), z.object({ kind: z.literal('missing-rows') }), z.object({ kind: z.literal('replace') })]);
export type TableModeArgs = z.infer<typeof modeSchema>;

export const tableSchema = z.object({
  table: tableName,
  /** Restore form: a time (exact text) or just before an xid; null with --from-instance. */
  target: targetSchema.nullable(),
  inclusive: z.boolean(),
  mode: modeSchema,
  /** True when --mode was left out (as-new with the default name). */
  defaultMode: z.boolean(),
  /** --db; null: production's only user database, chosen at planning (chooseDatabase). */
  db: identifier.nullable(),
  instance: instanceName.nullable(),
  fromInstance: instanceName.nullable(),
  keepInstance: z.boolean(),
});
export type TableArgs = z.infer<typeof tableSchema>;

export const TABLE_USAGE = 'table <schema.table> (--at <time with offset> | --before-xid N) [--mode as-new <name> | missing-rows | replace] [--db NAME]   then   table <schema.table> --from-instance NAME [--mode …] [--db NAME] [--keep-instance]';
export const TABLE_EXAMPLE = '/recover table public.workflows --before-xid 73519 --mode as-new workflows_before --db aiagent_prod';

const VALUE_FLAGS = ['at', 'before-xid', 'mode', 'db', 'instance', 'from-instance'] as const;
const BOOLEAN_FLAGS = ['keep-instance'] as const;
const MODES = ['as-new', 'missing-rows', 'replace'];

/** The default as-new name: `<table>_restored`, within PostgreSQL's 63 bytes. */
export function defaultAsNewName(table: string): string {
  return `${table.split('.').at(-1)!.slice(0, 54)}_restored`;
}

export function parseTable(tokens: string[], surface: 'slack' | 'cli' = 'slack'): TableArgs {
  const hint = `Usage: ${surface === 'cli' ? 'recover' : '/recover'} ${TABLE_USAGE}\nExample: ${surface === 'cli' ? TABLE_EXAMPLE.slice(1) : TABLE_EXAMPLE}`;
  const bad = (message: string): never => {
    throw new RecoverError('BAD_INPUT', message, { hint });
  };
  // `--mode as-new <name>`: the name is the word after as-new (taken out before the flags are read).
  const words = [...tokens];
  let asNewName: string | null = null;
  const modeAt = words.findIndex((w) => w === '--mode' || w === '--mode=as-new');
  if (modeAt >= 0) {
    const nameAt = words[modeAt] === '--mode' ? modeAt + 2 : modeAt + 1;
    if ((words[modeAt] !== '--mode' || words[modeAt + 1] === 'as-new') && nameAt < words.length && !words[nameAt]!.startsWith('--')) asNewName = words.splice(nameAt, 1)[0]!;
  }
  const { positional, flags } = parseFlags(words, VALUE_FLAGS);
  const unknown = Object.keys(flags).filter((flag) => !(VALUE_FLAGS as readonly string[]).includes(flag) && !(BOOLEAN_FLAGS as readonly string[]).includes(flag));
  if (unknown.length > 0) bad(`Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`);
  const valueless = VALUE_FLAGS.filter((flag) => flag !== 'before-xid' && flags[flag] === true);
  if (valueless.length > 0) bad(`${valueless.map((f) => `--${f}`).join(', ')} needs a value.`);
  if (typeof flags['keep-instance'] === 'string') bad('--keep-instance takes no value.');
  const [table, ...rest] = positional;
  if (table === undefined) bad('Name the table to restore, e.g. public.workflows.');
  const mode = typeof flags.mode === 'string' ? flags.mode : null;
  if (mode !== null && !MODES.includes(mode)) bad(`--mode is one of ${MODES.join(', ')} (not "${mode}").`);
  if (mode === 'as-new' && asNewName === null) bad('--mode as-new needs the new table\'s name: --mode as-new <name>.');
  const fromInstance = typeof flags['from-instance'] === 'string' ? flags['from-instance'] : null;
  // "2025-01-15 14:29:59+00:00" arrives as two words: join them as pitr does.
  const atWords = [...(typeof flags.at === 'string' ? [flags.at] : []), ...rest];
  let target: TableArgs['target'] = null;
  let inclusive = true;
  if (fromInstance !== null) {
    if (atWords.length > 0 || flags['before-xid'] !== undefined) bad('--from-instance writes from a side instance already restored: it takes no --at or --before-xid.');
    if (flags.instance !== undefined) bad('--instance names a new side instance; with --from-instance give only that one.');
  } else {
    if (flags['keep-instance']) bad('--keep-instance goes with --from-instance (the restore step always keeps its side instance).');
    ({ target, inclusive } = parseAtOrBeforeXid(flags, atWords, hint, 'Give the target: --at <time with offset> or --before-xid N (or --from-instance NAME to write from a side instance restored earlier).'));
  }
  const parsed = tableSchema.safeParse({
    table,
    target,
    inclusive,
    mode: mode === 'missing-rows' || mode === 'replace' ? { kind: mode } : { kind: 'as-new', name: asNewName ?? defaultAsNewName(table!) },
    defaultMode: mode === null,
    db: typeof flags.db === 'string' ? flags.db : null,
    instance: typeof flags.instance === 'string' ? flags.instance : null,
    fromInstance,
    keepInstance: flags['keep-instance'] === true,
  });
  if (!parsed.success) bad(`Cannot use these words: ${parsed.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}.`);
  return parsed.data!;
}

/** The words of the follow-up that writes the side copy (plan 2), for people to copy. */
export function modeWords(mode: TableModeArgs): string {
  return mode.kind === 'as-new' ? `--mode as-new ${mode.name}` : `--mode ${mode.kind}`;
}
