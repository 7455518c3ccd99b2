/**
 * The words of `/recover dump …` and `recover dump …` (the same on both):
 *   dump <db> [--from <stamp>|<blob path>.dump] [--as NAME] [--jobs N] [--no-owner]
 * restores a stored logical dump of <db> (the newest, or the one taken at <stamp>) as a NEW
 * database on production: `<db>_restored_<stamp>` by default, or NAME; never over an existing one.
 */
import { z } from 'zod';
import { FOREIGN_DUMP_PATH } from '../../src/engine/dumps/foreign.js';
import { RecoverError } from '../../src/errors.js';
import { DATABASE_NAME_MAX } from '../database-args.js';
import { commandLine, forSurface, type Surface } from '../surface.js';
import { parseFlags } from '../words.js';

const identifier = z.string().regex(new RegExp(`^[A-Za-z_][A-Za-z0-9_$]{0,${DATABASE_NAME_MAX - 1}}$`), `a database name: letters, digits, _ or $, up to ${DATABASE_NAME_MAX} (the copy's name adds _restored_<stamp>)`);

export const dumpSchema = z.object({
  db: identifier,
  /** The dump's stamp (UTC second, 14 digits), or the blob path of a foreign `pg_dump -Fc` file in the dumps container; null: the newest. */
  from: z.union([z.string().regex(/^\d{14}$/), z.string().regex(FOREIGN_DUMP_PATH)], { message: 'a dump stamp (14 digits, as recover backups lists them, e.g. 20250115142959) or the path of a .dump blob in the dumps container, e.g. legacy/app.dump' }).nullable(),
  as: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a database name: letters, digits, _ or $, up to 63').nullable(),
  jobs: z.number().int().min(1).max(16),
  noOwner: z.boolean(),
});
export type DumpArgs = z.infer<typeof dumpSchema>;

export const DUMP_USAGE = 'dump <db> [--from <stamp>|<blob path>.dump] [--as NAME] [--jobs N] [--no-owner]';
export const DUMP_EXAMPLE = '/recover dump aiagent_prod --jobs 4';

const VALUE_FLAGS = ['from', 'as', 'jobs'] as const;
const SWITCHES = ['no-owner'] as const;

export function parseDump(tokens: string[], surface: Surface = 'slack'): DumpArgs {
  const hint = `Usage: ${commandLine(surface, DUMP_USAGE)}\nExample: ${forSurface(DUMP_EXAMPLE, surface)}`;
  const bad = (message: string): never => {
    throw new RecoverError('BAD_INPUT', message, { hint });
  };
  const { positional, flags } = parseFlags(tokens, VALUE_FLAGS);
  const known: readonly string[] = [...VALUE_FLAGS, ...SWITCHES];
  const unknown = Object.keys(flags).filter((flag) => !known.includes(flag));
  if (unknown.length > 0) bad(`Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`);
  const valueless = VALUE_FLAGS.filter((flag) => flags[flag] === true);
  if (valueless.length > 0) bad(`${valueless.map((f) => `--${f}`).join(', ')} needs a value.`);
  if (typeof flags['no-owner'] === 'string') bad('--no-owner takes no value.');
  const [db, ...rest] = positional;
  if (db === undefined) bad(`Name the database whose dump to restore, e.g. ${forSurface(DUMP_EXAMPLE, surface)}.`);
  if (rest.length > 0) bad(`Unexpected words: ${rest.join(' ')}.`);
  const jobsText = flags.jobs;
  const parsed = dumpSchema.safeParse({
    db,
    from: typeof flags.from === 'string' ? flags.from : null,
    as: typeof flags.as === 'string' ? flags.as : null,
    jobs: typeof jobsText === 'string' ? (/^\d{1,2}$/.test(jobsText) ? Number(jobsText) : jobsText) : 2,
    noOwner: flags['no-owner'] === true,
  });
  if (!parsed.success) bad(`Cannot use these words: ${parsed.error!.issues.map((issue) => `${issue.path[0] === 'db' ? 'database' : `--${String(issue.path[0])}`}: ${issue.message}`).join('; ')}.`);
  return parsed.data!;
}
