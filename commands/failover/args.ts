/** The words of `/recover failover [--accept-data-loss DURATION] [--primary-unreachable]`, the same in Slack and the CLI. */
import { z } from 'zod';
import { parseDuration } from '../../src/engine/failover/lag.js';
import { RecoverError } from '../../src/errors.js';
import { parseFlags } from '../words.js';

export const FAILOVER_USAGE = 'failover [--accept-data-loss DURATION] [--primary-unreachable]';
export const FAILOVER_EXAMPLE = '/recover failover';

export const failoverSchema = z.object({
  /** Seconds of apply lag people accept losing sight of when the standby is still behind at the deadline; absent: refused then. */
  acceptDataLossSeconds: z.number().int().min(1).max(7 * 86_400).optional(),
  /** The old primary can be neither reached nor fenced: people checked it is gone and will not come back writable. */
  primaryUnreachable: z.boolean(),
});
export type FailoverArgs = z.infer<typeof failoverSchema>;

const FLAGS = ['accept-data-loss', 'primary-unreachable'];

export function failoverArgs(tokens: string[]): FailoverArgs {
  const hint = `Usage: /recover ${FAILOVER_USAGE}\nExamples: /recover failover, /recover failover --primary-unreachable, /recover failover --accept-data-loss 10m`;
  const { positional, flags } = parseFlags(tokens, ['accept-data-loss']);
  if (positional.length > 0) throw new RecoverError('BAD_INPUT', `\`failover\` takes no words besides its options (got "${positional[0]}").`, { hint });
  const unknown = Object.keys(flags).filter((flag) => !FLAGS.includes(flag));
  if (unknown.length > 0) throw new RecoverError('BAD_INPUT', `Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`, { hint });
  if (flags['primary-unreachable'] !== undefined && flags['primary-unreachable'] !== true) throw new RecoverError('BAD_INPUT', '--primary-unreachable takes no value.', { hint });
  const loss = flags['accept-data-loss'];
  if (loss === true) throw new RecoverError('BAD_INPUT', '--accept-data-loss needs the apply lag you accept, e.g. --accept-data-loss 10m (seconds, or with s, m or h).', { hint });
  const seconds = typeof loss === 'string' ? parseDuration(loss) : undefined;
  if (seconds === null || seconds === 0) throw new RecoverError('BAD_INPUT', `--accept-data-loss takes a duration such as 300, 5m or 1h, not "${loss}".`, { hint });
  const parsed = failoverSchema.safeParse({ primaryUnreachable: flags['primary-unreachable'] === true, ...(seconds !== undefined ? { acceptDataLossSeconds: seconds } : {}) });
  if (!parsed.success) throw new RecoverError('BAD_INPUT', `--accept-data-loss: ${parsed.error.issues[0]?.message ?? 'out of range'} (at most 7 days).`, { hint });
  return parsed.data;
}

/** The confirmation typed: production's name, and with --accept-data-loss the window accepted, so nobody accepts it without reading it. */
export function failoverConfirmation(args: FailoverArgs, production: string): string {
  return args.acceptDataLossSeconds === undefined ? production : `${production}/lose-up-to-${args.acceptDataLossSeconds}s`;
}
