/**
 * RECOVER_ENV_FILE: settings read from a file, for processes whose environment nobody sets,
 * above all the standalone `recover wal-push %p %f` that PostgreSQL runs as archive_command
 * (with the postmaster's environment) and the WAL hook's direct-push fallback. The printed
 * archive_command names the file in front of the command, so nothing has to be added to the
 * postmaster's own environment. Read only by loadConfig; a variable already set in the
 * environment wins over the file.
 *
 * Format, as systemd's EnvironmentFile (the subset people write): `KEY=value` per line, `#`
 * comments and blank lines ignored, an optional `export ` prefix, a value optionally inside
 * matching single or double quotes (taken literally, no expansion).
 */
import { readFileSync, statSync } from 'node:fs';
import { RecoverError } from '../errors.js';

export function parseEnvFile(text: string): { vars: Record<string, string>; bad: number[] } {
  const vars: Record<string, string> = {};
  const bad: number[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) return void bad.push(index + 1);
    let value = match[2]!;
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2]!;
    vars[match[1]!] = value;
  });
  return { vars, bad };
}

/** The environment with the file's settings under it (the environment wins); unchanged without RECOVER_ENV_FILE. */
export function withEnvFile(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const path = env.RECOVER_ENV_FILE;
  if (!path) return env;
  let text: string;
  try {
    refuseForeignWriters(path, statSync(path));
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof RecoverError) throw error;
    throw new RecoverError('CONFIG_INVALID', `RECOVER_ENV_FILE ${path} cannot be read: ${(error as Error).message}`, {
      hint: 'Create it (KEY=value lines, mode 0640, group postgres when PostgreSQL runs `recover wal-push`), or unset RECOVER_ENV_FILE.',
    });
  }
  const { vars, bad } = parseEnvFile(text);
  if (bad.length) {
    throw new RecoverError('CONFIG_INVALID', `RECOVER_ENV_FILE ${path}: line ${bad.join(', ')} is not KEY=value.`, {
      hint: 'Write one KEY=value per line; # starts a comment.',
    });
  }
  return { ...vars, ...env };
}

/**
 * The file decides where WAL and backups go and holds storage credentials: someone else able to
 * write it could send production's WAL to their own account. Refused unless only root or this
 * process's user owns it and neither its group nor others may write it (the same rule as the
 * state directory's records). Pure apart from the uid it compares with.
 */
export function refuseForeignWriters(path: string, stats: { uid: number; mode: number }, uid: number = process.getuid?.() ?? 0): void {
  if ((stats.mode & 0o022) !== 0) {
    throw new RecoverError('CONFIG_INVALID', `RECOVER_ENV_FILE ${path} may be written by its group or by others (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}); its settings are not used.`, {
      hint: `chmod 640 ${path} (group postgres when PostgreSQL runs \`recover wal-push\`).`,
    });
  }
  if (stats.uid !== 0 && stats.uid !== uid) {
    throw new RecoverError('CONFIG_INVALID', `RECOVER_ENV_FILE ${path} belongs to user ${stats.uid}, not to root or to this process's user; its settings are not used.`, {
      hint: `chown root ${path} (it holds storage credentials and decides where WAL goes).`,
    });
  }
}
