/** The /recover subcommands. Adding one = one file + one line here. */
import { backups } from './backups.js';
import { cancel } from './cancel.js';
import { help } from './help.js';
import { pitr } from './pitr.js';
import { status } from './status.js';
import type { RecoverCommand } from './types.js';

export const COMMANDS: readonly RecoverCommand<any>[] = [help, pitr, backups, status, cancel];

export function findCommand(name: string): RecoverCommand<any> | undefined {
  return COMMANDS.find((command) => command.name === name);
}

export type { PlanFacts, RecoverCommand } from './types.js';
export { tokenize } from './types.js';
