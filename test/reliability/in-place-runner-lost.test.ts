/**
 * The runner is killed (SIGKILL) in the middle of an in-place restore, at each of its steps:
 * after production was stopped, right after it was moved aside, during the base restore, with
 * recovery configured, during WAL replay, at verification, and after verification. Then:
 * the lease runs out and the job's RUNNER_LOST message says production may be stopped, names
 * the kept directory and the commands; and a runner started again on the host finds the
 * journal, rolls the restore back and says so: production runs on its original data directory
 * with its content unchanged, the half-restored directory is kept as *.failed-pitr-*; killed
 * after verification, the restore is finished instead (production keeps the restored data).
 * A side restore killed mid-replay is tidied by the next runner from its work journal.
 *
 * The lease of a killed runner is run out by moving it back in the control DB (the runner is
 * dead; waiting for the clock adds nothing). Everything else is real: `recover runner` is its own process started as an operator starts it
 * (the bundled CLI), on this test's own control cluster. Production is stopped and started by hooks (pg_ctl), the
 * stop hook holding after the stop while a hold file exists, so the kill lands between the
 * stop and the move-aside. Replay is held with pg_wal_replay_pause() so the kill lands in it.
 * The other points are the runner's own failpoints (RECOVER_FAILPOINTS): it kills itself there.
 * Waits are for conditions (rows, files, server state), never fixed sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { reapExpiredLeases } from '../../src/control/index.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { exists } from '../../src/engine/local-cluster.js';
import { readJournal } from '../../src/engine/in-place-journal.js';
import { targetClient } from '../../src/engine/pg-client.js';
import { serverRunning } from '../../src/engine/recovery.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { startControlCluster, type ControlCluster } from '../../devkit/control-cluster.js';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { TEAM_ID } from '../../devkit/world.js';
import { approvedPitrJob, stepRunning as stepRunningIn } from '../support/runner-jobs.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { until as waitUntil } from '../support/until.js';

const DEADLINE_MS = 240_000;
const APPROVERS = JSON.stringify({ [TEAM_ID]: { users: ['U0BOB'], usergroups: [] } });
const MARKER = 'recover-original-marker';

/** until() with this file's deadline; a timeout carries the end of the current runner's log (what it was doing). */
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = DEADLINE_MS): Promise<T> =>
  waitUntil(what, probe, timeoutMs).catch((error: Error) => {
    throw new Error(`${error.message}\n--- runner ${runnerCount}'s log (last 4000 characters) ---\n${runnerLog.join('').slice(-4000)}`);
  });

let sandbox: Sandbox;
let control: ControlCluster;
let runner: ChildProcess | undefined;
let runnerLog: string[] = [];
let runnerCount = 0;
let safePoint: Date;
let holdFile: string;
let stoppedFile: string;
let env: Record<string, string>;
const cleanups: (() => Promise<unknown>)[] = [];

