/** The words of `/recover georestore <new-server-name> [--at <time with offset>]`, the same in Slack and the CLI. */
import { z } from 'zod';
import { RecoverError } from '../../src/errors.js';
import { exactTime } from '../schemas.js';
import { parseFlags } from '../words.js';

export const GEORESTORE_USAGE = 'georestore <new-server-name> [--at <time with offset>]';
export const GEORESTORE_EXAMPLE = '/recover georestore pg-prod-dr1';

/** Azure's rule for a flexible server's name. */
const SERVER_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export const georestoreSchema = z.object({
  server: z.string().regex(SERVER_NAME, 'a flexible server name: 3-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen'),
  /** The point in time restored to; absent: now (the newest the geo-redundant backup holds). */
  at: exactTime.optional(),
});
export type GeorestoreArgs = z.infer<typeof georestoreSchema>;

export function georestoreArgs(tokens: string[]): GeorestoreArgs {
  const hint = `Usage: /recover ${GEORESTORE_USAGE}\nExamples: ${GEORESTORE_EXAMPLE}, /recover georestore pg-prod-dr1 --at 2025-01-15T14:00:00+00:00`;
  const { positional, flags } = parseFlags(tokens, ['at']);
  const unknown = Object.keys(flags).filter((flag) => flag !== 'at');
  if (unknown.length > 0) throw new RecoverError('BAD_INPUT', `Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`, { hint });
  if (positional.length !== 1) throw new RecoverError('BAD_INPUT', positional.length === 0 ? '`georestore` needs the name of the NEW server to create.' : `\`georestore\` takes one server name (got ${positional.join(' ')}).`, { hint });
  if (flags.at === true) throw new RecoverError('BAD_INPUT', '--at needs a time with an offset, e.g. --at 2025-01-15T14:00:00+00:00.', { hint });
  const parsed = georestoreSchema.safeParse({ server: positional[0], ...(typeof flags.at === 'string' ? { at: flags.at } : {}) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RecoverError('BAD_INPUT', `${issue.path[0] === 'at' ? `--at "${flags.at}" is not a time with an offset` : `"${positional[0]}" is not ${issue.message}`}.`, { hint });
  }
  return parsed.data;
}
