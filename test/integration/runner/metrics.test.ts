/**
 * The runner's GET /metrics against a real control DB: a `drill history` job run by a real
 * runner (createRunner, as `recover runner` wires it: each job event to metrics.observeEvent)
 * shows up as a step duration, the drills recorded in restore_drills as the pool's newest
 * result, time and RTO, and the job under its command and state. Scraped over HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { drill } from '../../../commands/drill.js';
import { loadConfig } from '../../../src/config.js';
import { createRequest, enqueueJob, getCurrentPlan, getJob, markApprovalRequested } from '../../../src/control/index.js';
import { recordDrill } from '../../../src/control/drills.js';
import { createExec } from '../../../src/engine/exec.js';
import { createMetrics } from '../../../src/metrics/registry.js';
import { createRunner } from '../../../src/runner/runner.js';
import { openStorage } from '../../../src/storage/index.js';
import { systemClock } from '../../../src/types.js';
import { startHealthServer, type HealthServer } from '../../../src/util/health.js';
import { createTestDatabase, type TestDatabase } from '../control/test-database.js';

let db: TestDatabase;
let dir: string;
let health: HealthServer | undefined;

beforeAll(async () => {
  [db, dir] = await Promise.all([createTestDatabase({ migrated: true }), mkdtemp(join(tmpdir(), 'runner-metrics-'))]);
}, 60_000);

afterAll(async () => {
  await health?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The value of one series (name and labels as Prometheus prints them). */
const valueOf = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

test('a job\'s step durations, the drills and the jobs, scraped from the runner\'s /metrics', async () => {
  const requestedAt = (iso: string) => new Date(iso);
  await recordDrill(db.pool, { pool: 'default', trigger: 'schedule', requestedAt: requestedAt('2026-12-01T03:00:00Z'), ok: true, backupId: 'B1', target: null, rtoSeconds: 754.5, error: null });
  await recordDrill(db.pool, { pool: 'default', trigger: 'schedule', requestedAt: requestedAt('2026-12-02T03:00:00Z'), ok: false, backupId: 'B2', target: null, rtoSeconds: null, error: { code: 'RESTORE_FAILED', message: 'WAL gap' } });
  const { rows: [newest] } = await db.pool.query<{ at: number }>("SELECT extract(epoch FROM finished_at)::float8 AS at FROM restore_drills WHERE backup_id = 'B2'");

  const config = loadConfig({
    RECOVER_CONTROL_URL: `postgres://postgres@127.0.0.1:5432/${db.name}`,
    RECOVER_STORAGE_DRIVER: 'local',
    RECOVER_STORAGE_LOCAL_DIR: dir,
    RECOVER_PRODUCTION_NAME: 'aiagent_prod',
  });
  const log = pino({ level: 'silent' });
  const metrics = createMetrics({ control: db.pool, process: 'runner' });
  health = await startHealthServer({ port: 0, host: '127.0.0.1', probe: async () => ({ ready: true }), metrics: metrics.answer });
  const runner = createRunner({ config, control: db.pool, storage: await openStorage(config.storage), exec: createExec(log), log, clock: systemClock, runnerId: 'runner-metrics', onEvent: metrics.observeEvent });

  const request = await createRequest(db.pool, { teamId: 'T0TEAM', channelId: 'C0INC', requesterId: 'U0ALICE', command: 'drill', args: drill.parse(['history']) as Record<string, unknown> });
  await runner.tick();
  const plan = await getCurrentPlan(db.pool, request.id);
  expect(plan?.plan.risk).toBe('read-only');
  // Read-only: no approval needed; the bot marks it asked for and queues it at once, as here.
  await markApprovalRequested(db.pool, { requestId: request.id, userId: 'U0ALICE', planDigest: plan!.digest });
  const { job } = await enqueueJob(db.pool, { requestId: request.id, planDigest: plan!.digest, pool: 'default' });
  expect(await runner.tick()).toBe(true);
  expect((await getJob(db.pool, job.id))?.status).toBe('succeeded');

  const response = await fetch(`http://127.0.0.1:${health.port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  const text = await response.text();
  expect(valueOf(text, 'recover_step_duration_seconds_count{process="runner",step="report-drills"}')).toBe(1);
  expect(valueOf(text, 'recover_step_duration_seconds_sum{process="runner",step="report-drills"}')).toBeGreaterThan(0);
  expect(valueOf(text, 'recover_jobs{command="drill",state="succeeded",process="runner"}')).toBe(1);
  expect(valueOf(text, 'recover_drill_rto_seconds{pool="default",process="runner"}')).toBe(754.5);
  expect(valueOf(text, 'recover_drill_last_success{pool="default",process="runner"}')).toBe(0);
  expect(valueOf(text, 'recover_drill_last_timestamp_seconds{pool="default",process="runner"}')).toBeCloseTo(newest!.at, 3);
  expect(valueOf(text, 'recover_control_db_up{process="runner"}')).toBe(1);
}, 60_000);
