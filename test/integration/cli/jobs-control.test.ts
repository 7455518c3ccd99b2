/**
 * When Slack is down, the CLI answers from the control DB what the bot answers in the channel:
 * `recover jobs` (this pool's, or every pool's), `recover status <job>` (steps, progress, the
 * error) and `recover cancel <job>`, with the same words and exit statuses (0 ok, 2 bad input,
 * 3 refused). A cancel from a terminal follows Slack's rules on the job (a queued job is
 * cancelled at once, a running one asked to stop, a finished one refused) and is audited with
 * the OS user and host; the audit chain stays intact. One database on the local server.
 */
import { hostname, userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../../src/control/audit.js';
import { getJob } from '../../../src/control/jobs.js';
import { listEvents } from '../../../src/control/events.js';
import { claimNextJob, finishJob } from '../../../src/control/queue.js';
import { appendRunnerEvent } from '../../../src/control/steps.js';
import type { JobRecord } from '../../../src/control/model.js';
import { runCli } from '../../support/run-cli.js';
import { createTestDatabase, queuedJob, type TestDatabase } from '../control/test-database.js';

let db: TestDatabase;
let env: Record<string, string>;
let queued: JobRecord;
let running: JobRecord;
let failed: JobRecord;
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

async function claim(pool: string): Promise<JobRecord> {
  await queuedJob(db.pool, pool);
  return (await claimNextJob(db.pool, { runnerId: `runner-${pool}`, poolName: pool, leaseSeconds: 600 }))!;
}

beforeAll(async () => {
  db = await createTestDatabase();
  env = { RECOVER_CONTROL_URL: `postgres://postgres@127.0.0.1:5432/${db.name}`, RECOVER_POOL: 'eu' };
  running = await claim('eu');
  const at = new Date().toISOString();
  const ref = { jobId: running.id, runnerId: 'runner-eu' };
  await appendRunnerEvent(db.pool, { ...ref, seq: 1 }, { type: 'job.started', at, command: 'restore-table' });
  await appendRunnerEvent(db.pool, { ...ref, seq: 2 }, { type: 'step.started', at, step: 'restore-base-backup', title: 'Restore base backup' });
  await appendRunnerEvent(db.pool, { ...ref, seq: 3 }, { type: 'step.progress', at, step: 'restore-base-backup', done: 3, total: 4, unit: 'bytes', detail: 'part 3 of 4' });
  failed = await claim('us');
  await finishJob(db.pool, { jobId: failed.id, runnerId: 'runner-us', outcome: { status: 'failed', error: { code: 'WAL_GAP', message: 'Segment 0000000100000000000000AB is missing from the archive.' } } });
  queued = await queuedJob(db.pool, 'eu');
});

afterAll(async () => {
  await db?.drop();
});

describe('recover jobs', () => {
  it("lists this pool's jobs (RECOVER_POOL) with the running one's progress; --all every pool", async () => {
    const mine = await runCli(['jobs'], env);
    expect(mine.code, mine.stderr).toBe(0);
    expect(mine.stdout).toMatch(/^Jobs of pool eu\nRunning and queued \(2\):/);
    expect(mine.stdout).toContain(`running   ${running.id}  pool eu`);
    expect(mine.stdout).toContain(`queued    ${queued.id}  pool eu`);
    expect(mine.stdout).toContain('    now: restore-base-backup [########--] 75% part 3 of 4');
    expect(mine.stdout).not.toContain(failed.id);
    expect(mine.stdout).not.toContain('/recover');
    const all = await runCli(['jobs', '--all', '--json'], env);
    expect(all.code).toBe(0);
    const { ok, result } = JSON.parse(all.stdout);
    expect(ok).toBe(true);
    expect(result.pool).toBeNull();
    expect(result.jobs.map((j: { id: string; status: string }) => [j.id, j.status])).toEqual(expect.arrayContaining([[failed.id, 'failed'], [running.id, 'running'], [queued.id, 'queued']]));
    expect(result.jobs.find((j: { id: string }) => j.id === failed.id)).toMatchObject({ pool: 'us', error: { code: 'WAL_GAP' }, requester: 'REQ', command: 'restore-table' });
  });
});

describe('recover status', () => {
  it('one job as its status message shows it; a failed one with its error', async () => {
    const one = await runCli(['status', running.id], env);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout.split('\n').slice(0, 2)).toEqual([`Job ${running.id}: running`, '  restore-table: Restore public.orders to 11:55 into a side instance, then copy rows back']);
    expect(one.stdout).toContain('Now: restore-base-backup [########--] 75% part 3 of 4');
    expect(one.stdout).toContain('  … 1. Restore base backup');
    expect(one.stdout).toContain('  · 2. Copy rows back  (destructive)');
    const gone = await runCli(['status', failed.id, '--json'], env);
    expect(JSON.parse(gone.stdout).result).toMatchObject({ id: failed.id, status: 'failed', error: { code: 'WAL_GAP' }, runnerId: 'runner-us' });
    expect((await runCli(['status', failed.id], env)).stdout).toContain('Error [WAL_GAP]: Segment 0000000100000000000000AB is missing from the archive.');
  });

  it('without an id: the list; bad words exit 2, an unknown job exits 2 naming how to find ids', async () => {
    expect((await runCli(['status'], env)).stdout).toMatch(/^Jobs of pool eu\n/);
    const word = await runCli(['status', 'nope'], env);
    expect(word).toMatchObject({ code: 2 });
    expect(word.stderr).toContain('"nope" is not a job id');
    expect(word.stderr).toContain('recover jobs');
    expect(word.stderr).not.toContain('/recover');
    const unknown = await runCli(['status', UNKNOWN, '--json'], env);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ ok: false, code: 'BAD_INPUT', message: `There is no job ${UNKNOWN} in the control database.` });
  });

  it('without RECOVER_CONTROL_URL: exit 2 naming it', async () => {
    const run = await runCli(['jobs'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('RECOVER_CONTROL_URL is not set');
  });
});

