/**
 * `recover runner`: the privileged process. Plans new requests of its pool, claims approved
 * jobs, renews their lease while they run, honours cancellation, and records every outcome.
 */
import type pg from 'pg';
import { claimNextJob, finishJob, heartbeat, reapExpiredLeases, subscribeIds, REQUESTS_CHANNEL, type JobRecord } from '../control/index.js';
import { requireProductionName, type Config } from '../config.js';
import type { Exec } from '../engine/exec.js';
import { toRecoverError } from '../errors.js';
import type { Storage } from '../storage/blob-store.js';
import type { Clock, EngineEvent, Logger } from '../types.js';
import { controlCopyRecords } from './copy-records.js';
import { authorizeJob, executePlan } from './execute.js';
import { JobEventWriter } from './job-events.js';
import { planPending } from './planner.js';

export interface RunnerOptions {
  config: Config;
  control: pg.Pool;
  storage: Storage;
  exec: Exec;
  log: Logger;
  clock: Clock;
  runnerId: string;
  pollMs?: number;
  leaseSeconds?: number;
}

export interface Runner {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One pass: plan what is pending, reap dead runners' jobs, run at most one job. */
  tick(): Promise<boolean>;
}

export function createRunner(options: RunnerOptions): Runner {
  const { config, control, log, runnerId } = options;
  const productionName = requireProductionName(config);
  const pollMs = options.pollMs ?? 1000;
  const leaseSeconds = options.leaseSeconds ?? 60;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let listener: pg.PoolClient | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let currentAbort: AbortController | undefined;
  // Planning gathers facts (the catalog, WAL read with pg_waldump, a server to check); it has no job, so no events and no cancel.
  const gather = {
    config,
    cli: null,
    // Planning a swap reads the pool's records of verified database copies; it never writes one.
    copies: controlCopyRecords(control, { pool: config.pool, log }),
    engine: { log, exec: options.exec, storage: options.storage, clock: options.clock, signal: new AbortController().signal, events: { emit: () => undefined } },
  };

  async function runJob(job: JobRecord): Promise<void> {
    const abort = new AbortController();
    currentAbort = abort;
    let cancelled = false;
    let currentStep: string | null = null;
    // A third of the lease keeps it alive; at most 5 s apart so a cancel is noticed quickly.
    const beat = setInterval(() => {
      heartbeat(control, { jobId: job.id, runnerId, leaseSeconds })
        .then((state) => {
          if (state.cancelRequested && !cancelled) {
            cancelled = true;
            log.info({ jobId: job.id }, 'cancellation requested; stopping');
            abort.abort();
          }
        })
        .catch((error: unknown) => {
          log.error({ err: error, jobId: job.id }, 'lost the job lease; stopping');
          abort.abort();
        });
    }, Math.min((leaseSeconds * 1000) / 3, 5000));
    let writer: JobEventWriter | undefined;
    try {
      const plan = await authorizeJob(control, config, job, runnerId);
      writer = new JobEventWriter(control, job.id, runnerId, plan, log);
      const events = writer;
      const ctx = {
        log: log.child({ jobId: job.id }),
        exec: options.exec,
        storage: options.storage,
        signal: abort.signal,
        clock: options.clock,
        events: {
          emit(event: EngineEvent) {
            if (event.type === 'step.started') currentStep = event.step;
            if (event.type === 'step.finished') currentStep = null;
            events.emit(event);
          },
        },
      };
      const { result, verdict } = await executePlan(ctx, control, config, job, plan);
      await writer.flush();
      if (verdict) log.error({ jobId: job.id, code: verdict.code }, verdict.message);
      await finishJob(control, {
        jobId: job.id,
        runnerId,
        outcome: verdict ? { status: 'failed', error: { code: verdict.code, message: verdict.forChannel() }, result } : { status: 'succeeded', result },
      });
    } catch (error) {
      const failure = toRecoverError(error);
      writer?.failRunningStep(currentStep, failure.message);
      await writer?.flush().catch((flushError: unknown) => log.error({ err: flushError }, 'could not record the last events'));
      const outcome = cancelled || failure.code === 'CANCELLED'
        ? ({ status: 'cancelled' } as const)
        : ({ status: 'failed', error: { code: failure.code, message: failure.forChannel() } } as const);
      log.error({ jobId: job.id, code: failure.code, err: failure.cause ?? failure }, failure.message);
      await finishJob(control, { jobId: job.id, runnerId, outcome });
    } finally {
      clearInterval(beat);
      currentAbort = undefined;
    }
  }

  async function tick(): Promise<boolean> {
    await planPending({ control, pool: config.pool, productionName, clock: options.clock, log, gather });
    await reapExpiredLeases(control);
    const job = await claimNextJob(control, { runnerId, poolName: config.pool, leaseSeconds });
    if (!job) return false;
    log.info({ jobId: job.id }, 'claimed job');
    await runJob(job);
    return true;
  }

  return {
    tick,
    async start() {
      running = true;
      listener = await control.connect();
      unsubscribe = await subscribeIds(listener, REQUESTS_CHANNEL, (pool) => {
        if (pool === config.pool) wake?.();
      });
      loop = (async () => {
        while (running) {
          let worked = false;
          try {
            worked = await tick();
          } catch (error) {
            log.error({ err: error }, 'runner pass failed; retrying');
          }
          if (!worked && running) await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      })();
    },
    async stop() {
      running = false;
      currentAbort?.abort();
      wake?.();
      await loop;
      await unsubscribe?.();
      listener?.release();
    },
  };
}
