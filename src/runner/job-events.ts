/**
 * Turns the engine's synchronous events into control-DB rows: events (progress thinned to
 * one per step per second, which is all Slack can show anyway) and step checkpoints keyed
 * by the plan's step index. A step the plan does not hold is an error that stops the job,
 * never a dropped checkpoint. Every event, before thinning, also feeds the measurement of
 * the restore phases: each finished base restore or WAL replay leaves a rate sample for this
 * pool (src/estimate/).
 *
 * The control DB may go away while a job runs (a managed PostgreSQL's maintenance restart, a
 * failover); the job does not stop for that. Writes wait here in memory, in the engine's
 * order, one at a time, and each is tried again with backoff until the DB is back. Each is
 * safe to repeat after a lost reply: events carry the runner's number for them (`seq`,
 * inserted with ON CONFLICT DO NOTHING), checkpoints that already say what is asked are left
 * alone. So every event is written once, in order, however often the connection dropped.
 * While writes wait, a newer progress event of the same step replaces the waiting one: the
 * backlog of a long outage stays small. Only a final error (the lease is lost, a bug) or the
 * runner shutting down makes a write fail, and flush() then reports it.
 */
import type pg from 'pg';
import { appendRunnerEvent, finishStep, recordRateSample, retryTransient, saveStepState, startStep, type Backoff, type RateSampleRecord } from '../control/index.js';
import { RecoverError } from '../errors.js';
import { observeEvent, type PhaseObservation } from '../estimate/observe.js';
import type { EngineEvent, EventSink, Logger, Plan } from '../types.js';

const PROGRESS_INTERVAL_MS = 1000;

/** Where a job's records go: the control DB, or a stand-in in unit tests. */
export interface JobRecords {
  event(event: EngineEvent, seq: number): Promise<unknown>;
  startStep(stepIndex: number, kind: string): Promise<unknown>;
  finishStep(stepIndex: number, status: 'succeeded' | 'failed', detail?: Record<string, unknown>): Promise<unknown>;
  rateSample(sample: RateSampleRecord): Promise<unknown>;
  /** A long-running operation's poller state, kept with the running step (absent in stand-ins that do not keep it). */
  saveState?(stepIndex: number, operation: string, resumeFrom: string): Promise<unknown>;
}

export function controlRecords(db: pg.Pool, jobId: string, runnerId: string): JobRecords {
  const ref = { jobId, runnerId };
  return {
    event: (event, seq) => appendRunnerEvent(db, { ...ref, seq }, event),
    startStep: (stepIndex, kind) => startStep(db, { ...ref, stepIndex, kind }),
    finishStep: (stepIndex, status, detail) => finishStep(db, { ...ref, stepIndex, status, ...(detail ? { detail } : {}) }),
    rateSample: (sample) => recordRateSample(db, jobId, sample),
    saveState: (stepIndex, operation, resumeFrom) => saveStepState(db, { ...ref, stepIndex, operation, resumeFrom }),
  };
}

type Write =
  | { kind: 'event'; event: EngineEvent; seq: number }
  | { kind: 'start'; stepIndex: number; step: string }
  | { kind: 'finish'; stepIndex: number; status: 'succeeded' | 'failed'; detail?: Record<string, unknown> }
  | { kind: 'sample'; sample: RateSampleRecord }
  | { kind: 'state'; stepIndex: number; operation: string; resumeFrom: string };

export interface JobEventWriterOptions {
  /** Instead of the control DB (unit tests). */
  records?: JobRecords;
  /** The runner is shutting down: stop retrying, and let flush() report what was not written. */
  signal?: AbortSignal;
  backoff?: Backoff;
  random?: () => number;
}

export class JobEventWriter implements EventSink {
  private readonly queue: Write[] = [];
  private readonly records: JobRecords;
  private readonly abandoned = new AbortController();
  private readonly signal: AbortSignal;
  private running: Promise<void> | null = null;
  private readonly lastProgress = new Map<string, number>();
  private failure: unknown;
  private phases: PhaseObservation = {};
  private seq = 0;

  constructor(
    db: pg.Pool,
    private readonly jobId: string,
    runnerId: string,
    private readonly plan: Plan,
    private readonly log: Logger,
    private readonly options: JobEventWriterOptions = {},
  ) {
    this.records = options.records ?? controlRecords(db, jobId, runnerId);
    this.signal = options.signal ? AbortSignal.any([options.signal, this.abandoned.signal]) : this.abandoned.signal;
  }

  private stepIndex(kind: string): number {
    return this.plan.steps.findIndex((step) => step.kind === kind);
  }

  /** Writes not yet in the control DB (for logs and tests). */
  get pending(): number {
    return this.queue.length;
  }

  private push(write: Write): void {
    if (this.abandoned.signal.aborted) return;
    this.queue.push(write);
    this.running ??= this.drain();
  }