describe('recover cancel', () => {
  const actor = `cli:${userInfo().username}@${hostname()}`;

  it('a queued job is cancelled at once, audited with the OS user and host', async () => {
    const run = await runCli(['cancel', queued.id], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`Cancelled job ${queued.id} before it started; nothing ran.\n`);
    expect(await getJob(db.pool, queued.id)).toMatchObject({ status: 'cancelled', cancelRequestedBy: actor });
    expect((await listEvents(db.pool, queued.id)).map((e) => e.event.type)).toEqual(['job.cancelled']);
    const { rows } = await db.pool.query('SELECT actor, details FROM audit_log WHERE action = $1 AND subject = $2', ['job.cancel', `job:${queued.id}`]);
    expect(rows).toEqual([{ actor, details: { via: 'cli', osUser: userInfo().username, host: hostname(), effect: 'cancelled' } }]);
  });

  it('a running job is asked to stop (its runner stops at the next safe point); asked again, it says so', async () => {
    const run = await runCli(['cancel', running.id, '--json'], env);
    expect(run.code, run.stdout).toBe(0);
    expect(JSON.parse(run.stdout).result).toEqual({ jobId: running.id, effect: 'requested', by: actor, status: 'running' });
    expect(await getJob(db.pool, running.id)).toMatchObject({ status: 'running', cancelRequested: true, cancelRequestedBy: actor });
    expect((await runCli(['status', running.id], env)).stdout).toContain(`Cancel requested by ${actor}`);
    const again = await runCli(['cancel', running.id], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('was already requested');
  });

  it('a finished job is refused (exit 3); an unknown one and bad words exit 2; the audit chain stays intact', async () => {
    const ended = await runCli(['cancel', failed.id], env);
    expect(ended.code).toBe(3);
    expect(ended.stderr).toContain(`error [JOB_ENDED]: Job ${failed.id} already ended (failed); there is nothing to cancel.`);
    expect(ended.stderr).toContain(`recover status ${failed.id}`);
    expect(ended.stderr).not.toContain('/recover');
    expect((await runCli(['cancel', UNKNOWN], env)).code).toBe(2);
    expect((await runCli(['cancel'], env)).code).toBe(2);
    expect(await getJob(db.pool, failed.id)).toMatchObject({ status: 'failed', cancelRequested: false });
    expect(await verifyAudit(db.pool)).toMatchObject({ ok: true });
  });
});
