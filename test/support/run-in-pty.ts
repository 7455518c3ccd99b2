/**
 * Runs the bundled CLI with its stdin on a real pseudo-terminal (python3's pty module, no
 * npm download): what a person at a terminal does. stdout and stderr stay pipes, so they are
 * read apart. When the confirmation prompt appears on stderr, `answer` is typed (a line), or
 * Ctrl-D (end of input) when null; `prompted` says whether the prompt appeared at all.
 */
import { existsSync } from 'node:fs';
import { execa } from 'execa';

/** The system's python3 (a pyenv shim on PATH needs the caller's HOME and environment). */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const DRIVER = String.raw`
import os, select, subprocess, sys
answer, cmd = sys.argv[1], sys.argv[2:]
master, slave = os.openpty()
child = subprocess.Popen(cmd, stdin=slave, stderr=subprocess.PIPE)
os.close(slave)
seen, typed = b'', False
while True:
    ready, _, _ = select.select([child.stderr, master], [], [], 60)
    if not ready:
        child.kill()
        break
    if master in ready:
        try:
            os.read(master, 4096)  # the terminal's echo of what was typed: not part of the output
        except OSError:
            pass
    if child.stderr in ready:
        chunk = os.read(child.stderr.fileno(), 4096)
        if not chunk:
            break
        sys.stderr.buffer.write(chunk)
        sys.stderr.buffer.flush()
        seen += chunk
        if not typed and b'to run this destructive plan: ' in seen:
            typed = True
            os.write(master, b'\x04' if answer == '<EOF>' else answer.encode() + b'\n')
sys.exit(child.wait())
`;

export interface PtyRun {
  code: number;
  stdout: string;
  stderr: string;
  prompted: boolean;
}

export async function runBundledCliInPty(args: string[], env: Record<string, string>, answer: string | null): Promise<PtyRun> {
  const result = await execa(PYTHON, ['-c', DRIVER, answer ?? '<EOF>', process.execPath, 'bin/recover.mjs', ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    extendEnv: false,
    reject: false,
  });
  const stderr = String(result.stderr);
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr, prompted: stderr.includes('to run this destructive plan: ') };
}
