/**
 * `/recover help [what happened]`: the commands, with an example of each; with a few words
 * ("dropped table", "disk full") the likely scenario and what to run come first
 * (scenarios/table.ts; `/recover scenarios …` adds the expected time to recover).
 */
import { aboutSchema, parseAbout, type AboutArgs } from './scenarios/table.js';
import type { RecoverCommand } from './types.js';

export const help: RecoverCommand<AboutArgs> = {
  name: 'help',
  usage: 'help [what happened]',
  example: '/recover help dropped table',
  description: 'List the commands, with an example of each; with a few words about what happened, the likely scenario and what to run first.',
  home: 'bot',
  schema: aboutSchema,
  parse: (tokens) => parseAbout(tokens, 'help'),
  risk: () => 'read-only',
  confirmation: () => null,
  answer: (bot, args) => bot.showHelp(args.about),
};
