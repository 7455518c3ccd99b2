/**
 * `/recover help [what happened]`: the commands, with an example of each; with a few words
 * ("dropped table", "disk full") the likely scenario and what to run come first
 * (scenarios/table.ts; `/recover scenarios …` adds the expected time to recover).
 */
import { z } from 'zod';
import { RecoverError } from '../src/errors.js';
import type { RecoverCommand } from './types.js';

const schema = z.object({ about: z.string().max(200).optional() }).strict();
type HelpArgs = z.infer<typeof schema>;

function parse(tokens: string[]): HelpArgs {
  const options = tokens.filter((token) => token.startsWith('--'));
  if (options.length > 0) throw new RecoverError('BAD_INPUT', `Unknown option ${options.join(', ')}: help takes only a few words about what happened.`, { hint: 'Example: /recover help dropped table' });
  const about = tokens.join(' ').trim();
  const parsed = schema.safeParse(about ? { about } : {});
  if (!parsed.success) throw new RecoverError('BAD_INPUT', 'Describe what happened in a few words (at most 200 characters).', { hint: 'Example: /recover help dropped table' });
  return parsed.data;
}

export const help: RecoverCommand<HelpArgs> = {
  name: 'help',
  usage: 'help [what happened]',
  example: '/recover help dropped table',
  description: 'List the commands, with an example of each; with a few words about what happened, the likely scenario and what to run first.',
  home: 'bot',
  schema,
  parse,
  risk: () => 'read-only',
  confirmation: () => null,
  answer: (bot, args) => bot.showHelp(args.about),
};
