/**
 * `recover runner`: the privileged process. Plans new requests of its pool, claims approved
 * jobs, renews their lease while they run, honours cancellation, and records every outcome.
 *
 * The control DB may restart under it (a managed PostgreSQL's maintenance, a failover). The
 * runner then keeps running: its LISTEN connection reconnects (src/control/listener.ts), a
 * failed pass is tried again, and a job in flight goes on with its records waiting in memory
 * (job-events.ts) while the heartbeat retries. Two things wait for the control DB instead:
 * a destructive step starts only once the control DB confirmed the lease and the approvals
 * (waiting at most as long as the lease lasts, then the job fails before that step), and the
 * job's outcome is written once it is back. If the job was marked RUNNER_LOST meanwhile (the
 * control DB was away longer than the lease), the runner stops it at once, starts no further
 * step and records nothing more; its log says what it had done.
 *
 * What a lost runner's restore left on this host (journals) is put right at every pass, at most
 * every 5 s, once no live runner holds its job (journal-check.ts).
 */
import type pg from 'pg';
import {
  claimNextJob,
  ControlListener,
  finishJob,
  heartbeat,
  isTransientDbError,
  reapExpiredLeases,
  reclaimUnstartedJob,
  retryTransient,
  REQUESTS_CHANNEL,
  type Backoff,
  type JobOutcome,
  type JobRecord,
} from '../control/index.js';
import { requireProductionName, type Config } from '../config.js';
import type { EngineContext } from '../engine/context.js';
import type { Exec } from '../engine/exec.js';
import { RecoverError, toRecoverError } from '../errors.js';
import type { Storage } from '../storage/blob-store.js';
import type { Clock, EngineEvent, Logger } from '../types.js';
import { controlCopyRecords } from './copy-records.js';
import { authorizeJob, checkApprovals, executePlan } from './execute.js';
import { JobEventWriter } from './job-events.js';
import { journalCheck } from './journal-check.js';
import { reachOf } from './routing.js';
import { planPending, type PlannerDeps } from './planner.js';

export interface RunnerOptions {
  config: Config;
  control: pg.Pool;
  storage: Storage;
  exec: Exec;
  failpoint?: EngineContext['failpoint']; // RECOVER_FAILPOINTS (fault tests only): the CLI runtime's
  calibration?: PlannerDeps['calibration']; // the start-up probe's rates (calibration.ts)
  log: Logger;
  clock: Clock;
  runnerId: string;
  pollMs?: number; leaseSeconds?: number;
  /** Waits between tries while the control DB is away (writes, heartbeats, the LISTEN reconnect). */
  backoff?: Backoff;
  onEvent?: (event: EngineEvent) => void; // each event of a job as it happens (the runner's /metrics)
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
  const leaseSeconds = options.leaseSeconds ?? config.leaseSeconds ?? 60;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let listener: ControlListener | undefined;
  let currentAbort: AbortController | undefined;
  // Aborted by stop(): writes waiting for the control DB give up (the job is then reaped as RUNNER_LOST).
  const stopping = new AbortController();
  // A claim failed with the control DB going away: it may have committed, so look for it next pass.
  let claimUncertain = false;
  let passFailing = false;
  const backoff = options.backoff ? { backoff: options.backoff } : {};

  /** A control-DB write retried while the control DB is away, until it succeeds, `giveUpAfterMs` passes, or the runner stops. */
  function retry<T>(what: string, work: () => Promise<T>, giveUpAfterMs?: number, signal?: AbortSignal): Promise<T> {
    return retryTransient(work, {
      what,
      log,
      signal: signal ? AbortSignal.any([signal, stopping.signal]) : stopping.signal,
      ...backoff,
      ...(giveUpAfterMs === undefined ? {} : { giveUpAfterMs }),
    });
  }

