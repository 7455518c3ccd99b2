/**
 * Running external tools: execa with argument arrays (never a shell string), the job's
 * abort signal, a timeout, and stderr streamed line by line into the job's log.
 */
import { execa, type ResultPromise } from 'execa';
import type { Readable } from 'node:stream';
import { RecoverError } from '../errors.js';
import type { Logger } from '../types.js';

export interface RunOptions {
  /** Run as this OS user (via runuser) when the current process is root and is not that user. */
  asUser?: string;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
  input?: Readable;
  /** Keep stdout as a stream for the caller instead of buffering it. */
  stdoutStream?: boolean;
  /** A non-zero exit is an answer, not a failure (e.g. pg_waldump at the end of valid WAL). */
  allowFailure?: boolean;
}

export interface Exec {
  run(file: string, args: string[], options?: RunOptions): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  spawn(file: string, args: string[], options?: RunOptions): ResultPromise;
}

/** runuser when we are root: PostgreSQL's tools refuse to run as root. */
export function commandFor(file: string, args: string[], asUser: string | undefined, uid: number): [string, string[]] {
  if (asUser && uid === 0 && asUser !== 'root') return ['runuser', ['-u', asUser, '--', file, ...args]];
  return [file, args];
}

export function createExec(log: Logger, uid = process.getuid?.() ?? -1): Exec {
  const start = (file: string, args: string[], options: RunOptions = {}): ResultPromise => {
    const [command, argv] = commandFor(file, args, options.asUser, uid);
    log.debug({ command, argv }, 'exec');
    const child = execa(command, argv, {
      cwd: options.cwd,
      env: options.env,
      extendEnv: true,
      timeout: options.timeoutMs ?? 10 * 60_000,
      cancelSignal: options.signal,
      input: options.input as never,
      buffer: { stdout: !options.stdoutStream, stderr: true },
      reject: !options.allowFailure,
      stripFinalNewline: true,
    });
    child.stderr?.setEncoding('utf8');
    let pending = '';
    child.stderr?.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) log.info({ tool: file.split('/').pop() }, line);
    });
    return child;
  };
  return {
    spawn: start,
    async run(file, args, options = {}) {
      try {
        const result = await start(file, args, options);
        if (options.allowFailure && (result.isCanceled || result.timedOut)) throw result;
        return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), exitCode: result.exitCode ?? -1 };
      } catch (error) {
        throw toolFailure(file, error);
      }
    },
  };
}

export function toolFailure(file: string, error: unknown): RecoverError {
  const tool = file.split('/').pop() ?? file;
  const details = error as { isCanceled?: boolean; timedOut?: boolean; exitCode?: number; stderr?: string; shortMessage?: string };
  if (details.isCanceled) return new RecoverError('CANCELLED', `${tool} was stopped because the job was cancelled.`, { cause: error });
  if (details.timedOut) {
    return new RecoverError('COMMAND_FAILED', `${tool} did not finish in time and was stopped.`, {
      hint: 'Check the runner log for what it was waiting on; raise the timeout if the data is simply large.',
      cause: error,
    });
  }
  const lastLine = String(details.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? details.shortMessage ?? String(error);
  return new RecoverError('COMMAND_FAILED', `${tool} failed (exit ${details.exitCode ?? '?'}): ${lastLine}`, {
    hint: 'The full output is in the runner log.',
    cause: error,
  });
}
