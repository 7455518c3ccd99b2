/** `recover wal-agent` started in this process as an operator would start it, for the agent's reliability tests. */
import { walAgent } from '../../src/cli/wal-commands.js';

export interface StartedAgent {
  /** What it printed up to its restore_command line (the lines to paste into postgresql.conf). */
  printed: string;
  stop(): Promise<void>;
}

/** Resolves once the agent printed its lines; rejects if it exits first. */
export async function startWalAgent(env: Record<string, string>, socketPath: string): Promise<StartedAgent> {
  let printed = '';
  let sawLines!: () => void;
  const linesPrinted = new Promise<void>((resolve) => (sawLines = resolve));
  const abort = new AbortController();
  const io = {
    env,
    stdout: { write: (text: string) => ((printed += text), printed.includes('restore_command') && sawLines(), true) } as unknown as NodeJS.WritableStream,
    stderr: { write: () => true } as unknown as NodeJS.WritableStream,
  };
  const done = walAgent(io, socketPath, abort.signal);
  await Promise.race([linesPrinted, done.then((code) => Promise.reject(new Error(`wal-agent exited ${code}: ${printed}`)))]);
  return {
    printed,
    async stop() {
      abort.abort();
      await done;
    },
  };
}
