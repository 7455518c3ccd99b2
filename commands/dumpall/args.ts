/**
 * The words of `/recover dumpall …` and `recover dumpall …` (the same on both):
 *   dumpall <stamp|blob path> --to <server> [--rename-suffix S] [--jobs N]
 * restores every database of one dump-backup run (its stamp) and the run's roles and tablespaces,
 * or everything a foreign pg_dumpall file in the dumps container holds (its blob path, .sql,
 * .sql.gz or .sql.zst), onto <server>: `production` (only with --rename-suffix) or a running side
 * instance's name.
 */
import { z } from 'zod';
import { FOREIGN_DUMPALL_PATH } from '../../src/engine/dumps/dumpall-blob.js';
import { RecoverError } from '../../src/errors.js';
import { commandLine, forSurface, type Surface } from '../surface.js';
import { parseFlags } from '../words.js';

export const dumpallSchema = z.object({
  /** A dump run's stamp, or the blob path of a foreign pg_dumpall file in the dumps container. */
  source: z.union([z.string().regex(/^\d{14}$/), z.string().regex(FOREIGN_DUMPALL_PATH)], { message: 'a dump stamp (14 digits, as recover backups lists them, e.g. 20250115142959) or the path of a pg_dumpall file in the dumps container (.sql, .sql.gz or .sql.zst), e.g. legacy/cluster.sql.gz' }),
  to: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'production, or the name of a running side instance'),
  /** Appended to every database's name; null: the dumped names. */
  renameSuffix: z.string().regex(/^[A-Za-z0-9_$]{1,20}$/, 'letters, digits, _ or $, up to 20').nullable(),
  jobs: z.number().int().min(1).max(16),
});
export type DumpallArgs = z.infer<typeof dumpallSchema>;

export const DUMPALL_USAGE = 'dumpall <stamp|blob path> --to <production|side instance> [--rename-suffix S] [--jobs N]';
export const DUMPALL_EXAMPLE = '/recover dumpall 20250115142959 --to pitr-20250115T142959Z-3f2a9c1e';

const VALUE_FLAGS = ['to', 'rename-suffix', 'jobs'] as const;

export function parseDumpall(tokens: string[], surface: Surface = 'slack'): DumpallArgs {
  const hint = `Usage: ${commandLine(surface, DUMPALL_USAGE)}\nExample: ${forSurface(DUMPALL_EXAMPLE, surface)}`;
  const bad = (message: string): never => {
    throw new RecoverError('BAD_INPUT', message, { hint });
  };
  const { positional, flags } = parseFlags(tokens, VALUE_FLAGS);
  const unknown = Object.keys(flags).filter((flag) => !(VALUE_FLAGS as readonly string[]).includes(flag));
  if (unknown.length > 0) bad(`Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`);
  const valueless = VALUE_FLAGS.filter((flag) => flags[flag] === true);
  if (valueless.length > 0) bad(`${valueless.map((f) => `--${f}`).join(', ')} needs a value.`);
  const [source, ...rest] = positional;
  if (source === undefined) bad(`Name the dump run (its stamp, as recover backups lists it) or a pg_dumpall file's blob path, e.g. ${forSurface(DUMPALL_EXAMPLE, surface)}.`);
  if (rest.length > 0) bad(`Unexpected words: ${rest.join(' ')}.`);
  if (typeof flags.to !== 'string') bad('Say where to: --to production (with --rename-suffix) or --to <side instance>.');
  const jobsText = flags.jobs;
  const parsed = dumpallSchema.safeParse({
    source,
    to: flags.to,
    renameSuffix: typeof flags['rename-suffix'] === 'string' ? flags['rename-suffix'] : null,
    jobs: typeof jobsText === 'string' ? (/^\d{1,2}$/.test(jobsText) ? Number(jobsText) : jobsText) : 2,
  });
  if (!parsed.success) bad(`Cannot use these words: ${parsed.error!.issues.map((issue) => `${issue.path[0] === 'source' ? 'source' : `--${String(issue.path[0]).replace('renameSuffix', 'rename-suffix')}`}: ${issue.message}`).join('; ')}.`);
  return parsed.data!;
}
