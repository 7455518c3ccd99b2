/**
 * GET /metrics (Prometheus text format, prom-client) of `recover bot` and `recover runner`,
 * beside /healthz and /readyz. One registry per process, made by createMetrics (nothing is
 * registered at import time, and prom-client's global registry is not used).
 *
 * Gauges about the pool's work are read from the control DB when scraped (jobs by command and
 * state, approvals waiting, the newest measured restore and replay rates, each production's RPO
 * exposure as the RPO watch last saw it, each pool's newest restore drill), with a timeout: a control DB that does not answer
 * in time leaves those series out and sets recover_control_db_up to 0, the scrape still answers.
 * Counters and the step histogram are counted where things happen (Slack calls in the bot; job
 * events: the runner as it runs a step, the bot as it follows the job).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { readMetricsFacts, type MetricsFacts } from '../control/metrics-facts.js';
import type { Db } from '../control/db.js';
import type { EngineEvent } from '../types.js';
import type { MetricsAnswer } from '../util/health.js';

/** How long a scrape waits for the control DB before it answers without those series. */
export const SCRAPE_TIMEOUT_MS = 2000;

export interface Metrics {
  registry: Registry;
  /** A Web API call sent again (reason: rate_limited, no_answer, error). */
  slackRetries: Counter<'method' | 'reason'>;
  /** A Web API call Slack answered with 429. */
  slackRateLimited: Counter<'method'>;
  /** A finished step of a job, as its events say (the bot follows every job's events). */
  stepSeconds: Histogram<'step'>;
  /** Counts what a job event says (a finished step's duration); the runner calls it for each event of its jobs. */
  observeEvent: (event: EngineEvent) => void;
  /** Answers GET /metrics (served by util/health.ts and the bot's receiver). */
  answer: MetricsAnswer;
}

export function createMetrics(options: { control: Db; process: 'bot' | 'runner'; timeoutMs?: number; read?: (db: Db) => Promise<MetricsFacts> }): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ process: options.process });
  const registers = [registry];
  const slackRetries = new Counter({ name: 'recover_slack_api_retries_total', help: 'Slack Web API calls sent again, by method and reason', labelNames: ['method', 'reason'] as const, registers });
  const slackRateLimited = new Counter({ name: 'recover_slack_api_rate_limited_total', help: 'Slack Web API calls answered with 429 (rate limited), by method', labelNames: ['method'] as const, registers });
  const stepSeconds = new Histogram({
    name: 'recover_step_duration_seconds',
    help: 'Duration of finished job steps, by step kind',
    labelNames: ['step'] as const,
    buckets: [1, 5, 15, 60, 300, 900, 1800, 3600, 7200],
    registers,
  });
  const up = new Gauge({ name: 'recover_control_db_up', help: '1 when the control DB answered this scrape in time, else 0 (the control-DB series are then left out)', registers });
  const jobs = new Gauge({ name: 'recover_jobs', help: 'Jobs in the control DB by command and state', labelNames: ['command', 'state'] as const, registers });
  const approvals = new Gauge({ name: 'recover_approvals_waiting', help: 'Requests waiting for approval, by command', labelNames: ['command'] as const, registers });
  const rates = new Gauge({ name: 'recover_throughput_bytes_per_second', help: 'Newest measured throughput per pool: phase restore-base-backup or replay-wal', labelNames: ['pool', 'phase'] as const, registers });
  const rpo = new Gauge({ name: 'recover_rpo_exposure_seconds', help: 'Age of the newest archived WAL per production, as the RPO watch last saw it', labelNames: ['pool', 'production'] as const, registers });
  const rpoState = new Gauge({ name: 'recover_rpo_state', help: 'The RPO watch\'s last verdict per production (1 for the current state: ok, exposed, failing)', labelNames: ['pool', 'production', 'state'] as const, registers });
  const drillRto = new Gauge({ name: 'recover_drill_rto_seconds', help: 'Measured RTO of the newest restore drill that passed, per pool', labelNames: ['pool'] as const, registers });
  const drillOk = new Gauge({ name: 'recover_drill_last_success', help: 'Whether the newest restore drill passed (1) or failed (0), per pool', labelNames: ['pool'] as const, registers });
  const drillAt = new Gauge({ name: 'recover_drill_last_timestamp_seconds', help: 'When the newest restore drill ended (Unix seconds), per pool', labelNames: ['pool'] as const, registers });
  const fromDb = [jobs, approvals, rates, rpo, rpoState, drillRto, drillOk, drillAt];
  const read = options.read ?? readMetricsFacts;
  const timeoutMs = options.timeoutMs ?? SCRAPE_TIMEOUT_MS;
  // One read at a time: scrapes arriving while one is pending share it (a hung control DB never piles up queries).
  let pending: Promise<MetricsFacts> | undefined;

  async function refresh(): Promise<void> {
    pending ??= read(options.control).finally(() => (pending = undefined));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
    const facts = await Promise.race([pending, late]).catch(() => null).finally(() => clearTimeout(timer));
    for (const gauge of fromDb) gauge.reset();
    up.set(facts ? 1 : 0);
    if (!facts) return;
    for (const row of facts.jobs) jobs.set({ command: row.command, state: row.status }, row.count);
    for (const row of facts.approvalsWaiting) approvals.set({ command: row.command }, row.count);
    for (const row of facts.rates) rates.set({ pool: row.pool, phase: row.phase }, row.bytesPerSecond);
    for (const row of facts.rpo) {
      if (row.exposureSeconds !== null) rpo.set({ pool: row.pool, production: row.production }, row.exposureSeconds);
      rpoState.set({ pool: row.pool, production: row.production, state: row.state }, 1);
    }
    for (const row of facts.drills) {
      if (row.lastRtoSeconds !== null) drillRto.set({ pool: row.pool }, row.lastRtoSeconds);
      drillOk.set({ pool: row.pool }, row.ok ? 1 : 0);
      drillAt.set({ pool: row.pool }, row.finishedAt);
    }
  }

  return {
    registry,
    observeEvent: (event) => {
      if (event.type === 'step.finished') stepSeconds.observe({ step: event.step }, event.seconds);
    },
    slackRetries,
    slackRateLimited,
    stepSeconds,
    answer: (_req, res) => {
      refresh()
        .then(() => registry.metrics())
        .then((body) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(body))
        .catch(() => res.writeHead(500).end());
    },
  };
}
