/**
 * Runs the bundled CLI (bin/recover.mjs → dist/recover.mjs, built by `npm run build`) as its
 * own process, the way an operator or a script does: exit status, stdout and stderr as seen
 * from outside. Only the given environment is passed (plus PATH), never the caller's RECOVER_*.
 */
import { readdir } from 'node:fs/promises';
import { execa } from 'execa';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runBundledCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const result = await execa(process.execPath, ['bin/recover.mjs', ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, extendEnv: false, reject: false });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** The one JSON object a `--json` run prints; fails unless stdout is exactly one line of JSON. */
export function oneJsonObject(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  if (lines.length !== 1) throw new Error(`expected exactly one JSON line on stdout, got ${lines.length}:\n${stdout}`);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

/** Entries under a directory, [] when it does not exist. */
export async function entriesOf(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
}
