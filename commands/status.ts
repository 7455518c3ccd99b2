/**
 * `/recover status [<job id>]` and `recover status [<job id>]`: one job as its status message
 * shows it (state, steps, progress, integrity, error, who asked and approved, a cancel asked
 * for, a runner gone quiet); without an id, the jobs list (as `jobs`).
 */
import { z } from 'zod';
import { RecoverError } from '../src/errors.js';
import { parseJobsWords } from './jobs.js';
import type { RecoverCommand } from './types.js';

const schema = z.union([z.object({ jobId: z.uuid() }), z.object({ all: z.boolean() })]);
type StatusArgs = z.infer<typeof schema>;

const USAGE = 'status [<job id>]';
const EXAMPLE = '/recover status 6f1c1f0e-3b0a-4a53-9a43-1f4f1d2b9c11';

export const status: RecoverCommand<StatusArgs> = {
  name: 'status',
  usage: USAGE,
  example: EXAMPLE,
  description: 'One job: its state, steps, progress, integrity, error and who asked; without a job id, the running and recent jobs.',
  home: 'bot',
  schema,
  parse(tokens) {
    const ids = tokens.filter((token) => !token.startsWith('--'));
    if (ids.length === 0) return parseJobsWords(tokens, USAGE, EXAMPLE);
    const hint = `Example: ${EXAMPLE} — \`/recover jobs\` lists job ids.`;
    if (tokens.length !== 1) throw new RecoverError('BAD_INPUT', '`status` takes one job id, or nothing for the jobs list.', { hint });
    const parsed = z.uuid().safeParse(ids[0]);
    if (!parsed.success) throw new RecoverError('BAD_INPUT', `"${ids[0]}" is not a job id.`, { hint });
    return { jobId: parsed.data };
  },
  risk: () => 'read-only',
  confirmation: () => null,
  answer: (bot, args) => ('jobId' in args ? bot.showJob(args.jobId) : bot.listJobs(args)),
};
