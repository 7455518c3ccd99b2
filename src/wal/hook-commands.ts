/**
 * The archive_command / restore_command lines that point PostgreSQL at the WAL agent's hook.
 * Two layers of quoting meet here: the command is run by /bin/sh (paths with spaces or
 * quotes need shell quoting) and it is the value of a postgresql.conf setting, itself
 * single-quoted (a single quote inside must be doubled). PostgreSQL also expands % in these
 * commands (%p, %f, %%), so a literal % in a path is written %%.
 */
import { confQuote, shellQuote } from '../util/quote.js';

/** One shell word: left bare when it is plainly safe (easier to read), else single-quoted. */
function shellWord(value: string): string {
  const word = /^[\w./:@+=,-]+$/.test(value) ? value : shellQuote(value);
  return word.replace(/%/g, '%%');
}

export interface HookCommands {
  /** The values as PostgreSQL should hold them (what `SHOW archive_command` prints). */
  archiveCommand: string;
  restoreCommand: string;
  /** Exactly the lines to paste into postgresql.conf. */
  confLines: string[];
}

export function hookCommands(input: { nodePath: string; hookPath: string; socketPath: string }): HookCommands {
  const hook = `${shellWord(input.nodePath)} ${shellWord(input.hookPath)}`;
  const socket = shellWord(input.socketPath);
  const archiveCommand = `${hook} push ${socket} "%p" "%f"`;
  const restoreCommand = `${hook} fetch ${socket} "%f" "%p"`;
  return {
    archiveCommand,
    restoreCommand,
    confLines: [`archive_command = ${confQuote(archiveCommand)}`, `restore_command = ${confQuote(restoreCommand)}`],
  };
}
