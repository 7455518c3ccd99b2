/**
 * What the bot knows about a running job, rebuilt from its events: a pure reducer, so the
 * status message can be re-rendered from scratch after a restart and tested as a table.
 * Results and reports come from the runner as JSON: they are parsed defensively here.
 */
import type { JobStatus } from '../../control/index.js';
import type { IntegrityReport } from '../../engine/verify.js';
import type { EngineEvent, Plan, StepEstimate } from '../../types.js';

export interface ProgressView {
  done: number;
  total: number | null;
  unit: string;
  detail?: string;
  /** When the runner measured it (the event's time). */
  at?: string;
}

export interface StepView {
  /** The step kind; events name steps by it. */
  step: string;
  title: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  destructive: boolean;
  seconds?: number;
  detail?: string;
  progress?: ProgressView;
  /** The plan's estimate (what the summary compares with and the ETA starts from). */
  estimateSeconds?: number;
  estimate?: StepEstimate;
  /** When the step started, and its first progress: the window the ETA's observed rate is taken over. */
  startedAt?: string;
  firstProgress?: { at: string; done: number };
}

export interface JobView {
  jobId: string;
  status: JobStatus;
  lastEventId: number;
  command?: string;
  startedAt?: string;
  finishedAt?: string;
  steps: StepView[];
  /** The step running now, if any. */
  current: string | null;
  integrity: IntegrityReport | null;
  result: unknown;
  error: { code: string; message: string } | null;
}

export function initialJobView(jobId: string, plan: Plan | null): JobView {
  return {
    jobId,
    status: 'queued',
    lastEventId: 0,
    steps: (plan?.steps ?? []).map((s) => ({
      step: s.kind,
      title: s.title,
      state: 'pending',
      destructive: s.destructive,
      ...(s.estimateSeconds !== undefined ? { estimateSeconds: s.estimateSeconds } : {}),
      ...(s.estimate ? { estimate: s.estimate } : {}),
    })),
    current: null,
    integrity: null,
    result: null,
    error: null,
  };
}

export const isTerminal = (status: JobStatus): boolean => status === 'succeeded' || status === 'failed' || status === 'cancelled';

function withStep(view: JobView, name: string, change: (step: StepView) => StepView, title?: string): StepView[] {
  const steps = [...view.steps];
  // The running or next pending step of that kind; a kind may repeat in a plan.
  let index = steps.findIndex((s) => s.step === name && s.state === 'running');
  if (index < 0) index = steps.findIndex((s) => s.step === name && s.state === 'pending');
  for (let i = steps.length - 1; index < 0 && i >= 0; i--) if (steps[i]!.step === name) index = i;
  if (index < 0) {
    steps.push(change({ step: name, title: title ?? name, state: 'pending', destructive: false }));
  } else {
    steps[index] = change(steps[index]!);
  }
  return steps;
}

export function applyEvent(view: JobView, id: number, event: EngineEvent): JobView {
  const next: JobView = { ...view, lastEventId: Math.max(view.lastEventId, id) };
  switch (event.type) {
    case 'job.started':
      return { ...next, status: isTerminal(view.status) ? view.status : 'running', command: event.command, startedAt: event.at };
    case 'step.started':
      return {
        ...next,
        status: isTerminal(view.status) ? view.status : 'running',
        current: event.step,
        steps: withStep(view, event.step, ({ firstProgress: _previous, ...s }) => ({ ...s, title: event.title || s.title, state: 'running', startedAt: event.at }), event.title),
      };
    case 'step.progress': {
      const progress: ProgressView = { done: event.done, total: event.total, unit: event.unit, ...(event.detail ? { detail: event.detail } : {}), at: event.at };
      return {
        ...next,
        current: event.step,
        steps: withStep(view, event.step, (s) => ({ ...s, state: s.state === 'done' ? 'done' : 'running', progress, firstProgress: s.firstProgress ?? { at: event.at, done: event.done } })),
      };
    }
    case 'step.finished':
      return {
        ...next,
        current: view.current === event.step ? null : view.current,
        steps: withStep(view, event.step, (s) => ({
          ...s,
          state: 'done',
          seconds: event.seconds,
          ...(event.detail ? { detail: event.detail } : {}),
          ...(s.progress?.total ? { progress: { ...s.progress, done: s.progress.total } } : {}),
        })),
      };
    case 'integrity.report':
      return { ...next, integrity: parseIntegrityReport(event.report) };
    case 'job.succeeded': {
      const report = parseIntegrityReport((event.result as { report?: unknown } | null)?.report);
      return { ...next, status: 'succeeded', finishedAt: event.at, current: null, result: event.result, integrity: view.integrity ?? report };
    }
    case 'job.failed':
      // A note recorded after a cancelled or succeeded end (a runner later tidied what the lost
      // one left, control/runner-lost.ts) is said with the job as it ended, not as its failure.
      if (view.status === 'cancelled' || view.status === 'succeeded') return { ...next, error: { code: event.code, message: event.message } };
      return { ...finishRunning(next, 'failed'), status: 'failed', finishedAt: event.at, error: { code: event.code, message: event.message } };
    case 'job.cancelled':
      return { ...finishRunning(next, 'failed'), status: 'cancelled', finishedAt: event.at };
    default:
      return next;
  }
}

function finishRunning(view: JobView, state: 'failed'): JobView {
  return { ...view, current: null, steps: view.steps.map((s) => (s.state === 'running' ? { ...s, state } : s)) };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseIntegrityReport(value: unknown): IntegrityReport | null {
  if (!isRecord(value) || typeof value.ok !== 'boolean') return null;
  const checks = Array.isArray(value.checks) ? value.checks.filter(isRecord) : [];
  const databases = Array.isArray(value.databases) ? value.databases.filter(isRecord) : [];
  return {
    ok: value.ok,
    ...(typeof value.subject === 'string' && value.subject ? { subject: value.subject } : {}),
    checks: checks.map((c) => ({ name: String(c.name ?? '?'), ok: c.ok === true, message: String(c.message ?? '') })),
    databases: databases.map((d) => ({
      name: String(d.name ?? '?'),
      tables: (Array.isArray(d.tables) ? d.tables.filter(isRecord) : []).map((t) => ({
        table: String(t.table ?? '?'),
        rows: typeof t.rows === 'number' ? t.rows : Number(t.rows ?? 0),
        ...(t.newest === undefined ? {} : { newest: t.newest === null ? null : String(t.newest) }),
        ...(t.count === 'estimate' || t.count === 'skipped' ? { count: t.count } : {}),
      })),
    })),
  };
}
