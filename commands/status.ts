import { z } from 'zod';
import type { RecoverCommand } from './types.js';

export const status: RecoverCommand<Record<string, never>> = {
  name: 'status',
  usage: 'status',
  example: '/recover status',
  description: 'Running and recent jobs, with their state and progress.',
  home: 'bot',
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  parse: () => ({}),
  risk: () => 'read-only',
  confirmation: () => null,
  answer: (bot) => bot.showStatus(),
};
