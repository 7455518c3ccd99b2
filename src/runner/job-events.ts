/**
 * Turns the engine's synchronous events into control-DB rows: events (progress thinned to
 * one per step per second, which is all Slack can show anyway) and step checkpoints keyed
 * by the plan's step index. Writes are serialized so their ids keep the engine's order.
 * A step the plan does not hold is an error that stops the job, never a dropped checkpoint.
 * Every event, before thinning, also feeds the measurement of the restore phases: each
 * finished base restore or WAL replay leaves a rate sample for this pool (src/estimate/).
 */
import type pg from 'pg';
import { appendEvent, finishStep, recordRateSample, startStep } from '../control/index.js';
import { RecoverError } from '../errors.js';
import { observeEvent, type PhaseObservation } from '../estimate/observe.js';
import type { EngineEvent, EventSink, Logger, Plan } from '../types.js';

const PROGRESS_INTERVAL_MS = 1000;

export class JobEventWriter implements EventSink {
  private chain: Promise<void> = Promise.resolve();
  private readonly lastProgress = new Map<string, number>();
  private failure: unknown;
  private phases: PhaseObservation = {};

  constructor(
    private readonly db: pg.Pool,
    private readonly jobId: string,
    private readonly runnerId: string,
    private readonly plan: Plan,
    private readonly log: Logger,
  ) {}

  private stepIndex(kind: string): number {
    return this.plan.steps.findIndex((step) => step.kind === kind);
  }

  private enqueue(write: () => Promise<unknown>): void {
    this.chain = this.chain.then(async () => {
      try {
        await write();
      } catch (error) {
        // Remembered and rethrown by flush(): the job must not report success over lost records.
        this.failure ??= error;
        this.log.error({ err: error, jobId: this.jobId }, 'could not record a job event');
      }
    });
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
      this.enqueue(() => appendEvent(this.db, this.jobId, event));
      const ref = { jobId: this.jobId, runnerId: this.runnerId, stepIndex };
      if (event.type === 'step.started') this.enqueue(() => startStep(this.db, { ...ref, kind: event.step }));
      else this.enqueue(() => finishStep(this.db, { ...ref, status: 'succeeded', ...(event.detail ? { detail: { detail: event.detail } } : {}) }));
      return;
    }
    this.enqueue(() => appendEvent(this.db, this.jobId, event));
  }

  /** A sample is an estimate's input, not a record of the job: failing to write one is logged, never fails the job. */
  private measure(event: EngineEvent): void {
    const { state, sample } = observeEvent(this.phases, event);
    this.phases = state;
    if (!sample) return;
    this.chain = this.chain.then(() =>
      recordRateSample(this.db, this.jobId, sample).catch((error: unknown) => this.log.warn({ err: error, jobId: this.jobId, phase: sample.phase }, 'could not record a measured rate')),
    );
  }

  /** Marks the step that was running when the job failed. */
  failRunningStep(kind: string | null, message: string): void {
    if (kind === null) return;
    const stepIndex = this.stepIndex(kind);
    if (stepIndex < 0) return;
    this.enqueue(() => finishStep(this.db, { jobId: this.jobId, runnerId: this.runnerId, stepIndex, status: 'failed', detail: { error: message } }));
  }

  async flush(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure;
  }
}
