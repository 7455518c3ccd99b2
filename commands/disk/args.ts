/** The words of `/recover disk [--fix [--drop-slot NAME] [--logs-older-than DAYS]]`, the same in Slack and the CLI. */
import { z } from 'zod';
import { RecoverError } from '../../src/errors.js';
import { parseFlags } from '../words.js';

export const DISK_USAGE = 'disk [--fix] [--drop-slot NAME] [--logs-older-than DAYS]';
export const DISK_EXAMPLE = '/recover disk';

/** PostgreSQL's own rule for slot names: lower-case letters, digits and underscores (so never a path). */
const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

export const diskSchema = z.object({
  fix: z.boolean(),
  dropSlot: z.string().regex(SLOT_NAME, 'a replication slot name: lower-case letters, digits and underscores, up to 63').optional(),
  logsOlderThanDays: z.number().int().min(1).max(3650).optional(),
});
export type DiskArgs = z.infer<typeof diskSchema>;

export function diskArgs(tokens: string[]): DiskArgs {
  const hint = `Usage: /recover ${DISK_USAGE}\nExamples: /recover disk, /recover disk --fix, /recover disk --fix --logs-older-than 14`;
  const { positional, flags } = parseFlags(tokens, ['drop-slot', 'logs-older-than']);
  if (positional.length > 0) throw new RecoverError('BAD_INPUT', `\`disk\` takes no words besides its options (got "${positional[0]}").`, { hint });
  const unknown = Object.keys(flags).filter((flag) => !['fix', 'drop-slot', 'logs-older-than'].includes(flag));
  if (unknown.length > 0) throw new RecoverError('BAD_INPUT', `Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`, { hint });
  if (flags.fix !== undefined && flags.fix !== true) throw new RecoverError('BAD_INPUT', '--fix takes no value.', { hint });
  for (const flag of ['drop-slot', 'logs-older-than']) {
    if (flags[flag] === true) throw new RecoverError('BAD_INPUT', `--${flag} needs a value.`, { hint });
    if (flags[flag] !== undefined && flags.fix !== true) throw new RecoverError('BAD_INPUT', `--${flag} is part of a fix: give --fix too (the report alone changes nothing).`, { hint });
  }
  const days = flags['logs-older-than'];
  if (typeof days === 'string' && !/^\d{1,4}$/.test(days)) throw new RecoverError('BAD_INPUT', `--logs-older-than takes a number of days (1–3650), not "${days}".`, { hint });
  const parsed = diskSchema.safeParse({
    fix: flags.fix === true,
    ...(typeof flags['drop-slot'] === 'string' ? { dropSlot: flags['drop-slot'] } : {}),
    ...(typeof days === 'string' ? { logsOlderThanDays: Number(days) } : {}),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path[0] === 'dropSlot' ? '--drop-slot' : '--logs-older-than'}: ${issue.message}`).join('; ');
    throw new RecoverError('BAD_INPUT', `Cannot use these words: ${problems}.`, { hint });
  }
  return parsed.data;
}
