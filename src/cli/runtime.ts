/** What every CLI command shares: config, logger, storage and an engine context. */
import { failpointTrigger } from '../engine/failpoints.js';
import { forSurface, valueForSurface } from '../../commands/surface.js';
import { loadConfig, type Config } from '../config.js';
import type { EngineContext } from '../engine/context.js';
import { createExec } from '../engine/exec.js';
import { exitCodeFor, RecoverError, toRecoverError } from '../errors.js';
import { createLogger } from '../log.js';
import { openStorage } from '../storage/index.js';
import { systemClock, type EventSink, type Logger } from '../types.js';
import { terminalProgress } from './progress.js';

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Where a destructive plan's confirmation is typed (confirm.ts); absent or not a TTY: nobody can answer, --confirm is needed. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface CliRuntime {
  config: Config;
  log: Logger;
  context: EngineContext;
  abort: AbortController;
}

/**
 * `service`: a long-lived process (runner, bot, WAL agent) or a hook PostgreSQL runs, whose
 * stderr is a log: info lines by default. Otherwise a person reads stderr (progress, the plan
 * to confirm, errors): only warnings and errors are logged unless LOG_LEVEL asks for more.
 */
export async function createRuntime(io: CliIo, options: { json?: boolean; events?: EventSink; service?: boolean } = {}): Promise<CliRuntime> {
  const config = loadConfig(io.env);
  const log = createLogger(config.logLevel ?? (options.service ? 'info' : 'warn'), io.stderr);
  const storage = await openStorage(config.storage);
  const abort = new AbortController();
  const events = options.events ?? terminalProgress(io.stderr, Boolean(io.stderr.isTTY) && !options.json);
  const failpoint = failpointTrigger(config.failpoints, log);
  return { config, log, abort, context: { log, exec: createExec(log), storage, events, signal: abort.signal, clock: systemClock, ...(failpoint ? { failpoint } : {}) } };
}

/**
 * Prints a result: one JSON object with --json, readable text otherwise. Commands it names
 * are written the Slack way (`/recover pitr …`) and printed as typed here (`recover pitr …`).
 */
export function printResult(io: CliIo, json: boolean, result: unknown, text: () => string): void {
  io.stdout.write(json ? `${JSON.stringify({ ok: true, result: valueForSurface(result, 'cli') }, bigintJson)}\n` : `${forSurface(text(), 'cli')}\n`);
}

export function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * Every failure ends as a message that says what to do, and the exit code for its class
 * (errors.ts exitCodeFor). With --json it is the one object printed; `result` carries what
 * was done anyway (e.g. a restore whose verification failed).
 */
export function printFailure(io: CliIo, json: boolean, error: unknown, result?: unknown): number {
  const failure = error instanceof RecoverError ? error : toRecoverError(error);
  const cli = (text: string) => forSurface(text, 'cli');
  if (json) {
    const object = { ok: false, code: failure.code, message: cli(failure.message), hint: failure.hint ? cli(failure.hint) : null, ...(result === undefined ? {} : { result: valueForSurface(result, 'cli') }) };
    io.stdout.write(`${JSON.stringify(object, bigintJson)}\n`);
  } else io.stderr.write(`error [${failure.code}]: ${cli(failure.forChannel())}\n`);
  return exitCodeFor(failure.code);
}

/** Kept here for the CLI's callers; lives with the other instance checks. */
export { assertPortFree } from '../engine/instances.js';
