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

/**
 * The node binary written into the printed lines: the one the postgres user runs on this host.
 * The agent's own `execPath` is wrong when the agent runs elsewhere (a container, nvm under
 * /root): RECOVER_HOOK_NODE when set, else /usr/bin/node when it exists, else the agent's.
 */
export function hookNode(input: { configured?: string; systemNodeExists: boolean; execPath: string }): string {
  return input.configured ?? (input.systemNodeExists ? '/usr/bin/node' : input.execPath);
}

/**
 * How the hook runs `recover` for a direct push when the agent does not answer: the configured
 * RECOVER_HOOK_FALLBACK, else the CLI running the agent when it is a runnable script (the
 * bundle); a JavaScript file is run with the hook's node. Null: no fallback known.
 */
export function fallbackArgv(input: { node: string; configured?: string; self?: string }): string[] | null {
  const path = input.configured ?? (input.self && /\.(m?js|cjs)$/.test(input.self) ? input.self : undefined);
  if (!path) return null;
  return /\.(m?js|cjs)$/.test(path) ? [input.node, path] : [path];
}

/** What `recover wal-agent` prints: the lines to paste and what each needs (restart, env file, readability). */
export function agentBanner(input: { socketPath: string; confLines: string[]; fallback: string[] | null; envFile?: string; unreadable: string[] }): string {
  const lines = [
    `WAL agent listening on ${input.socketPath}`,
    '# Paste into postgresql.conf. archive_mode = on takes effect only after a RESTART of PostgreSQL',
    '# (pg_ctl restart, systemctl restart postgresql@15-main), not a reload; once it is on, changing',
    '# archive_command or restore_command needs only a reload (SELECT pg_reload_conf()).',
    'archive_mode = on',
    ...input.confLines,
  ];
  if (input.fallback) {
    const settings = input.envFile ? `its settings from ${input.envFile} (RECOVER_ENV_FILE)` : 'the server\'s environment (set RECOVER_ENV_FILE to give it a settings file)';
    lines.push(`# If this agent does not answer, the hook pushes directly: ${input.fallback.join(' ')} wal-push, with ${settings}; the PostgreSQL log says so.`);
  } else {
    lines.push('# No direct-push fallback: set RECOVER_HOOK_FALLBACK to the recover executable, or archiving stops while this agent is down.');
  }
  for (const path of input.unreadable) lines.push(`# WARNING: the postgres user cannot use ${path}; archive_command will fail until it can (check with runuser -u postgres -- test -r).`);
  return `${lines.join('\n')}\n`;
}