  /** Records the outcome once the control DB takes it; a job taken from this runner meanwhile stays as the reaper left it. */
  async function finish(job: JobRecord, outcome: JobOutcome): Promise<void> {
    try {
      await retry(`record the outcome (${outcome.status}) of job ${job.id}`, () => finishJob(control, { jobId: job.id, runnerId, outcome }));
    } catch (error) {
      if (!(error instanceof RecoverError && error.code === 'LEASE_LOST')) throw error;
      log.error({ jobId: job.id, outcome }, 'this job was marked failed (RUNNER_LOST) while the control DB could not be reached, longer than the lease: its outcome here is not recorded there');
    }
  }
  // Planning gathers facts (the catalog, WAL read with pg_waldump, a server to check); it has no job, so no events and no cancel.
  const gather = {
    config,
    cli: null,
    // Planning a swap reads the pool's records of verified database copies; it never writes one.
    copies: controlCopyRecords(control, { pool: config.pool, log }),
    engine: { log, exec: options.exec, storage: options.storage, clock: options.clock, signal: new AbortController().signal, events: { emit: () => undefined } },
  };
  // What a lost runner's restore left on this host: its journals say what (journal-check.ts).
  const checkJournal = journalCheck({ config, control, engine: gather.engine, log, runnerId, busy: () => currentAbort !== undefined, retry: (what, work) => retry(what, work) });

