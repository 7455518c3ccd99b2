import { z } from 'zod';
import type { RecoverCommand } from './types.js';

export const help: RecoverCommand<Record<string, never>> = {
  name: 'help',
  usage: 'help',
  example: '/recover help',
  description: 'List the commands, with an example of each.',
  home: 'bot',
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  parse: () => ({}),
  risk: () => 'read-only',
  confirmation: () => null,
  answer: (bot) => bot.showHelp(),
};
