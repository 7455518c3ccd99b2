/**
 * The words of `/recover rows …` and `recover rows …`. Two forms, two plans:
 *   rows <table> --where "<filter>" (--at <time> | --before-xid N) [--with-children] [--db NAME] [--instance NAME]
 *     restores a side instance to the time (or to just before transaction N: recovery_target_xid,
 *     exclusive) and shows the preview (nothing written to production);
 *   rows <table> --where "<filter>" --from-instance NAME [--with-children] [--db NAME] [--keep-instance]
 *     copies the missing rows from that side instance into production (destructive: typed
 *     confirmation and approval, bound to the preview's digest).
 */
import { z } from 'zod';
import { parseFilter } from '../src/engine/rows/filter.js';
import { isTargetXid } from '../src/catalog/targets.js';
import { RecoverError } from '../src/errors.js';
import { INSTANCE_NAME, parseAtOrBeforeXid } from './pitr-args.js';
import { parseFlags } from './words.js';
import { databaseName, tableName } from './schemas.js';

const instanceName = z.string().regex(INSTANCE_NAME, 'an instance name: a letter or digit, then letters, digits, - or _, up to 63');

export const rowsSchema = z.object({
  table: tableName,
  where: z.string().min(1).max(4000),
  /** The time to restore the side instance to (exact text, with offset); null with --before-xid or --from-instance. */
  at: z.string().max(64).nullable(),
  /** Restore to just before this transaction (recovery_target_xid, exclusive); null with --at or --from-instance. */
  beforeXid: z.string().regex(/^\d{1,20}$/).refine(isTargetXid, 'a transaction ID recovery can stop at').nullable(),
  withChildren: z.boolean(),
  /** The database holding the table; null when not given: production's only user database is chosen when planning (as locate does). */
  db: databaseName.nullable(),
  /** Restore form: the side instance's name (generated when not given). Apply form: null. */
  instance: instanceName.nullable(),
  /** Apply form: the side instance the rows come from. */
  fromInstance: instanceName.nullable(),
  keepInstance: z.boolean(),
});
export type RowsArgs = z.infer<typeof rowsSchema>;

export const ROWS_USAGE = 'rows <table> --where "<filter>" (--at <time with offset> | --before-xid N) [--with-children] [--db NAME]   then   rows <table> --where "<filter>" --from-instance NAME [--with-children] [--db NAME] [--keep-instance]';
export const ROWS_EXAMPLE = '/recover rows workflows --where "user_id = 12345" --at 2025-01-15T14:29:59+00:00 --with-children --db aiagent_prod';

const VALUE_FLAGS = ['where', 'at', 'before-xid', 'db', 'instance', 'from-instance'] as const;
const BOOLEAN_FLAGS = ['with-children', 'keep-instance'] as const;

export function parseRows(tokens: string[], surface: 'slack' | 'cli' = 'slack'): RowsArgs {
  const hint = `Usage: ${surface === 'cli' ? 'recover' : '/recover'} ${ROWS_USAGE}\nExample: ${surface === 'cli' ? ROWS_EXAMPLE.slice(1) : ROWS_EXAMPLE}`;
  const bad = (message: string): never => {
    throw new RecoverError('BAD_INPUT', message, { hint });
  };
  const { positional, flags } = parseFlags(tokens, VALUE_FLAGS);
  const unknown = Object.keys(flags).filter((flag) => !(VALUE_FLAGS as readonly string[]).includes(flag) && !(BOOLEAN_FLAGS as readonly string[]).includes(flag));
  if (unknown.length > 0) bad(`Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`);
  const valueless = VALUE_FLAGS.filter((flag) => flags[flag] === true);
  if (valueless.length > 0) bad(`${valueless.map((f) => `--${f}`).join(', ')} needs a value.`);
  const withValue = BOOLEAN_FLAGS.filter((flag) => typeof flags[flag] === 'string');
  if (withValue.length > 0) bad(`${withValue.map((f) => `--${f}`).join(', ')} takes no value.`);
  const [table, ...rest] = positional;
  if (table === undefined) bad('Name the table whose rows to restore.');
  if (typeof flags.where !== 'string') bad('Give the rows to restore with --where "<filter>", e.g. --where "user_id = 12345".');
  const fromInstance = typeof flags['from-instance'] === 'string' ? flags['from-instance'] : null;
  // "2025-01-15 14:29:59+00:00" arrives as two words: join them as pitr does.
  const atWords = [...(typeof flags.at === 'string' ? [flags.at] : []), ...rest];
  let at: string | null = null;
  let beforeXid: string | null = null;
  if (fromInstance !== null) {
    if (atWords.length > 0 || flags['before-xid'] !== undefined) bad(`--from-instance copies from a side instance already restored: it takes no ${atWords.length > 0 ? '--at' : '--before-xid'}.`);
    if (flags.instance !== undefined) bad('--instance names a new side instance; with --from-instance give only that one.');
  } else {
    if (flags['keep-instance']) bad('--keep-instance goes with --from-instance (the restore step always keeps its side instance for the copy).');
    // Exactly one target: --before-xid refuses a time beside it (pitr's rule, shared).
    const { target } = parseAtOrBeforeXid(flags, atWords, hint, 'Give the target with --at <time with offset> or --before-xid N (or --from-instance NAME to copy from a side instance restored earlier).');
    if (target.kind === 'xid') beforeXid = target.xid;
    else at = target.time;
  }
  // The filter's grammar is checked now (columns are checked against the catalog when planning).
  parseFilter(flags.where as string);
  const parsed = rowsSchema.safeParse({
    table,
    where: flags.where,
    at,
    beforeXid,
    withChildren: flags['with-children'] === true,
    db: typeof flags.db === 'string' ? flags.db : null,
    instance: typeof flags.instance === 'string' ? flags.instance : null,
    fromInstance,
    keepInstance: flags['keep-instance'] === true,
  });
  if (!parsed.success) bad(`Cannot use these words: ${parsed.error!.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`).join('; ')}.`);
  return parsed.data!;
}
