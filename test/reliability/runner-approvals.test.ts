/**
 * What the runner trusts, against a real control DB and the real runner (createRunner, tick):
 * - approvals are judged with their time limit when the job starts; before each destructive
 *   step they are judged as of that start, so a long download cannot expire them half-way
 *   through an in-place restore, while a reject, a changed plan digest or a cancel still stop it;
 * - an approval row written straight into the control DB (no audit entry) does not count.
 * The test plans are `restore-table` plans, which this runner does not execute: a job that
 * passes authorization fails afterwards with BAD_INPUT "does not execute", one that does not
 * fails with APPROVAL_INVALID before anything runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import {
  assertApprovedForRun, claimNextJob, enqueueJob, getJob, listStepCheckpoints, loadApprovalState, recordApproval, requestCancel, type JobRecord,
} from '../../src/control/index.js';
import { createExec } from '../../src/engine/exec.js';
import { authorizeJob, checkApprovals, runnerPolicy } from '../../src/runner/execute.js';
import { createRunner, type Runner } from '../../src/runner/runner.js';
import { openStorage } from '../../src/storage/index.js';
import { systemClock } from '../../src/types.js';
import { createTestDatabase, requestWithPlan, type TestDatabase } from '../integration/control/test-database.js';

const POOL = 'runner-approvals';
let db: TestDatabase;
let dir: string;
let config: Config;
let runner: Runner;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'recover-runner-approvals-'));
  try {
    db = await createTestDatabase();
    config = loadConfig({
      LOG_LEVEL: 'silent',
      RECOVER_PRODUCTION_NAME: 'aiagent_prod',
      RECOVER_STORAGE_DRIVER: 'local',
      RECOVER_STORAGE_LOCAL_DIR: join(dir, 'storage'),
      RECOVER_RESTORE_ROOT: join(dir, 'restores'),
      RECOVER_POOL: POOL,
    });
    // The control test helpers' team and people (not Slack-shaped ids, so set directly).
    config.approval = { approvers: { T1: { users: ['ALICE', 'BOB'], usergroups: [] } }, required: { 'read-only': 0, 'side-copy': 1, destructive: 1 }, ttlMinutes: 30 };
    const storage = await openStorage(config.storage);
    runner = createRunner({ config, control: db.pool, storage, exec: createExec(log), log, clock: systemClock, runnerId: 'runner-a' });
  } catch (error) {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
});

afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** A request with a plan, approval requested, and a queued job; `approve` records BOB's vote the normal way. */
async function queued(approve: boolean): Promise<{ job: JobRecord; requestId: string; digest: string }> {
  const { request, digest } = await requestWithPlan(db.pool);
  if (approve) {
    await recordApproval(db.pool, { requestId: request.id, approverId: 'BOB', decision: 'approve', planDigest: digest, policy: runnerPolicy(config, 'destructive') });
  }
  const { job } = await enqueueJob(db.pool, { requestId: request.id, planDigest: digest, pool: POOL });
  return { job, requestId: request.id, digest };
}

async function claimed(runnerId: string): Promise<JobRecord> {
  const job = await claimNextJob(db.pool, { runnerId, poolName: POOL, leaseSeconds: 300 });
  if (!job) throw new Error('expected a queued job');
  return job;
}

async function refusal(work: Promise<unknown>): Promise<{ code: string; text: string }> {
  const error = await work.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error, 'expected the check to refuse').toBeTruthy();
  const e = error as { code: string; forChannel(): string };
  return { code: e.code, text: e.forChannel() };
}

