/** Long-running services and control-DB tools: `recover runner`, `recover bot`, `recover audit verify`. */
import { hostname } from 'node:os';
import type pg from 'pg';
import { migrate, verifyAudit } from '../control/index.js';
import { requireProductionName, requireStorageDriver } from '../config.js';
import { createPool } from '../engine/pg-client.js';
import { RecoverError } from '../errors.js';
import { runnerReadiness } from '../runner/health.js';
import { createRunner } from '../runner/runner.js';
import { startCalibration, type Calibration } from '../runner/calibration.js';
import { rpoWatch } from '../runner/rpo/watch.js';
import { twoPrimariesWatch } from '../runner/two-primaries.js';
import { createMetrics } from '../metrics/registry.js';
import { runnerBackupSchedule } from '../runner/scheduled-backup.js';
import { runnerDumpSchedule } from '../runner/scheduled-dump.js';
import { runnerDrillSchedule } from '../runner/drill-schedule.js';
import type { Logger } from '../types.js';
import { startHealthServer, type HealthServer } from '../util/health.js';
import { createRuntime, printResult, type CliIo } from './runtime.js';

/**
 * The long-lived processes' pools: a connection to an unreachable control DB gives up after
 * 10 s instead of the OS's TCP timeout, and TCP keepalive finds a connection whose server
 * vanished without closing it. createPool handles every connection's 'error', so a control-DB
 * restart is a failed query to retry, never a crash.
 */
const SERVICE_POOL: pg.PoolConfig = { max: 5, connectionTimeoutMillis: 10_000, keepAlive: true, keepAliveInitialDelayMillis: 10_000 };

export function controlPool(url: string | undefined, options: pg.PoolConfig = {}, log?: Logger): pg.Pool {
  if (!url) throw new RecoverError('CONFIG_INVALID', 'RECOVER_CONTROL_URL is not set.', { hint: 'Point it at the control database, e.g. postgres://recover@control-db/recover.' });
  return createPool({ connectionString: url, max: 5, ...options }, log);
}

/**
 * The bot's pool keeps every connection it opens (min = max: the bot opens them at start-up,
 * before it reports ready, so that a burst of commands never waits for connections), and
 * gives up on an unreachable control DB after 10 s instead of the OS's TCP timeout.
 */
const BOT_POOL: pg.PoolConfig = { ...SERVICE_POOL, max: 5, min: 5 };

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}

