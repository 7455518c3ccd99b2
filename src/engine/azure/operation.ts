/**
 * Azure long-running operations (a promotion, a geo-restore): started once, polled with the
 * progress in the channel (step.progress), and their SDK poller's serialized state kept with the
 * running step (a step.state event: the runner writes it into step_checkpoints.detail). A later
 * job of the same operation (the runner was lost mid-poll) resumes polling from that state
 * (`resumeFrom`) instead of sending the request again; with no state recorded it waits on the
 * server itself. Cancelling stops the polling, not the operation in Azure.
 */
import type { OperationState, SimplePollerLike } from '@azure/core-lro';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { sleep } from '../failover/steps.js';
import { azureFailure, type FlexibleClient } from './client.js';
import { readServer, type ServerFacts } from './server.js';

/** What a job reads of the states earlier jobs recorded (the runner: the control DB; none in the CLI). */
export interface OperationStates {
  /** The newest poller state recorded under this operation by a step that never finished; null: none. */
  find(operation: string): Promise<string | null>;
}

export type AzurePoller<T> = SimplePollerLike<OperationState<T>, T>;

export interface LongRunning<T> {
  /** The step kind the progress and the state belong to. */
  step: string;
  /** The key earlier jobs' states are found by, e.g. `georestore:<resource id>`. */
  operation: string;
  /** In words, for the channel: "the geo-restore of pg-dr in westus3". */
  what: string;
  /** The SDK's begin… call: sends the request, or (resumeFrom) only polls the operation it describes. */
  begin(options: { resumeFrom?: string; updateIntervalInMs: number; abortSignal: AbortSignal }): Promise<AzurePoller<T>>;
}

export interface OperationOutcome<T> {
  result: T | undefined;
  /** Polling went on from an earlier job's state: the request was not sent again. */
  resumed: boolean;
  seconds: number;
  polls: number;
}

function stopped(what: string, error: unknown): RecoverError {
  return new RecoverError('CANCELLED', `Stopped polling ${what}; the operation goes on in Azure.`, {
    hint: 'Run the same command again: it resumes polling that operation and never sends a second request.',
    cause: error,
  });
}

/** Starts (or resumes) the operation and polls it to the end; Failed or Canceled in Azure: AZURE_OPERATION_FAILED. */
export async function runOperation<T>(ctx: EngineContext, op: LongRunning<T>, resumeFrom: string | null, intervalMs: number): Promise<OperationOutcome<T>> {
  const started = Date.now();
  let polls = 0;
  let saved = '';
  const save = (poller: AzurePoller<T>) => {
    const state = poller.toString();
    if (state === saved) return;
    saved = state;
    ctx.events.emit({ type: 'step.state', at: ctx.clock.now().toISOString(), step: op.step, operation: op.operation, resumeFrom: state });
  };
  const progress = (status: string) =>
    ctx.events.emit({
      type: 'step.progress',
      at: ctx.clock.now().toISOString(),
      step: op.step,
      done: Math.round((Date.now() - started) / 1000),
      total: null,
      unit: 'seconds',
      detail: `${op.what}: ${status}${resumeFrom ? ' (resumed from the earlier job\'s poller)' : ''}, ${polls} poll(s)`,
    });
  let poller: AzurePoller<T>;
  try {
    poller = await op.begin({ ...(resumeFrom ? { resumeFrom } : {}), updateIntervalInMs: intervalMs, abortSignal: ctx.signal });
  } catch (error) {
    if (ctx.signal.aborted) throw stopped(op.what, error);
    throw azureFailure(error, op.what);
  }
  save(poller);
  progress(poller.getOperationState().status);
  poller.onProgress((state) => {
    polls += 1;
    save(poller);
    progress(state.status);
  });
  try {
    const result = await poller.pollUntilDone({ abortSignal: ctx.signal });
    return { result, resumed: resumeFrom !== null, seconds: (Date.now() - started) / 1000, polls };
  } catch (error) {
    if (ctx.signal.aborted) throw stopped(op.what, error);
    throw azureFailure(error, op.what);
  }
}

/**
 * An operation some earlier job started and no state was recorded for (its runner was lost before
 * writing it, or the CLI started it): waits on the server itself until `done` says it is.
 */
export async function waitForServer(
  ctx: EngineContext,
  client: FlexibleClient,
  where: { resourceGroup: string; name: string; step: string; what: string },
  done: (server: ServerFacts | null) => 'done' | 'wait' | string,
  intervalMs: number,
): Promise<ServerFacts> {
  const started = Date.now();
  for (let polls = 1; ; polls += 1) {
    const server = await readServer(client, where.resourceGroup, where.name, ctx.signal).catch((error: unknown) => {
      throw ctx.signal.aborted ? stopped(where.what, error) : error;
    });
    const verdict = done(server);
    ctx.events.emit({ type: 'step.progress', at: ctx.clock.now().toISOString(), step: where.step, done: Math.round((Date.now() - started) / 1000), total: null, unit: 'seconds', detail: `${where.what}: server ${server ? server.state : 'not there'} (waiting on the server, ${polls} read(s))` });
    if (verdict === 'done') return server!;
    if (verdict !== 'wait') throw new RecoverError('AZURE_OPERATION_FAILED', `${where.what} did not finish: ${verdict}.`, { hint: "Read the server's activity log in the Azure portal; nothing else was changed by recover-bot." });
    await sleep(intervalMs, ctx.signal).catch((error: unknown) => {
      throw stopped(where.what, error);
    });
  }
}
