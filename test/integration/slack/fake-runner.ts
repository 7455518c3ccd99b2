/**
 * The test plays the runner: it plans the requests the bot filed, claims the approved job
 * and appends events, through the same control functions the real runner uses.
 */
import type pg from 'pg';
import {
  appendEvent, claimNextJob, finishJob, finishStep, getJob, savePlan, savePlanningError, startStep, type JobOutcome, type JobRecord,
  type RequestRecord, type RequestRow,
} from '../../../src/control/index.js';
import { toRequest } from '../../../src/control/model.js';
import type { RecoverError } from '../../../src/errors.js';
import type { EngineEvent, Plan } from '../../../src/types.js';

export const RUNNER_POOL = 'default';

export class FakeRunner {
  readonly runnerId = 'runner-test';

  constructor(readonly pool: pg.Pool) {}

  async requests(): Promise<RequestRecord[]> {
    const { rows } = await this.pool.query<RequestRow>('SELECT * FROM requests ORDER BY created_at');
    return rows.map(toRequest);
  }

  /** Waits for the n-th request the bot filed (1-based). */
  async waitForRequest(n = 1): Promise<RequestRecord> {
    for (let i = 0; i < 200; i++) {
      const all = await this.requests();
      if (all.length >= n) return all[n - 1]!;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`the bot filed no request #${n}`);
  }

  plan(requestId: string, plan: Plan): Promise<unknown> {
    return savePlan(this.pool, { requestId, plan, actor: this.runnerId });
  }

  refuse(requestId: string, error: RecoverError): Promise<void> {
    return savePlanningError(this.pool, requestId, error);
  }

  async jobs(): Promise<JobRecord[]> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM jobs ORDER BY created_at');
    return Promise.all(rows.map(async (r) => (await getJob(this.pool, r.id))!));
  }

  async claim(): Promise<JobRecord> {
    const job = await claimNextJob(this.pool, { runnerId: this.runnerId, poolName: RUNNER_POOL, leaseSeconds: 300 });
    if (!job) throw new Error('no queued job to claim');
    return job;
  }

  emit(jobId: string, event: EngineEvent): Promise<unknown> {
    return appendEvent(this.pool, jobId, event);
  }

  /** One plan step: checkpoint, started, progress events, finished. */
  async step(jobId: string, stepIndex: number, step: { kind: string; title: string; seconds: number; detail?: string; progress?: Array<{ done: number; total: number | null; unit: string; detail?: string }> }): Promise<void> {
    const at = new Date().toISOString();
    await startStep(this.pool, { jobId, runnerId: this.runnerId, stepIndex, kind: step.kind });
    await this.emit(jobId, { type: 'step.started', at, step: step.kind, title: step.title });
    for (const p of step.progress ?? []) await this.emit(jobId, { type: 'step.progress', at, step: step.kind, ...p });
    await this.emit(jobId, { type: 'step.finished', at, step: step.kind, seconds: step.seconds, ...(step.detail ? { detail: step.detail } : {}) });
    await finishStep(this.pool, { jobId, runnerId: this.runnerId, stepIndex, status: 'succeeded' });
  }

  /** A step that starts and then fails (the runner records the failure before finishing the job). */
  async failStep(jobId: string, stepIndex: number, step: { kind: string; title: string; error: string }): Promise<void> {
    await startStep(this.pool, { jobId, runnerId: this.runnerId, stepIndex, kind: step.kind });
    await this.emit(jobId, { type: 'step.started', at: new Date().toISOString(), step: step.kind, title: step.title });
    await finishStep(this.pool, { jobId, runnerId: this.runnerId, stepIndex, status: 'failed', detail: { error: step.error } });
  }

  finish(jobId: string, outcome: JobOutcome): Promise<JobRecord> {
    return finishJob(this.pool, { jobId, runnerId: this.runnerId, outcome });
  }
}

/** A plan shaped like commands/pitr.ts makes one (the runner would compute it from the catalog). */
export function pitrPlan(time: string, to: 'side' | 'in-place' = 'side'): Plan {
  const inPlace = to === 'in-place';
  const where = inPlace ? 'production aiagent_prod (in place; old data directory kept)' : 'new side instance pitr-20250115T150000Z';
  return {
    command: 'pitr',
    summary: `Point-in-time recovery to time ${new Date(time).toISOString()} into ${where}`,
    risk: inPlace ? 'destructive' : 'side-copy',
    steps: [
      { kind: 'select', title: 'Check backup 20250115T000000Z and 58 WAL segments in storage', params: {}, destructive: false, estimateSeconds: 2 },
      ...(inPlace ? [{ kind: 'stop-production', title: 'Stop production aiagent_prod', params: {}, destructive: true, estimateSeconds: 10 }] : []),
      { kind: 'restore-base-backup', title: 'Restore base backup 20250115T000000Z', params: {}, destructive: inPlace, estimateSeconds: 40 },
      { kind: 'configure-recovery', title: `Configure recovery to time ${new Date(time).toISOString()}`, params: {}, destructive: false, estimateSeconds: 1 },
      { kind: 'replay-wal', title: 'Replay 58 WAL segments, then promote', params: {}, destructive: inPlace, estimateSeconds: 120 },
      { kind: 'verify', title: 'Verify all databases: connection, row counts, newest rows', params: {}, destructive: false, estimateSeconds: 5 },
    ],
    facts: {
      Target: `time ${new Date(time).toISOString()}`,
      'Base backup': '20250115T000000Z (consistent at 2025-01-15T00:05:00Z, timeline 1, 812.3 MB)',
      WAL: '58 segments 000000010000000000000010 … 000000010000000000000049 (928 MB), timeline 1',
      'Restores to': where,
    },
    params: { backupId: '20250115T000000Z', target: { kind: 'time', time: new Date(time).toISOString() }, inclusive: true, action: 'promote', to },
  };
}
