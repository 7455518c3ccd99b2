/**
 * The runner against a real control DB and a real sandbox: it plans requests, refuses what it
 * cannot reach, runs an approved PITR, and refuses a job forged into the control DB.
 */
import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pitr } from '../../../commands/pitr.js';
import { verify } from '../../../commands/verify.js';
import { createRequest, enqueueJob, getCurrentPlan, getJob, getRequest, listEvents, listStepCheckpoints, markApprovalRequested, recordApproval, requestCancel } from '../../../src/control/index.js';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { stopCluster } from '../../../src/engine/local-cluster.js';
import { createRunner, type Runner } from '../../../src/runner/runner.js';
import { scheduledBackupWork } from '../../../src/runner/scheduled-backup.js';
import { readCatalog } from '../../../src/engine/read-catalog.js';
import { listAudit } from '../../../src/control/audit.js';
import { parseLsn, segmentOfLsn } from '../../../src/catalog/segments.js';
import { runnerPolicy } from '../../../src/runner/execute.js';
import { systemClock } from '../../../src/types.js';
import { createTestDatabase, type TestDatabase } from '../control/test-database.js';

let sandbox: Sandbox;
let db: TestDatabase;
let runner: Runner;
let beforeMistake: Date;
const TEAM = 'T0TEAM';

beforeAll(async () => {
  [sandbox, db] = await Promise.all([startSandbox(), createTestDatabase({ migrated: true })]);
  sandbox.config.approval = { approvers: { [TEAM]: { users: ['U0BOB'], usergroups: [] } }, required: { 'read-only': 0, 'side-copy': 1, destructive: 1 }, ttlMinutes: 30 };
  await sandbox.query('CREATE TABLE workflows (id int PRIMARY KEY, user_id int)');
  await sandbox.query('INSERT INTO workflows SELECT g, g % 7 FROM generate_series(1, 300) g');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await new Promise((resolve) => setTimeout(resolve, 50));
  beforeMistake = new Date();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await sandbox.query('DELETE FROM workflows WHERE user_id = 3');
  await sandbox.switchAndArchive();
  runner = createRunner({ config: sandbox.config, control: db.pool, storage: sandbox.storage, exec: sandbox.exec, log: pino({ level: 'silent' }), clock: systemClock, runnerId: 'runner-test' });
}, 120_000);

afterAll(async () => {
  await db?.drop();
  await sandbox?.cleanup();
});

async function request(text: string, requester = 'U0ALICE') {
  const args = pitr.parse(text.split(' '));
  return createRequest(db.pool, { teamId: TEAM, channelId: 'C0INC', requesterId: requester, command: 'pitr', args: args as Record<string, unknown> });
}

