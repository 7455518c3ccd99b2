import { z } from 'zod';
import { RecoverError } from '../src/errors.js';
import type { RecoverCommand } from './types.js';

const schema = z.object({ jobId: z.uuid() });
type CancelArgs = z.infer<typeof schema>;

export const cancel: RecoverCommand<CancelArgs> = {
  name: 'cancel',
  usage: 'cancel <job id>',
  example: '/recover cancel 6f1c1f0e-3b0a-4a53-9a43-1f4f1d2b9c11',
  description: 'Stop a queued or running job safely (between steps, or inside a long step). In Slack the requester or an approver; in a terminal, an operator with control-DB access (audited with the OS user).',
  home: 'bot',
  schema,
  parse(tokens) {
    const parsed = schema.safeParse({ jobId: tokens[0] });
    if (!parsed.success || tokens.length !== 1) {
      throw new RecoverError('BAD_INPUT', 'Give the id of the job to cancel.', { hint: `Example: ${this.example} — \`/recover jobs\` lists job ids.` });
    }
    return parsed.data;
  },
  risk: () => 'read-only',
  confirmation: () => null,
  answer: (bot, args) => bot.cancelJob(args.jobId),
};