  /** One write at a time, in order; `running` is cleared in the same turn the queue is found empty. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const write = this.queue[0]!;
        try {
          await retryTransient(() => this.perform(write), { what: `record ${describe(write)} of job ${this.jobId}`, log: this.log, signal: this.signal, ...(this.options.backoff ? { backoff: this.options.backoff } : {}), ...(this.options.random ? { random: this.options.random } : {}) });
        } catch (error) {
          if (write.kind === 'sample') {
            // A sample is an estimate's input, not a record of the job: never fails the job.
            this.log.warn({ err: error, jobId: this.jobId, phase: write.sample.phase }, 'could not record a measured rate');
          } else {
            // Remembered and rethrown by flush(): the job must not report success over lost records.
            this.failure ??= error;
            this.log.error({ err: error, jobId: this.jobId }, `could not record ${describe(write)}`);
            // This runner no longer holds the job: nothing more of it is recorded.
            if (error instanceof RecoverError && error.code === 'LEASE_LOST') this.abandon();
          }
        }
        this.queue.shift();
      }
    } finally {
      this.running = null;
    }
  }

  private perform(write: Write): Promise<unknown> {
    switch (write.kind) {
      case 'event':
        return this.records.event(write.event, write.seq);
      case 'start':
        return this.records.startStep(write.stepIndex, write.step);
      case 'finish':
        return this.records.finishStep(write.stepIndex, write.status, write.detail);
      case 'sample':
        return this.records.rateSample(write.sample);
      case 'state':
        return this.records.saveState?.(write.stepIndex, write.operation, write.resumeFrom) ?? Promise.resolve();
    }
  }

  private pushEvent(event: EngineEvent): void {
    // Waiting behind an outage: a newer progress of the same step replaces the one not yet
    // written (never the write in flight, at the head, whose number may already be in the DB).
    const last = this.queue.length > 1 ? this.queue.at(-1) : undefined;
    if (event.type === 'step.progress' && last?.kind === 'event' && last.event.type === 'step.progress' && last.event.step === event.step) {
      last.event = event;
      return;
    }
    this.seq += 1;
    this.push({ kind: 'event', event, seq: this.seq });
  }

  emit(event: EngineEvent): void {
    this.measure(event);
    if (event.type === 'step.progress') {
      const now = Date.now();
      const last = this.lastProgress.get(event.step) ?? 0;
      if (now - last < PROGRESS_INTERVAL_MS && (event.total === null || event.done < event.total)) return;
      this.lastProgress.set(event.step, now);
    }
    if (event.type === 'job.succeeded' || event.type === 'job.failed' || event.type === 'job.cancelled') return; // finishJob writes these
    // A poller's state goes with its step's checkpoint, in order after the step's start; never an event row.
    if (event.type === 'step.state') {
      const stepIndex = this.stepIndex(event.step);
      if (stepIndex >= 0) this.push({ kind: 'state', stepIndex, operation: event.operation, resumeFrom: event.resumeFrom });
      return;
    }
    if (event.type === 'step.started' || event.type === 'step.finished') {
      const stepIndex = this.stepIndex(event.step);
      if (stepIndex < 0) {
        // The command ran a step its plan did not show: what people approved is not what runs.
        // Thrown into the engine at that step (so the job stops there) and again by flush().
        const drift = new RecoverError(
          'INTERNAL',
          `Step "${event.step}" ran but is not in the plan (${this.plan.steps.map((s) => s.kind).join(', ')}); the job is stopped.`,
          { hint: `The "${this.plan.command}" command's declared steps and what its run reports differ: a bug to fix before running it again.` },
        );
        this.failure ??= drift;
        this.log.error({ jobId: this.jobId, step: event.step }, drift.message);
        throw drift;
      }
      this.pushEvent(event);
      if (event.type === 'step.started') this.push({ kind: 'start', stepIndex, step: event.step });
      else this.push({ kind: 'finish', stepIndex, status: 'succeeded', ...(event.detail ? { detail: { detail: event.detail } } : {}) });
      return;
    }
    this.pushEvent(event);
  }

  private measure(event: EngineEvent): void {
    const { state, sample } = observeEvent(this.phases, event);
    this.phases = state;
    if (sample) this.push({ kind: 'sample', sample });
  }

  /** Marks the step that was running when the job failed. */
  failRunningStep(kind: string | null, message: string): void {
    if (kind === null) return;
    const stepIndex = this.stepIndex(kind);
    if (stepIndex < 0) return;
    this.push({ kind: 'finish', stepIndex, status: 'failed', detail: { error: message } });
  }

  /** The job is no longer this runner's: drop what waits and stop retrying. */
  abandon(): void {
    if (this.abandoned.signal.aborted) return;
    this.abandoned.abort(new RecoverError('LEASE_LOST', `Job ${this.jobId} is no longer this runner's; its remaining records were dropped.`));
    if (this.queue.length > 1) this.log.warn({ jobId: this.jobId, dropped: this.queue.length - 1 }, 'job records not written: the job is no longer this runner\'s');
    this.queue.splice(1);
  }

  /** Waits until every write is done (retrying while the control DB is away); throws the first that failed for good. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    if (this.failure) throw this.failure;
  }
}

function describe(write: Write): string {
  switch (write.kind) {
    case 'event':
      return `event ${write.seq} (${write.event.type})`;
    case 'start':
      return `the start of step ${write.step}`;
    case 'finish':
      return `the end (${write.status}) of step ${write.stepIndex}`;
    case 'sample':
      return `a measured rate (${write.sample.phase})`;
    case 'state':
      return `the poller state of step ${write.stepIndex}`;
  }
}