  async function runJob(job: JobRecord): Promise<void> {
    const abort = new AbortController();
    currentAbort = abort;
    let cancelled = false;
    let currentStep: string | null = null;
    let writer: JobEventWriter | undefined;
    // When the last heartbeat the control DB answered was sent: the lease lasts at least leaseSeconds from then.
    let leaseFrom = Date.now();
    let away = false;
    let beating = false;
    /** Renews the lease (throws LEASE_LOST if the job is no longer ours) and notices a cancel. */
    const renew = async (): Promise<void> => {
      const sentAt = Date.now();
      const state = await heartbeat(control, { jobId: job.id, runnerId, leaseSeconds });
      leaseFrom = sentAt;
      if (away) log.info({ jobId: job.id }, 'control DB reachable again; lease renewed');
      away = false;
      if (state.cancelRequested && !cancelled) {
        cancelled = true;
        log.info({ jobId: job.id }, 'cancellation requested; stopping');
        abort.abort();
      }
    };
    const loseJob = (error: unknown): void => {
      log.error({ err: error, jobId: job.id }, 'lost the job lease; stopping: no further step starts and nothing more is recorded for this job');
      writer?.abandon();
      abort.abort();
    };
    // A third of the lease keeps it alive; at most 5 s apart so a cancel is noticed quickly.
    // While the control DB is away a beat fails and the next one tries again; the job goes on.
    const beat = setInterval(() => {
      if (beating) return;
      beating = true;
      renew()
        .catch((error: unknown) => {
          if (!isTransientDbError(error)) return loseJob(error);
          if (!away) log.warn({ err: error, jobId: job.id }, 'control DB unreachable; the job goes on, its records wait in memory, the heartbeat retries');
          away = true;
        })
        .finally(() => (beating = false));
    }, Math.min((leaseSeconds * 1000) / 3, 5000));
    /**
     * Before a destructive step: the control DB must confirm the lease and the approvals. While
     * it is away this waits, but no longer than the lease lasts: after that the job may have
     * been marked RUNNER_LOST, and no step may start on a job that might be failed already.
     */
    const fence = async (step: string): Promise<void> => {
      const confirm = async () => {
        await renew();
        await checkApprovals(control, config, job);
      };
      try {
        await retry(`confirm the lease and approvals before step ${step}`, confirm, Math.max(0, leaseFrom + leaseSeconds * 1000 - Date.now()), abort.signal);
      } catch (error) {
        if (error instanceof RecoverError && error.code === 'LEASE_LOST') loseJob(error);
        if (!isTransientDbError(error)) throw error;
        throw new RecoverError('LEASE_LOST', `Step "${step}" was not started: the control DB could not confirm that this runner still holds job ${job.id} within its ${leaseSeconds}-second lease.`, {
          hint: 'The control DB was unreachable (restarting or failing over). Check it, then start a new request with /recover if recovery is still needed.',
          cause: error,
        });
      }
    };
    try {
      const plan = await authorizeJob(control, config, job, runnerId, retry);
      writer = new JobEventWriter(control, job.id, runnerId, plan, log, { signal: stopping.signal, ...backoff });
      const events = writer;
      const ctx = {
        jobId: job.id,
        ...(options.failpoint ? { failpoint: options.failpoint } : {}),
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
            options.onEvent?.(event);
          },
        },
      };
      const { result, verdict } = await executePlan(ctx, control, config, job, plan, fence, (what, work) => retry(what, work, leaseSeconds * 1000, abort.signal));
      await writer.flush();
      if (verdict) log.error({ jobId: job.id, code: verdict.code }, verdict.message);
      await finish(job, verdict ? { status: 'failed', error: { code: verdict.code, message: verdict.forChannel() }, result } : { status: 'succeeded', result });
    } catch (error) {
      const failure = toRecoverError(error);
      writer?.failRunningStep(currentStep, failure.message);
      await writer?.flush().catch((flushError: unknown) => log.error({ err: flushError }, 'could not record the last events'));
      const outcome = cancelled || failure.code === 'CANCELLED'
        ? ({ status: 'cancelled' } as const)
        : ({ status: 'failed', error: { code: failure.code, message: failure.forChannel() } } as const);
      log.error({ jobId: job.id, code: failure.code, err: failure.cause ?? failure }, failure.message);
      await finish(job, outcome);
    } finally {
      clearInterval(beat);
      currentAbort = undefined;
    }
  }

  async function claim(): Promise<JobRecord | null> {
    const input = { runnerId, poolName: config.pool, leaseSeconds, reach: reachOf(config) };
    if (claimUncertain) {
      const mine = await reclaimUnstartedJob(control, input);
      claimUncertain = false;
      if (mine) {
        log.warn({ jobId: mine.id }, 'a job claimed while the control DB went away was not heard back; nothing ran for it, so it runs now');
        return mine;
      }
    }
    try {
      return await claimNextJob(control, input);
    } catch (error) {
      // The claim may have committed and only its reply been lost (runner ids are unique per process).
      if (isTransientDbError(error)) claimUncertain = true;
      throw error;
    }
  }

  async function tick(): Promise<boolean> {
    await planPending({ control, pool: config.pool, productionName, clock: options.clock, log, gather, calibration: options.calibration });
    await reapExpiredLeases(control);
    await checkJournal();
    const job = await claim();
    if (!job) return false;
    log.info({ jobId: job.id }, 'claimed job');
    await runJob(job);
    return true;
  }

  return {
    tick,
    async start() {
      running = true;
      // Reconnects by itself when the control DB restarts; after that, one pass catches up on
      // the requests whose NOTIFY was lost meanwhile (the poll would find them too, later).
      listener = new ControlListener({
        pool: control,
        log,
        channels: {
          [REQUESTS_CHANNEL]: (pool) => {
            if (pool === config.pool) wake?.();
          },
        },
        reconnected: () => wake?.(),
        ...backoff,
      });
      await listener.start();
      loop = (async () => {
        while (running) {
          let worked = false;
          try {
            worked = await tick();
            if (passFailing) log.info('control DB reachable again; runner passes resumed');
            passFailing = false;
          } catch (error) {
            // An outage is logged once, not once per poll; anything else every time.
            if (!isTransientDbError(error)) log.error({ err: error }, 'runner pass failed; retrying');
            else if (!passFailing) log.warn({ err: error }, 'control DB unreachable; retrying every poll until it is back');
            passFailing = isTransientDbError(error);
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
      stopping.abort();
      currentAbort?.abort();
      wake?.();
      await loop;
      await listener?.stop();
    },
  };
}
