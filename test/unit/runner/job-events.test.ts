/**
 * The runner's job records while the control DB is away: written in order, each once, after
 * it returns (also when a write committed and only its reply was lost); a long outage keeps
 * one waiting progress per step; a lost lease drops the rest; a shutdown is reported.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { JobRecords } from '../../../src/runner/job-events.js';
import { JobEventWriter } from '../../../src/runner/job-events.js';
import { RecoverError } from '../../../src/errors.js';
import type { EngineEvent, Plan } from '../../../src/types.js';

const log = pino({ level: 'silent' });
const plan: Plan = {
  command: 'pitr',
  summary: 's',
  risk: 'side-copy',
  steps: [
    { kind: 'restore-base-backup', title: 'Restore', params: {}, destructive: false },
    { kind: 'replay-wal', title: 'Replay', params: {}, destructive: false },
  ],
  facts: {},
};
const at = '2025-01-15T10:00:00.000Z';
const started = (step: string): EngineEvent => ({ type: 'step.started', at, step, title: step });
const finished = (step: string): EngineEvent => ({ type: 'step.finished', at, step, seconds: 1 });
const progress = (step: string, done: number, total = 100): EngineEvent => ({ type: 'step.progress', at, step, done, total, unit: 'bytes' });

/** A control DB stand-in: 'down' fails before writing; 'lose-reply' writes, then fails the reply once. */
function fakeControl() {
  const state = { mode: 'up' as 'up' | 'down' | 'lose-reply', attempts: 0 };
  const events = new Map<number, EngineEvent>();
  const log: string[] = [];
  const gate = async <T>(apply: () => T): Promise<T> => {
    state.attempts += 1;
    if (state.mode === 'down') throw Object.assign(new Error('the database system is shutting down'), { code: '57P03' });
    const value = apply();
    if (state.mode === 'lose-reply') {
      state.mode = 'up';
      throw new Error('Connection terminated unexpectedly');
    }
    return value;
  };
  const records: JobRecords = {
    event: (event, seq) => gate(() => {
      if (!events.has(seq)) {
        events.set(seq, event);
        log.push(`event ${seq} ${event.type}`);
      }
    }),
    startStep: (index, kind) => gate(() => log.push(`start ${index} ${kind}`)),
    finishStep: (index, status) => gate(() => {
      if (!log.includes(`finish ${index} ${status}`)) log.push(`finish ${index} ${status}`);
    }),
    rateSample: () => gate(() => undefined),
    saveState: (index, operation, resumeFrom) => gate(() => log.push(`state ${index} ${operation} ${resumeFrom}`)),
  };
  return { state, events, log, records };
}

const fast = { baseMs: 1, maxMs: 5 };
/** Lets the writer try a few times (against a DB that is down). */
const someTries = async (control: { state: { attempts: number } }, n: number) => {
  const target = control.state.attempts + n;
  while (control.state.attempts < target) await new Promise((resolve) => setTimeout(resolve, 1));
};

describe('JobEventWriter while the control DB is away', () => {
  it('keeps the records, and writes each once, in order, when it is back', async () => {
    const control = fakeControl();
    const writer = new JobEventWriter(null as never, 'job-1', 'runner-1', plan, log, { records: control.records, backoff: fast });
    writer.emit(started('restore-base-backup'));
    await writer.flush();
    control.state.mode = 'down';
    writer.emit(finished('restore-base-backup'));
    writer.emit(started('replay-wal'));
    await someTries(control, 5);
    expect(control.log).toEqual(['event 1 step.started', 'start 0 restore-base-backup']);
    control.state.mode = 'up';
    writer.emit(finished('replay-wal'));
    await writer.flush();
    expect(control.log).toEqual([
      'event 1 step.started',
      'start 0 restore-base-backup',
      'event 2 step.finished',
      'finish 0 succeeded',
      'event 3 step.started',
      'start 1 replay-wal',
      'event 4 step.finished',
      'finish 1 succeeded',
    ]);
  });

  it('an event whose INSERT committed but whose reply was lost is not written twice', async () => {
    const control = fakeControl();
    const writer = new JobEventWriter(null as never, 'job-1', 'runner-1', plan, log, { records: control.records, backoff: fast });
    control.state.mode = 'lose-reply';
    writer.emit(started('restore-base-backup'));
    await writer.flush();
    expect(control.state.attempts).toBeGreaterThan(2);
    expect([...control.events.keys()]).toEqual([1]);
    expect(control.log.filter((line) => line.startsWith('event'))).toEqual(['event 1 step.started']);
  });

  it('during a long outage only the newest waiting progress of a step is kept', async () => {
    const control = fakeControl();
    const writer = new JobEventWriter(null as never, 'job-1', 'runner-1', plan, log, { records: control.records, backoff: fast });
    control.state.mode = 'down';
    writer.emit(started('replay-wal'));
    // Thinning lets a progress through per second or when done; these are all "done" in turn.
    for (let done = 1; done <= 50; done++) writer.emit(progress('replay-wal', done, done));
    expect(writer.pending).toBeLessThanOrEqual(3);
    control.state.mode = 'up';
    await writer.flush();
    const written = [...control.events.values()];
    expect(written.map((e) => e.type)).toEqual(['step.started', 'step.progress']);
    expect(written[1]).toMatchObject({ done: 50 });
  });

  it('a lost lease drops what waits and is reported by flush', async () => {
    const control = fakeControl();
    let refuse = false;
    const records: JobRecords = { ...control.records, event: async (event, seq) => (refuse ? Promise.reject(new RecoverError('LEASE_LOST', 'not yours')) : control.records.event(event, seq)) };
    const writer = new JobEventWriter(null as never, 'job-1', 'runner-1', plan, log, { records, backoff: fast });
    writer.emit(started('restore-base-backup'));
    await writer.flush();
    refuse = true;
    writer.emit(finished('restore-base-backup'));
    writer.emit(started('replay-wal'));
    await expect(writer.flush()).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(control.log).toEqual(['event 1 step.started', 'start 0 restore-base-backup']);
    writer.emit(finished('replay-wal'));
    expect(writer.pending).toBe(0);
  });

  it('stops retrying when the runner shuts down, and flush says so', async () => {
    const control = fakeControl();
    const stop = new AbortController();
    const writer = new JobEventWriter(null as never, 'job-1', 'runner-1', plan, log, { records: control.records, backoff: fast, signal: stop.signal });
    control.state.mode = 'down';
    writer.emit(started('restore-base-backup'));
    await someTries(control, 3);
    stop.abort();
    await expect(writer.flush()).rejects.toMatchObject({ code: '57P03' });
  });
});

describe('JobEventWriter and a long-running operation\'s poller state', () => {
  it('keeps it with the running step, after the step\'s start, in order, and never as an event row', async () => {
    const control = fakeControl();
    const writer = new JobEventWriter(null as never, 'job-1', 'runner-1', plan, log, { records: control.records, backoff: fast });
    writer.emit(started('replay-wal'));
    writer.emit({ type: 'step.state', at, step: 'replay-wal', operation: 'georestore:/x', resumeFrom: '{"state":1}' });
    writer.emit({ type: 'step.state', at, step: 'replay-wal', operation: 'georestore:/x', resumeFrom: '{"state":2}' });
    writer.emit(finished('replay-wal'));
    await writer.flush();
    expect(control.log).toEqual(['event 1 step.started', 'start 1 replay-wal', 'state 1 georestore:/x {"state":1}', 'state 1 georestore:/x {"state":2}', 'event 2 step.finished', 'finish 1 succeeded']);
    expect([...control.events.values()].some((e) => e.type === 'step.state')).toBe(false);
  });
});