test('plans a request, runs it once approved by another person, and records events and checkpoints', async () => {
  const req = await request(beforeMistake.toISOString());
  await runner.tick();
  const plan = await getCurrentPlan(db.pool, req.id);
  expect(plan?.plan.facts['Base backup']).toMatch(/^\d{8}T\d{6}Z/);
  // One expected duration, from the steps' estimates (the preview sums them); no second figure as a fact.
  expect(Object.keys(plan!.plan.facts).filter((name) => /duration/i.test(name))).toEqual([]);
  expect(plan?.plan.steps.every((s) => typeof s.estimateSeconds === 'number')).toBe(true);
  expect(plan?.plan.steps.map((s) => s.kind)).toEqual(['select', 'restore-base-backup', 'configure-recovery', 'replay-wal', 'verify']);

  const policy = runnerPolicy(sandbox.config, 'side-copy');
  await markApprovalRequested(db.pool, { requestId: req.id, userId: req.requesterId, planDigest: plan!.digest });
  await recordApproval(db.pool, { requestId: req.id, approverId: 'U0BOB', decision: 'approve', planDigest: plan!.digest, policy });
  const { job } = await enqueueJob(db.pool, { requestId: req.id, planDigest: plan!.digest, pool: 'default' });
  expect(await runner.tick()).toBe(true);

  const finished = await getJob(db.pool, job.id);
  expect(finished?.error).toBeNull();
  expect(finished?.status).toBe('succeeded');
  const result = finished!.result as { socketDir: string; port: number; dataDir: string; report: { ok: boolean } };
  expect(result.report.ok).toBe(true);
  try {
    const client = new pg.Client({ host: result.socketDir, port: result.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n FROM workflows');
    await client.end();
    expect(rows[0].n).toBe(300);
  } finally {
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
  }
  const types = (await listEvents(db.pool, job.id)).map((event) => event.event.type);
  expect(types).toContain('step.started');
  expect(types).toContain('integrity.report');
  expect(types.at(-1)).toBe('job.succeeded');
  const steps = await listStepCheckpoints(db.pool, job.id);
  expect(steps.map((s) => [s.kind, s.status])).toEqual(plan!.plan.steps.map((s) => [s.kind, 'succeeded']));
});

test('a target outside the window is refused at planning, with the restorable window', async () => {
  const req = await request('2001-01-01T00:00:00Z');
  await runner.tick();
  const stored = await getRequest(db.pool, req.id);
  expect(stored?.planningError?.code).toBe('TARGET_OUTSIDE_WINDOW');
  expect(stored?.planningError?.hint).toContain('Restorable window');
  expect(await getCurrentPlan(db.pool, req.id)).toBeNull();
});

test('a job forged directly into the control DB without approvals is refused by the runner', async () => {
  const req = await request(beforeMistake.toISOString());
  await runner.tick();
  const plan = await getCurrentPlan(db.pool, req.id);
  const { rows } = await db.pool.query(`INSERT INTO jobs (request_id, plan_digest, pool) VALUES ($1, $2, 'default') RETURNING id`, [req.id, plan!.digest]);
  await runner.tick();
  const job = await getJob(db.pool, rows[0].id);
  expect(job?.status).toBe('failed');
  expect(job?.error?.code).toBe('APPROVAL_INVALID');
  const steps = await listStepCheckpoints(db.pool, job!.id);
  expect(steps).toEqual([]);
});

test('a self-approval inserted behind the bot does not count', async () => {
  const req = await request(beforeMistake.toISOString());
  await runner.tick();
  const plan = await getCurrentPlan(db.pool, req.id);
  await db.pool.query(
    `INSERT INTO approvals (request_id, approver_id, plan_digest, decision, expires_at) VALUES ($1, 'U0ALICE', $2, 'approve', now() + interval '30 minutes')`,
    [req.id, plan!.digest],
  );
  const { rows } = await db.pool.query(`INSERT INTO jobs (request_id, plan_digest, pool) VALUES ($1, $2, 'default') RETURNING id`, [req.id, plan!.digest]);
  await runner.tick();
  const job = await getJob(db.pool, rows[0].id);
  expect(job?.error?.code).toBe('APPROVAL_INVALID');
});

test('a cancel reaches a running job inside a step: the stop-production hook is killed and nothing is moved', async () => {
  const config = { ...sandbox.config, source: { ...sandbox.config.source, stop: { method: 'hook' as const, stopCommand: ['sleep', '30'], startCommand: ['true'] } } };
  const slowRunner = createRunner({ config, control: db.pool, storage: sandbox.storage, exec: sandbox.exec, log: pino({ level: 'silent' }), clock: systemClock, runnerId: 'runner-cancel' });
  const req = await request(`${beforeMistake.toISOString()} --to in-place`);
  await slowRunner.tick();
  const plan = await getCurrentPlan(db.pool, req.id);
  expect(plan?.plan.steps.map((s) => s.kind)).toContain('stop-production');
  await markApprovalRequested(db.pool, { requestId: req.id, userId: req.requesterId, planDigest: plan!.digest });
  await recordApproval(db.pool, { requestId: req.id, approverId: 'U0BOB', decision: 'approve', planDigest: plan!.digest, policy: runnerPolicy(config, 'destructive') });
  const { job } = await enqueueJob(db.pool, { requestId: req.id, planDigest: plan!.digest, pool: 'default' });
  const running = slowRunner.tick();
  // Until the stop step is running, however long a loaded machine takes (a fixed number of polls let the test go on before it).
  while (!(await listStepCheckpoints(db.pool, job.id)).some((s) => s.kind === 'stop-production' && s.status === 'running')) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { effect } = await requestCancel(db.pool, job.id, 'U0ALICE');
  expect(effect).toBe('requested');
  await running;
  const finished = await getJob(db.pool, job.id);
  expect(finished?.status).toBe('cancelled');
  const steps = await listStepCheckpoints(db.pool, job.id);
  expect(steps.find((s) => s.kind === 'stop-production')?.status).toBe('failed');
  expect(steps.some((s) => s.kind === 'move-aside')).toBe(false);
  // Production was neither stopped nor moved.
  expect((await readdir(dirname(sandbox.production.dataDir))).some((name) => name.includes('before-pitr'))).toBe(false);
  const [{ n }] = (await sandbox.query<{ n: number }>('SELECT count(*)::int AS n FROM workflows')) as [{ n: number }];
  expect(n).toBeGreaterThan(0);
});

test('a command that runs to the end but fails its own verdict (verification) is a failed job that keeps its result', async () => {
  // A database that exists when the plan is made (an unknown one is refused at planning) and is
  // gone when the job runs: its checks fail, so the job fails its verdict after running.
  await sandbox.query('CREATE DATABASE gone_before_the_job');
  const req = await createRequest(db.pool, { teamId: TEAM, channelId: 'C0INC', requesterId: 'U0ALICE', command: 'verify', args: verify.parse(['gone_before_the_job']) as Record<string, unknown> });
  await runner.tick();
  const plan = await getCurrentPlan(db.pool, req.id);
  expect(plan?.plan.risk).toBe('read-only');
  await sandbox.query('DROP DATABASE gone_before_the_job');
  await markApprovalRequested(db.pool, { requestId: req.id, userId: req.requesterId, planDigest: plan!.digest });
  const { job } = await enqueueJob(db.pool, { requestId: req.id, planDigest: plan!.digest, pool: 'default' });
  expect(await runner.tick()).toBe(true);
  const finished = await getJob(db.pool, job.id);
  expect(finished?.status).toBe('failed');
  expect(finished?.error).toMatchObject({ code: 'VERIFY_FAILED' });
  expect((finished?.error as { message: string }).message).toContain('gone_before_the_job');
  expect((finished?.result as { report: { ok: boolean } }).report.ok).toBe(false);
});

test('a scheduled slot takes a base backup, then retention (the newest 1) expires the older backups and the WAL only they needed, audited', async () => {
  const before = await readCatalog(sandbox.storage, new Date());
  expect(before.backups.length).toBeGreaterThan(0);
  const work = scheduledBackupWork({ config: { ...sandbox.config, retention: { full: 1 } }, control: db.pool, storage: sandbox.storage, exec: sandbox.exec, log: pino({ level: 'silent' }), clock: systemClock, runnerId: 'runner-test' });
  const result = (await work(new Date(), new AbortController().signal)) as { backupId: string; startLsn: string; retention: { backupsDeleted: string[] } };
  const after = await readCatalog(sandbox.storage, new Date());
  expect(after.backups.map((b) => b.id)).toEqual([result.backupId]);
  expect(result.retention.backupsDeleted).toEqual(before.backups.map((b) => b.id));
  const start = segmentOfLsn(parseLsn(result.startLsn));
  expect(after.wal.segments.length).toBeGreaterThan(0);
  expect(after.wal.segments.every((segment) => segment.segno >= start)).toBe(true);
  // Everything older than the kept backup went (the sandbox's WAL is one timeline); its own WAL stayed.
  expect(before.wal.segments.some((segment) => segment.segno < start)).toBe(true);
  expect(after.wal.segments.map((s) => s.name)).toEqual(expect.arrayContaining(before.wal.segments.filter((segment) => segment.segno >= start).map((s) => s.name)));
  expect(after.wal.segments.map((s) => s.segno)).toContain(segmentOfLsn(parseLsn(after.backups[0]!.stopLsn)));
  const [entry] = await listAudit(db.pool, { subject: 'pool:default' });
  expect(entry).toMatchObject({ actor: 'runner-test', action: 'backups.expired', details: { backupsDeleted: result.retention.backupsDeleted, backupsKept: [result.backupId] } });
});
