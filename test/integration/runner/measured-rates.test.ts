/**
 * Measured rates against a real control DB and a real sandbox: a finished restore records the
 * rates of its base restore and WAL replay for its pool, the next plan's estimates use them
 * (and say so), and a plan made before that measurement keeps its digest and still runs with
 * the approvals given to it.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pitr } from '../../../commands/pitr.js';
import { createRequest, enqueueJob, getCurrentPlan, getJob, markApprovalRequested, planDigest, recentRateSamples, recordApproval } from '../../../src/control/index.js';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { stopCluster } from '../../../src/engine/local-cluster.js';
import { estimatedSeconds } from '../../../src/estimate/rates.js';
import { createRunner, type Runner } from '../../../src/runner/runner.js';
import { runnerPolicy } from '../../../src/runner/execute.js';
import { estimateBasisText } from '../../../src/slack/views/plan.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { systemClock, type Plan } from '../../../src/types.js';
import { createTestDatabase, type TestDatabase } from '../control/test-database.js';

let sandbox: Sandbox;
let db: TestDatabase;
let runner: Runner;
const TEAM = 'T0TEAM';

beforeAll(async () => {
  [sandbox, db] = await Promise.all([startSandbox(), createTestDatabase({ migrated: true })]);
  sandbox.config.approval = { approvers: { [TEAM]: { users: ['U0BOB'], usergroups: [] } }, required: { 'read-only': 0, 'side-copy': 1, destructive: 1 }, ttlMinutes: 30 };
  await sandbox.query('CREATE TABLE t (id int PRIMARY KEY, payload text)');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  // A few segments of WAL, so that replay has bytes to measure.
  for (let i = 0; i < 3; i++) {
    await sandbox.query(`INSERT INTO t SELECT g, repeat('x', 500) FROM generate_series(${i * 20000 + 1}, ${(i + 1) * 20000}) g`);
    await sandbox.switchAndArchive();
  }
  runner = createRunner({ config: sandbox.config, control: db.pool, storage: sandbox.storage, exec: sandbox.exec, log: pino({ level: 'silent' }), clock: systemClock, runnerId: 'runner-rates' });
}, 180_000);

afterAll(async () => {
  await db?.drop();
  await sandbox?.cleanup();
});

async function planned(requester = 'U0ALICE') {
  const args = pitr.parse(['--latest']);
  const request = await createRequest(db.pool, { teamId: TEAM, channelId: 'C0INC', requesterId: requester, command: 'pitr', args: args as Record<string, unknown> });
  await runner.tick();
  const plan = await getCurrentPlan(db.pool, request.id);
  expect(plan).not.toBeNull();
  return { request, plan: plan! };
}

async function approveAndRun(request: { id: string; requesterId: string }, digest: string) {
  await markApprovalRequested(db.pool, { requestId: request.id, userId: request.requesterId, planDigest: digest });
  await recordApproval(db.pool, { requestId: request.id, approverId: 'U0BOB', decision: 'approve', planDigest: digest, policy: runnerPolicy(sandbox.config, 'side-copy') });
  const { job } = await enqueueJob(db.pool, { requestId: request.id, planDigest: digest, pool: 'default' });
  expect(await runner.tick()).toBe(true);
  const finished = await getJob(db.pool, job.id);
  expect(finished?.error).toBeNull();
  expect(finished?.status).toBe('succeeded');
  await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', (finished!.result as { dataDir: string }).dataDir, 'immediate');
  return job.id;
}

const stepOf = (plan: Plan, kind: string) => plan.steps.find((s) => s.kind === kind)!;

interface RateRow { job_id: string; pool: string; phase: string; bytes: string; seconds: number; bytes_per_second: number; startup_seconds: number; tail_seconds: number }
const rateRows = async (): Promise<RateRow[]> => (await db.pool.query<RateRow>('SELECT * FROM measured_rates ORDER BY id')).rows;

test('a finished restore records its rates; the next plan estimates with them; an earlier plan keeps its digest and runs', async () => {
  // Two requests planned before anything was measured: the defaults, labelled as such.
  const first = await planned();
  const early = await planned();
  for (const { plan } of [first, early]) {
    expect(stepOf(plan.plan, 'replay-wal').estimate?.samples).toBe(0);
    expect(stepOf(plan.plan, 'restore-base-backup').estimate?.samples).toBe(0);
    expect(estimateBasisText(plan.plan)).toBe('not yet measured on this runner pool (default rates)');
  }
  expect(await rateRows()).toEqual([]);

  const firstJob = await approveAndRun(first.request, first.plan.digest);
  const rows = await rateRows();
  expect(rows.map((r) => [r.job_id, r.pool, r.phase])).toEqual([
    [firstJob, 'default', 'restore-base-backup'],
    [firstJob, 'default', 'replay-wal'],
  ]);
  for (const row of rows) {
    expect(Number(row.bytes)).toBeGreaterThan(0);
    expect(row.bytes_per_second).toBeGreaterThan(0);
    // A sample explains its step: start-up + bytes / rate + tail = the step's seconds. Start-up is
    // never negative: when the first progress came sooner than the measured rate explains (a fast
    // start, which a loaded machine makes likely), it is 0 and the sum exceeds the step's seconds.
    const explained = row.startup_seconds + Number(row.bytes) / row.bytes_per_second + row.tail_seconds;
    if (row.startup_seconds > 0) expect(explained).toBeCloseTo(row.seconds, 6);
    else expect(explained).toBeGreaterThanOrEqual(row.seconds - 1e-6);
  }

  // The plan made before the measurement is unchanged (saved once): its approvals still hold and it runs.
  const stillEarly = await getCurrentPlan(db.pool, early.request.id);
  expect(stillEarly?.digest).toBe(early.plan.digest);
  expect(planDigest(stillEarly!.plan, early.request.id)).toBe(early.plan.digest);
  await approveAndRun(early.request, early.plan.digest);
  expect((await rateRows()).length).toBe(4);

  // The next plan: medians of the two measured restores, labelled as measured.
  const next = await planned();
  const replay = stepOf(next.plan.plan, 'replay-wal');
  const measured = (await rateRows()).filter((r) => r.phase === 'replay-wal').map((r) => r.bytes_per_second);
  expect(replay.estimate?.samples).toBe(2);
  expect(replay.estimate?.bytesPerSecond).toBe(Math.round((measured[0]! + measured[1]!) / 2));
  expect(replay.estimateSeconds).toBe(estimatedSeconds(replay.estimate!));
  expect(stepOf(next.plan.plan, 'restore-base-backup').estimate?.samples).toBe(2);
  expect(estimateBasisText(next.plan.plan)).toBe('measured: median of the last 2 restores on this runner pool');
  // Rates are per runner pool: another pool has measured nothing.
  expect(await recentRateSamples(db.pool, 'eu-west', 5)).toEqual([]);
  expect((await recentRateSamples(db.pool, 'default', 1)).map((s) => s.phase).sort()).toEqual(['replay-wal', 'restore-base-backup']);
});