export async function runRunner(io: CliIo): Promise<void> {
  const runtime = await createRuntime(io, { service: true });
  // Checked before anything starts: a runner without them would plan against nothing or confirm with a made-up name.
  requireStorageDriver(runtime.config.storage);
  requireProductionName(runtime.config);
  const control = controlPool(runtime.config.controlUrl, SERVICE_POOL, runtime.log);
  let health: HealthServer | undefined;
  try {
    const runnerId = runtime.config.runnerId ?? `${hostname()}-${process.pid}`;
    // GET /healthz, /readyz and /metrics (RECOVER_HEALTH_PORT): alive from here, ready once started.
    let running = false;
    const { healthPort } = runtime.config;
    const metrics = createMetrics({ control, process: 'runner' });
    if (healthPort !== undefined) health = await startHealthServer({ port: healthPort, probe: runnerReadiness(control, runnerId, () => running), metrics: metrics.answer });
    await migrate(control);
    let calibration: Calibration | undefined;
    const runner = createRunner({ config: runtime.config, control, storage: runtime.context.storage, exec: runtime.context.exec, log: runtime.log, clock: runtime.context.clock, runnerId, calibration: () => calibration?.rates(), onEvent: metrics.observeEvent, ...(runtime.context.failpoint ? { failpoint: runtime.context.failpoint } : {}) });
    // RECOVER_BACKUP_SCHEDULE: base backups, then retention; one runner of the pool takes each slot.
    const schedule = runnerBackupSchedule({ config: runtime.config, control, storage: runtime.context.storage, exec: runtime.context.exec, log: runtime.log, clock: runtime.context.clock, runnerId });
    // RECOVER_DUMP_SCHEDULE: `recover dump-backup`, then dump retention; one runner of the pool takes each slot.
    const dumps = runnerDumpSchedule({ config: runtime.config, control, storage: runtime.context.storage, exec: runtime.context.exec, log: runtime.log, clock: runtime.context.clock, runnerId });
    // RECOVER_DRILL_SCHEDULE: restore drills to a scratch side instance; one runner of the pool takes each slot.
    const drills = runnerDrillSchedule({ config: runtime.config, control, storage: runtime.context.storage, exec: runtime.context.exec, log: runtime.log, clock: runtime.context.clock, runnerId });
    // The RPO watch (RECOVER_RPO_CHECK_SECONDS): alerts recorded for the bot to post; one runner of the pool writes each.
    const watch = rpoWatch({ config: runtime.config, control, storage: runtime.context.storage, clock: runtime.context.clock, log: runtime.log });
    // After a failover: the old primary back writable beside the new one is fenced and alerted (RECOVER_SOURCE_URL and RECOVER_STANDBY_URL both set).
    const primaries = twoPrimariesWatch({ config: runtime.config, control, exec: runtime.context.exec, log: runtime.log });
    await runner.start();
    // After the start, not before it: the probe (at most 3 s) only sharpens the first estimates (runner/calibration.ts).
    calibration = startCalibration({ config: runtime.config, storage: runtime.context.storage, exec: runtime.context.exec, log: runtime.log });
    schedule?.start();
    dumps?.start();
    drills?.start();
    watch.start();
    primaries?.start();
    running = true;
    runtime.log.info({ runnerId, pool: runtime.config.pool, backupSchedule: runtime.config.backupSchedule ?? null, dumpSchedule: runtime.config.dumpSchedule ?? null, healthPort: health?.port ?? null }, 'runner started');
    await untilSignal();
    running = false;
    await watch.stop();
    await primaries?.stop();
    await drills?.stop();
    await schedule?.stop();
    await dumps?.stop();
    await runner.stop();
    await calibration.done;
  } finally {
    await health?.close();
    await control.end();
  }
}

export async function runBot(io: CliIo): Promise<void> {
  // Loaded here, not at the top: Bolt and the Slack layer take ~130 ms to load, which every
  // other command (`recover pitr` at 3 a.m. included) would pay for nothing. The build splits
  // this import into its own chunk (scripts/build.mjs).
  const { createBot, openConnections } = await import('../slack/index.js');
  const runtime = await createRuntime(io, { service: true });
  requireProductionName(runtime.config);
  const control = controlPool(runtime.config.controlUrl, BOT_POOL, runtime.log);
  try {
    await openConnections(control, 1); // a clear start-up error when the control DB is unreachable
    await migrate(control);
    const bot = createBot({ config: runtime.config, control, log: runtime.log });
    const { port } = await bot.start();
    runtime.log.info({ port, socketMode: runtime.config.slack.socketMode }, 'bot started');
    io.stdout.write(`recover-bot listening${port === null ? ' in Socket Mode' : ` on port ${port}`}\n`);
    await untilSignal();
    await bot.stop();
  } finally {
    await control.end();
  }
}

export async function auditVerify(io: CliIo, json: boolean): Promise<void> {
  const runtime = await createRuntime(io, { json });
  const control = controlPool(runtime.config.controlUrl);
  try {
    const result = await verifyAudit(control);
    if (!result.ok) {
      throw new RecoverError('VERIFY_FAILED', `The audit log was tampered with: the chain breaks at entry ${result.brokenAtSeq} (${result.reason}).`, {
        hint: 'Treat the control database as compromised: compare with backups of it and investigate who changed it.',
      });
    }
    printResult(io, json, result, () => `Audit log intact: ${result.rows} entries, hash chain verified.`);
  } finally {
    await control.end();
  }
}
