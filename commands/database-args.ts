/**
 * The words of `/recover database …` and `recover database …`. Two forms, two plans:
 *   database <db> (--at <time with offset> | --before-xid N) [--jobs N] [--instance NAME]
 *     restores a side instance to the target and copies <db> from it into a NEW database
 *     <db>_restored_<stamp> on production (existing databases untouched);
 *   database <db> --swap <db>_restored_<stamp>
 *     the rename swap (destructive: typed confirmation and approval): <db> → <db>_before_<stamp>,
 *     the copy → <db>; the old database is kept.
 */
import { z } from 'zod';
import { RecoverError } from '../src/errors.js';
import { INSTANCE_NAME, parseAtOrBeforeXid, targetSchema } from './pitr-args.js';
import { parseFlags } from './words.js';
import { commandLine, forSurface, type Surface } from './surface.js';

/** Room for `_restored_` + a 14-digit stamp within PostgreSQL's 63 characters. */
export const DATABASE_NAME_MAX = 63 - '_restored_'.length - 14;
const identifier = z.string().regex(new RegExp(`^[A-Za-z_][A-Za-z0-9_$]{0,${DATABASE_NAME_MAX - 1}}$`), `a database name: letters, digits, _ or $, up to ${DATABASE_NAME_MAX} (the copy's name adds _restored_<stamp>)`);
const copyName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a database name');

export const databaseSchema = z.object({
  db: identifier,
  /** Copy form: the recovery target (a time, or just before a transaction); null with --swap. */
  target: targetSchema.nullable(),
  inclusive: z.boolean(),
  /** Swap form: the verified copy to swap in. */
  swap: copyName.nullable(),
  jobs: z.number().int().min(1).max(16),
  instance: z.string().regex(INSTANCE_NAME, 'an instance name: a letter or digit, then letters, digits, - or _').nullable(),
});
export type DatabaseArgs = z.infer<typeof databaseSchema>;

export const DATABASE_USAGE = 'database <db> (--at <time with offset> | --before-xid N) [--jobs N]   then   database <db> --swap <db>_restored_<stamp>';
export const DATABASE_EXAMPLE = '/recover database aiagent_prod --at 2025-01-15T14:29:59+00:00';

/** `20250115142959`: the UTC second, for the copy's and the old database's names. */
export function nameStamp(now: Date): string {
  return now.toISOString().replace(/\D/g, '').slice(0, 14);
}

export const restoredName = (db: string, now: Date) => `${db}_restored_${nameStamp(now)}`;
export const beforeName = (db: string, now: Date) => `${db}_before_${nameStamp(now)}`;

/**
 * The name the old database is kept under: `<db>_before_<stamp>`, or with `_2`, `_3` … when a
 * swap in the same second (or a person) already took it. The job checks again before renaming.
 */
export function unusedBeforeName(db: string, now: Date, taken: readonly string[]): string {
  return unusedNames([beforeName(db, now)], taken)[0]!;
}

/**
 * `names` as they are, or all with the same `_2`, `_3` … when any of them is taken (a second run
 * in the same second, or a person): a copy and its `_before_` name keep one suffix (pure).
 */
export function unusedNames(names: readonly string[], taken: readonly string[]): string[] {
  for (let n = 1; ; n++) {
    const candidates = names.map((name) => (n === 1 ? name : `${name}_${n}`));
    if (candidates.every((name) => !taken.includes(name))) return candidates;
  }
}

const VALUE_FLAGS = ['at', 'before-xid', 'swap', 'jobs', 'instance'] as const;

export function parseDatabase(tokens: string[], surface: Surface = 'slack'): DatabaseArgs {
  const hint = `Usage: ${commandLine(surface, DATABASE_USAGE)}\nExample: ${forSurface(DATABASE_EXAMPLE, surface)}`;
  const bad = (message: string): never => {
    throw new RecoverError('BAD_INPUT', message, { hint });
  };
  const { positional, flags } = parseFlags(tokens, VALUE_FLAGS);
  const unknown = Object.keys(flags).filter((flag) => !(VALUE_FLAGS as readonly string[]).includes(flag));
  if (unknown.length > 0) bad(`Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`);
  const valueless = VALUE_FLAGS.filter((flag) => flags[flag] === true && flag !== 'before-xid');
  if (valueless.length > 0) bad(`${valueless.map((f) => `--${f}`).join(', ')} needs a value.`);
  const [db, ...rest] = positional;
  if (db === undefined) bad('Name the database to restore, e.g. /recover database aiagent_prod --at 2025-01-15T14:29:59+00:00.');
  // "2025-01-15 14:29:59+00:00" arrives as two words: join them as pitr does.
  const atWords = [...(typeof flags.at === 'string' ? [flags.at] : []), ...rest];
  const swap = typeof flags.swap === 'string' ? flags.swap : null;
  let target: DatabaseArgs['target'] = null;
  let inclusive = true;
  if (swap !== null) {
    const others = ['at', 'before-xid', 'jobs', 'instance'].filter((flag) => flags[flag] !== undefined);
    if (atWords.length > 0 || others.length > 0) bad(`--swap swaps in a copy already restored: it takes no ${atWords.length > 0 && !others.includes('at') ? 'time' : others.map((f) => `--${f}`).join(', ')}.`);
    if (!swap.startsWith(`${db}_restored_`) || !/^\d{14}$/.test(swap.slice(`${db}_restored_`.length))) bad(`--swap takes the copy /recover database ${db} made: ${db}_restored_<stamp>, e.g. ${db}_restored_20250115143502.`);
  } else {
    ({ target, inclusive } = parseAtOrBeforeXid(flags, atWords, hint, 'Give the target with --at <time with offset> or --before-xid N (or --swap NAME to swap in a copy made earlier).'));
  }
  const jobsText = flags.jobs;
  const parsed = databaseSchema.safeParse({
    db,
    target,
    inclusive,
    swap,
    jobs: typeof jobsText === 'string' ? (/^\d{1,2}$/.test(jobsText) ? Number(jobsText) : jobsText) : 4,
    instance: typeof flags.instance === 'string' ? flags.instance : null,
  });
  if (!parsed.success) bad(`Cannot use these words: ${parsed.error!.issues.map((issue) => `${issue.path[0] === 'db' ? 'database' : `--${String(issue.path[0])}`}: ${issue.message}`).join('; ')}.`);
  return parsed.data!;
}
