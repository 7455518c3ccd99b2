/**
 * `/recover jobs [--all]` and `recover jobs [--all]`: the running and recent jobs of this
 * runner pool (RECOVER_POOL), or of every pool with --all: id, command, state, progress,
 * requester and times. Answered from the control DB by whoever is asked (the bot in Slack,
 * the CLI in a terminal when Slack is down): bot actions, never a job.
 */
import { z } from 'zod';
import { RecoverError } from '../src/errors.js';
import { parseFlags } from './words.js';
import type { RecoverCommand } from './types.js';

const schema = z.object({ all: z.boolean() });
export type JobsArgs = z.infer<typeof schema>;

const USAGE = 'jobs [--all]';
const EXAMPLE = '/recover jobs';

/** `--all` and nothing else: shared with `status` without a job id. */
export function parseJobsWords(tokens: string[], usage: string, example: string): JobsArgs {
  const hint = `Usage: /recover ${usage}\nExample: ${example}`;
  const { positional, flags } = parseFlags(tokens, []);
  const unknown = Object.keys(flags).filter((flag) => flag !== 'all');
  if (unknown.length > 0) throw new RecoverError('BAD_INPUT', `Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`, { hint });
  if (positional.length > 0) throw new RecoverError('BAD_INPUT', `Unexpected words: ${positional.join(' ')}.`, { hint });
  return { all: flags.all === true };
}

export const jobs: RecoverCommand<JobsArgs> = {
  name: 'jobs',
  usage: USAGE,
  example: EXAMPLE,
  description: 'Running and recent jobs of this runner pool (--all: every pool): id, command, state, progress, requester, times.',
  home: 'bot',
  schema,
  parse: (tokens) => parseJobsWords(tokens, USAGE, EXAMPLE),
  risk: () => 'read-only',
  confirmation: () => null,
  answer: (bot, args) => bot.listJobs(args),
};