function startRunner(extraEnv: Record<string, string> = {}): ChildProcess {
  runnerCount += 1;
  runnerLog = [];
  // The bundled CLI (bin/recover.mjs, built by `npm run build`), as an operator starts it: no
  // TypeScript compiled on each of this file's ~17 runner starts.
  const child = spawn(process.execPath, ['bin/recover.mjs', 'runner'], { env: { ...env, RECOVER_RUNNER_ID: `runner-lost-${runnerCount}`, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => runnerLog.push(chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => runnerLog.push(chunk.toString('utf8')));
  return child;
}

async function killRunner(): Promise<void> {
  const child = runner!;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

async function productionRows(): Promise<{ total: number; deleted: number }> {
  const [row] = await sandbox.query<{ total: number; deleted: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE user_id = 12345)::int AS deleted FROM workflows`,
    [],
    'aiagent_prod',
  );
  return row!;
}
let original: { total: number; deleted: number };

beforeAll(async () => {
  sandbox = await startSandbox();
  cleanups.push(() => sandbox.cleanup());
  control = await startControlCluster(sandbox.exec, sandbox.root);
  cleanups.push(() => control.stop());
  await sandbox.query('CREATE DATABASE aiagent_prod');
  // A base backup big enough that its restore takes a moment, then WAL past a safe point.
  await sandbox.query(
    `CREATE TABLE workflows (id int PRIMARY KEY, user_id int NOT NULL);
     INSERT INTO workflows SELECT g, 12300 + g % 100 FROM generate_series(1, 2000) g;
     CREATE TABLE filler (id int, v text); INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 100000) g;`,
    [],
    'aiagent_prod',
  );
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query(`INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 300000) g`, [], 'aiagent_prod');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  safePoint = new Date(Math.floor(Date.now() / 1000) * 1000);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await sandbox.query(`DELETE FROM workflows WHERE user_id = 12345`, [], 'aiagent_prod');
  await sandbox.switchAndArchive();
  await writeFile(join(sandbox.production.dataDir, MARKER), 'original\n');
  original = await productionRows();

  holdFile = join(sandbox.root, 'hold-after-stop');
  stoppedFile = join(sandbox.root, 'production-stopped');
  const pgCtl = join(sandbox.config.pg.bin, 'pg_ctl');
  const { dataDir: prodData, logFile: prodLog } = sandbox.production;
  const stopHook = ['sh', '-c', `runuser -u postgres -- '${pgCtl}' stop -D '${prodData}' -m fast -w -t 120 -s && touch '${stoppedFile}'; while [ -e '${holdFile}' ]; do sleep 0.05; done`];
  const startHook = ['runuser', '-u', 'postgres', '--', pgCtl, 'start', '-D', prodData, '-l', prodLog, '-w', '-t', '600', '-s'];
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...sandbox.cliEnv({
      RECOVER_CONTROL_URL: control.url,
      RECOVER_APPROVERS: APPROVERS,
      RECOVER_LEASE_SECONDS: '15',
      RECOVER_SOURCE_DATA_DIR: prodData,
      RECOVER_SOURCE_STOP: 'hook',
      RECOVER_SOURCE_STOP_COMMAND: JSON.stringify(stopHook),
      RECOVER_SOURCE_START_COMMAND: JSON.stringify(startHook),
      LOG_LEVEL: 'info',
    }),
  };
  runner = startRunner();
  cleanups.push(async () => {
    await rm(holdFile, { force: true });
    await killRunner();
  });
}, 300_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function startInPlaceJob(): Promise<string> {
  return startPitrJob(['--to', 'in-place'], 'destructive');
}

async function startPitrJob(words: string[], risk: 'destructive' | 'side-copy'): Promise<string> {
  const { jobId, plan } = await approvedPitrJob(control.pool, { approvers: APPROVERS, target: safePoint, words, risk, channelId: 'C0INCIDENT', timeoutMs: DEADLINE_MS });
  if (risk === 'destructive') expect((plan.plan.params as { dataDir?: string }).dataDir).toBe(sandbox.production.dataDir);
  return jobId;
}

const stepRunning = (jobId: string, kind: string) => stepRunningIn(control.pool, jobId, kind, DEADLINE_MS);

async function onProductionSocket<T>(sql: string): Promise<T> {
  const client = targetClient({ host: sandbox.production.socketDir, port: sandbox.production.port, user: 'postgres', database: 'postgres' });
  try {
    await client.connect();
    return (await client.query(sql)).rows[0] as T;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const beside = async (part: string) => (await readdir(dirname(sandbox.production.dataDir))).filter((name) => name.startsWith(`${basename(sandbox.production.dataDir)}.${part}`));

/** Waits for a runner started with RECOVER_FAILPOINTS to kill itself there. */
async function killedAtFailpoint(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  expect(child.signalCode, `the runner did not die at its failpoint:\n${runnerLog.join('')}`).toBe('SIGKILL');
}

/** Starts a runner that kills itself at `failpoint`, runs a new in-place job on it, and waits for the kill. */
async function inPlaceJobKilledAt(failpoint: string): Promise<string> {
  await killRunner();
  runner = startRunner({ RECOVER_FAILPOINTS: failpoint });
  const jobId = await startInPlaceJob();
  await killedAtFailpoint(runner);
  return jobId;
}

/** The runner is dead: its lease is run out in the control DB (no waiting for a clock), then reaped as the bot does. */
async function reapedAsLost(jobId: string): Promise<{ code: string; message: string }> {
  await control.pool.query(`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1 AND status = 'running'`, [jobId]);
  return until('the job to be reaped as RUNNER_LOST', async () => {
    await reapExpiredLeases(control.pool);
    const { rows } = await control.pool.query<{ status: string; error: { code: string; message: string } | null }>('SELECT status, error FROM jobs WHERE id = $1', [jobId]);
    return rows[0]?.status === 'failed' ? rows[0].error! : undefined;
  });
}

async function recoveryMessage(jobId: string, like: string): Promise<string> {
  return until('what the restarted runner did to be recorded on the job', async () => {
    const { rows } = await control.pool.query<{ message: string }>(`SELECT payload->>'message' AS message FROM events WHERE job_id = $1 AND type = 'job.failed' AND payload->>'message' LIKE $2`, [jobId, like]);
    return rows[0]?.message;
  });
}

interface LostShape {
  /** Production's directory was moved aside (on disk). */
  moved: boolean;
  /** The move-aside step had finished, so the RUNNER_LOST message names the kept directory (default: moved). */
  recorded?: boolean;
  /** A half-restored data directory is left to keep as *.failed-pitr-* (default: moved). */
  keptFailed?: boolean;
  /** The restored server still runs on production's directory after the kill. */
  restoredServerUp?: boolean;
}

/**
 * After the kill: the lease runs out, the job is RUNNER_LOST saying production may be stopped
 * (with the kept directory and commands when it was moved); a new runner rolls back, production
 * runs on its original directory and data.
 */
async function expectLostThenRolledBack(jobId: string, shape: LostShape): Promise<void> {
  const { moved, recorded = moved, keptFailed = moved, restoredServerUp = false } = shape;
  const journal = await readJournal(sandbox.production.dataDir);
  expect(journal?.jobId).toBe(jobId);
  const keptBefore = await beside('before-pitr-');
  expect(keptBefore.length).toBe(moved ? 1 : 0);
  const failedBefore = (await beside('failed-pitr-')).length;

  // No runner on the host: the reaper (the bot or any runner elsewhere) reports the job lost.
  const lost = await reapedAsLost(jobId);
  expect(lost.code).toBe('RUNNER_LOST');
  expect(lost.message).toContain('PRODUCTION MAY BE STOPPED');
  expect(lost.message).toContain(`${sandbox.production.dataDir}.recover-journal.json`);
  if (recorded) {
    const kept = join(dirname(sandbox.production.dataDir), keptBefore[0]!);
    expect(lost.message).toContain(`kept, not deleted, at ${kept}`);
    expect(lost.message).toContain(`mv ${kept} ${sandbox.production.dataDir}`);
  } else {
    expect(lost.message).toContain(`look for ${sandbox.production.dataDir}.before-pitr-* beside it`);
    expect(lost.message).toContain(`pg_ctl start -D ${sandbox.production.dataDir}`);
  }
  // Nothing put production back meanwhile: it is down (or the half-restored server runs in its place).
  expect(await serverRunning(sandbox.production.dataDir)).toBe(restoredServerUp);

  // A runner starts on the host: it finds the journal and rolls back.
  runner = startRunner();
  const said = await recoveryMessage(jobId, 'recover-bot found in-place%');
  expect(said).toMatch(/rolled it back/);
  expect(said).toContain(`Production runs on its previous data directory ${sandbox.production.dataDir}, unchanged by the job`);
  if (restoredServerUp) expect(said).toContain('stopped the half-restored server');
  expect(await readJournal(sandbox.production.dataDir)).toBeNull();
  expect(await serverRunning(sandbox.production.dataDir)).toBe(true);
  expect(await exists(join(sandbox.production.dataDir, MARKER))).toBe(true);
  expect(await productionRows()).toEqual(original);
  expect(await beside('before-pitr-')).toEqual([]);
  expect((await beside('failed-pitr-')).length).toBe(failedBefore + (keptFailed ? 1 : 0));
  // Archiving is production's own again (a restored server's pause never stays).
  const conf = await readFile(join(sandbox.production.dataDir, 'postgresql.auto.conf'), 'utf8');
  expect(conf).not.toContain('archiving paused');
  // The work directory's spool, hook and socket went with the roll-back's tidy.
  await until('the in-place work files to be tidied', async () => ((await exists(join(`${sandbox.production.dataDir}.recover`, 'recover-work.json'))) ? undefined : true));
  expect(await exists(join(`${sandbox.production.dataDir}.recover`, 'spool'))).toBe(false);
  const { rows: job } = await control.pool.query<{ error: { message: string } }>('SELECT error FROM jobs WHERE id = $1', [jobId]);
  expect(job[0]!.error.message).toContain('rolled it back');
}

test('killed after production was stopped, before it was moved aside: RUNNER_LOST says so; a restarted runner starts production on its own data', { timeout: 600_000 }, async () => {
  await rm(stoppedFile, { force: true });
  await writeFile(holdFile, '');
  const jobId = await startInPlaceJob();
  await until('production to be stopped by the job', async () => ((await exists(stoppedFile)) ? true : undefined));
  await killRunner();
  await rm(holdFile, { force: true });
  expect((await readJournal(sandbox.production.dataDir))?.phase).toBe('stopping');
  await expectLostThenRolledBack(jobId, { moved: false });
});

test('killed right after production\'s directory was moved aside (no new one made yet): a restarted runner puts it back', { timeout: 600_000 }, async () => {
  const jobId = await inPlaceJobKilledAt('in-place:moved-aside');
  expect((await readJournal(sandbox.production.dataDir))?.phase).toBe('moving-aside');
  expect(await exists(sandbox.production.dataDir)).toBe(false);
  await expectLostThenRolledBack(jobId, { moved: true, recorded: false, keptFailed: false });
});

test('killed during the base restore into production\'s directory: a restarted runner puts the original back', { timeout: 600_000 }, async () => {
  const jobId = await inPlaceJobKilledAt('restore:part-extracted');
  expect((await readJournal(sandbox.production.dataDir))?.phase).toBe('restoring');
  await expectLostThenRolledBack(jobId, { moved: true });
});

test('killed with recovery configured (archiving paused), before the server started: a restarted runner puts the original back', { timeout: 600_000 }, async () => {
  const jobId = await inPlaceJobKilledAt('restore:configured');
  expect((await readJournal(sandbox.production.dataDir))?.phase).toBe('configured');
  expect(await readFile(join(sandbox.production.dataDir, 'postgresql.auto.conf'), 'utf8')).toContain('archiving paused');
  await expectLostThenRolledBack(jobId, { moved: true });
});

test('killed during WAL replay (the restored server running on production\'s directory): a restarted runner stops it, keeps it, puts the original back', { timeout: 600_000 }, async () => {
  const jobId = await startInPlaceJob();
  await stepRunning(jobId, 'replay-wal');
  const paused = await until('replay to pause', async () => {
    const row = await onProductionSocket<{ recovering: boolean; state: string }>(`SELECT pg_is_in_recovery() AS recovering, CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() END AS state`);
    if (!row.recovering) return 'finished';
    if (row.state === 'paused') return 'paused';
    await onProductionSocket('SELECT pg_wal_replay_pause()');
    return undefined;
  });
  expect(paused, 'replay ended before the test could pause it: give production more WAL').toBe('paused');
  await killRunner();
  expect((await readJournal(sandbox.production.dataDir))?.phase).toBe('configured');
  const lostMessage = (await reapedAsLost(jobId)).message;
  expect(lostMessage).toContain('during step replay-wal');
  await expectLostThenRolledBack(jobId, { moved: true, restoredServerUp: true });
});

test('killed at verification (the restored server promoted, not yet verified): a restarted runner rolls back, never keeps unverified data', { timeout: 600_000 }, async () => {
  const jobId = await inPlaceJobKilledAt('in-place:verify');
  expect((await readJournal(sandbox.production.dataDir))?.phase).toBe('configured');
  await expectLostThenRolledBack(jobId, { moved: true, restoredServerUp: true });
});

test('a side restore killed mid-replay: the next runner stops its half-restored server and removes its spool, hook and socket, by the job\'s work journal', { timeout: 600_000 }, async () => {
  await killRunner();
  runner = startRunner({ RECOVER_FAILPOINTS: 'restore:server-started' });
  const jobId = await startPitrJob(['--instance', 'lost-side'], 'side-copy');
  await killedAtFailpoint(runner);
  const workDir = join(loadConfig(env).restoreRoot, 'lost-side');
  const journal = JSON.parse(await readFile(join(workDir, 'recover-work.json'), 'utf8')) as { jobId: string };
  expect(journal.jobId).toBe(jobId);
  expect(await exists(join(workDir, 'wal-hook.mjs'))).toBe(true);
  expect(await exists(join(workDir, 'spool'))).toBe(true);
  await reapedAsLost(jobId);

  runner = startRunner();
  const said = await recoveryMessage(jobId, 'recover-bot found side instance%');
  expect(said).toContain('lost-side');
  expect(said).toContain('removed its WAL spool, restore hook and socket');
  expect(said).toContain('recover instances remove lost-side');
  for (const left of ['recover-work.json', 'spool', 'wal-hook.mjs', 'wal.sock']) expect(await exists(join(workDir, left)), left).toBe(false);
  expect(await serverRunning(join(workDir, 'data'))).toBe(false);
  // Kept for inspection, as after any failed restore.
  expect(await exists(join(workDir, 'data', 'PG_VERSION'))).toBe(true);
  const { rows } = await control.pool.query(`SELECT 1 FROM audit_log WHERE action = 'job.work_tidied' AND subject = $1`, [`job:${jobId}`]);
  expect(rows.length).toBe(1);
});

test('cut off from the control DB longer than its lease while production is stopped: the job is RUNNER_LOST, the runner survives, starts no further step, records nothing more and puts production back', { timeout: 600_000 }, async () => {
  // Only this runner's path to the control DB goes through the proxy; the reaper reaches it directly.
  const url = new URL(control.url);
  const proxy = await startTcpProxy(join(url.searchParams.get('host')!, `.s.PGSQL.${url.searchParams.get('port')}`));
  cleanups.push(() => proxy.close());
  await killRunner();
  runner = startRunner({ RECOVER_CONTROL_URL: `postgres://postgres@127.0.0.1:${proxy.port}/postgres` });
  const partitioned = runner;
  // Earlier jobs' stop hooks left the file: only this job's stop may count.
  await rm(stoppedFile, { force: true });
  await writeFile(holdFile, '');
  let lost: { code: string; message: string };
  let jobId: string;
  let last: { id: string } | undefined;
  try {
    jobId = await startInPlaceJob();
    await until('production to be stopped by the job', async () => ((await exists(stoppedFile)) ? true : undefined));
    proxy.cut();
    lost = await reapedAsLost(jobId);
    expect(lost.message).toContain('PRODUCTION MAY BE STOPPED');
    [last] = (await control.pool.query<{ id: string }>('SELECT max(id)::text AS id FROM events WHERE job_id = $1', [jobId])).rows;
  } finally {
    // Whatever happened, the next tests need the runner's path back and the stop hook released.
    proxy.restore();
    await rm(holdFile, { force: true });
  }

  // The runner learns it lost the job before the next destructive step, rolls back what it did, and stays up.
  await until('production to run again on its own data', async () => ((await serverRunning(sandbox.production.dataDir)) && (await readJournal(sandbox.production.dataDir)) === null ? true : undefined));
  expect(await exists(join(sandbox.production.dataDir, MARKER))).toBe(true);
  expect(await productionRows()).toEqual(original);
  expect(await beside('before-pitr-')).toEqual([]);
  expect(partitioned.exitCode).toBeNull();
  await until('the runner to log that it lost the job', async () => (/lost the job lease|LEASE_LOST|RUNNER_LOST/.test(runnerLog.join('')) ? true : undefined));
  const { rows: job } = await control.pool.query<{ status: string; error: { code: string; message: string } }>('SELECT status, error FROM jobs WHERE id = $1', [jobId]);
  expect(job[0]).toMatchObject({ status: 'failed', error: { code: 'RUNNER_LOST', message: lost.message } });
  const { rows: after } = await control.pool.query('SELECT type FROM events WHERE job_id = $1 AND id > $2', [jobId, last!.id]);
  expect(after).toEqual([]);
  expect((await control.pool.query(`SELECT 1 FROM step_checkpoints WHERE job_id = $1 AND kind = 'move-aside'`, [jobId])).rows).toEqual([]);
});

// Last: production keeps the restored data from here on.
test('killed after verification passed: a restarted runner finishes the restore (archiving resumed), runs nothing destructive again', { timeout: 600_000 }, async () => {
  const jobId = await inPlaceJobKilledAt('in-place:verified');
  expect((await readJournal(sandbox.production.dataDir))?.phase).toBe('verified');
  expect(await serverRunning(sandbox.production.dataDir)).toBe(true);
  const lost = await reapedAsLost(jobId);
  expect(lost.message).toContain('PRODUCTION MAY BE STOPPED');
  const started = await onProductionSocket<{ at: Date }>('SELECT pg_postmaster_start_time() AS at');

  runner = startRunner();
  const said = await recoveryMessage(jobId, 'recover-bot found in-place%');
  expect(said).toMatch(/finished it: resumed archiving/);
  expect(said).toContain('production runs on the restored data');
  expect(await readJournal(sandbox.production.dataDir)).toBeNull();
  // The restored data (the rows deleted after the safe point are back), on the same server: no restart, no second restore.
  expect(await productionRows()).toEqual({ total: original.total + 20, deleted: 20 });
  expect((await onProductionSocket<{ at: Date }>('SELECT pg_postmaster_start_time() AS at')).at).toEqual(started.at);
  expect(await readFile(join(sandbox.production.dataDir, 'postgresql.auto.conf'), 'utf8')).not.toContain('archiving paused');
  expect((await beside('before-pitr-')).length).toBe(1);
  const { rows: steps } = await control.pool.query(`SELECT kind FROM step_checkpoints WHERE job_id = $1 AND kind = 'restore-base-backup'`, [jobId]);
  expect(steps.length).toBe(1);
});