describe('approval rows the runner counts', () => {
  it('refuses a job whose only approval was inserted straight into the control DB (no audit entry)', async () => {
    const { job, requestId, digest } = await queued(false);
    await db.pool.query(
      `INSERT INTO approvals (request_id, approver_id, plan_digest, decision, expires_at) VALUES ($1, 'BOB', $2, 'approve', now() + interval '30 minutes')`,
      [requestId, digest],
    );
    expect(await runner.tick()).toBe(true);
    const finished = await getJob(db.pool, job.id);
    expect(finished?.status).toBe('failed');
    expect(finished?.error?.code).toBe('APPROVAL_INVALID');
    expect(finished?.error?.message).toContain('@BOB approval has no matching entry in the audit log');
    expect(finished?.error?.message).not.toMatch(/resum/i);
    expect(finished?.authorizedAt).toBeNull();
    expect(await listStepCheckpoints(db.pool, job.id)).toEqual([]);
  });

  it('authorizes a job whose approval was recorded normally, and audits the authorization', async () => {
    const { job, digest } = await queued(true);
    expect(await runner.tick()).toBe(true);
    const finished = await getJob(db.pool, job.id);
    // Past authorization: this runner simply does not execute restore-table plans.
    expect(finished?.error?.code).toBe('BAD_INPUT');
    expect(finished?.error?.message).toContain('does not execute "restore-table" plans');
    expect(finished?.authorizedAt).toBeInstanceOf(Date);
    const { rows } = await db.pool.query(`SELECT actor, details FROM audit_log WHERE action = 'job.authorized' AND subject = $1`, [`job:${job.id}`]);
    expect(rows).toEqual([{ actor: 'runner-a', details: expect.objectContaining({ planDigest: digest, approvedBy: ['BOB'] }) }]);
  });

  it('still refuses at the start when the approvals have expired by then, saying what to do (not "resume")', async () => {
    const { job, requestId } = await queued(true);
    await db.pool.query(`UPDATE approvals SET created_at = created_at - interval '50 minutes' WHERE request_id = $1`, [requestId]);
    expect(await runner.tick()).toBe(true);
    const finished = await getJob(db.pool, job.id);
    expect(finished?.error?.code).toBe('APPROVAL_INVALID');
    expect(finished?.error?.message).toMatch(/needs 1 more approval to start .*@BOB approval has expired.*Nothing ran/s);
    expect(finished?.error?.message).toContain('Start a new request with `/recover`');
    expect(finished?.error?.message).not.toMatch(/resum/i);
  });
});

describe('the check before each destructive step', () => {
  /** A claimed job authorized at its start, then "45 minutes" of base-backup download. */
  async function authorizedLongAgo() {
    const { job, requestId } = await queued(true);
    const running = await claimed('runner-b');
    expect(running.id).toBe(job.id);
    await authorizeJob(db.pool, config, running, 'runner-b');
    await db.pool.query(`UPDATE approvals SET created_at = created_at - interval '50 minutes' WHERE request_id = $1`, [requestId]);
    await db.pool.query(`UPDATE jobs SET authorized_at = authorized_at - interval '45 minutes' WHERE id = $1`, [job.id]);
    return { job: running, requestId };
  }

  it('passes when the approvals expired after the job started', async () => {
    const { job } = await authorizedLongAgo();
    const state = await loadApprovalState(db.pool, job.id);
    // The same approvals would not let a job start now...
    expect(() => assertApprovedForRun({ policy: runnerPolicy(config, 'destructive'), state, phase: 'start' })).toThrow(/approval has expired/);
    // ...but this job was authorized while they were valid.
    await expect(checkApprovals(db.pool, config, job)).resolves.toMatchObject({ command: 'restore-table' });
  });

  it('fails after a reject (revocation)', async () => {
    const { job, requestId } = await authorizedLongAgo();
    const digest = (await loadApprovalState(db.pool, job.id)).jobPlanDigest;
    await recordApproval(db.pool, { requestId, approverId: 'ALICE', decision: 'reject', planDigest: digest, policy: runnerPolicy(config, 'destructive') });
    const { code, text } = await refusal(checkApprovals(db.pool, config, job));
    expect(code).toBe('APPROVAL_INVALID');
    expect(text).toContain('@ALICE rejected this request');
    expect(text).toContain('Nothing more will run');
    expect(text).not.toMatch(/resum/i);
  });

  it('fails when the job plan digest was changed', async () => {
    const { job } = await authorizedLongAgo();
    await db.pool.query(`UPDATE jobs SET plan_digest = $2 WHERE id = $1`, [job.id, 'e'.repeat(64)]);
    const { code, text } = await refusal(checkApprovals(db.pool, config, job));
    expect(code).toBe('APPROVAL_INVALID');
    expect(text).toContain('The plan changed after this job was queued');
  });

  it('fails when the approval row was rewritten behind the audit log', async () => {
    const { job, requestId } = await authorizedLongAgo();
    await db.pool.query(`UPDATE approvals SET expires_at = expires_at + interval '1 day' WHERE request_id = $1`, [requestId]);
    const { code, text } = await refusal(checkApprovals(db.pool, config, job));
    expect(code).toBe('APPROVAL_INVALID');
    expect(text).toContain('no matching entry in the audit log');
  });

  it('stops on a cancel', async () => {
    const { job } = await authorizedLongAgo();
    expect((await requestCancel(db.pool, job.id, 'ALICE')).effect).toBe('requested');
    const { code } = await refusal(checkApprovals(db.pool, config, job));
    expect(code).toBe('CANCELLED');
  });
});
