/**
 * The control DB's record of database copies (migration 0009, control/database-copies.ts) and
 * the readers over it (runner/copy-records.ts, cli/copy-records.ts): only the runner holding a
 * running job records its copy, with an audit entry; a row written straight into the table does
 * not count; the recover CLI reads the pool's records when RECOVER_CONTROL_URL is set, and its
 * own files always.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { claimNextJob, findDatabaseCopies, listAudit, recordDatabaseCopy, verifyAudit } from '../../../src/control/index.js';
import { controlCopyRecords } from '../../../src/runner/copy-records.js';
import { cliCopyRecords } from '../../../src/cli/copy-records.js';
import { rejection } from '../../support/refusal.js';
import { createTestDatabase, queuedJob, type TestDatabase } from './test-database.js';

let db: TestDatabase;
let bare: TestDatabase;
let stateDir: string;
const log = pino({ level: 'silent' });
const copy = { production: 'aiagent_prod', database: 'app', restoredName: 'app_restored_20250115120000', restoredOid: '16390', targetText: '2025-01-15 14:29:59+00', verified: true, failedChecks: [] as string[] };
const url = (name: string) => `postgres://postgres@127.0.0.1:5432/${name}`;

beforeAll(async () => {
  db = await createTestDatabase({ migrated: true });
  bare = await createTestDatabase({ migrated: false });
  stateDir = await mkdtemp(join(tmpdir(), 'rb-cli-state-'));
});
afterAll(async () => {
  await db?.drop();
  await bare?.drop();
  await rm(stateDir, { recursive: true, force: true });
});

async function runningJob(pool: string, runnerId: string) {
  await queuedJob(db.pool, pool);
  const job = await claimNextJob(db.pool, { runnerId, poolName: pool, leaseSeconds: 60 });
  return job!;
}

test('the runner holding the job records its copy once, with an audit entry; others cannot', async () => {
  const job = await runningJob('copies-a', 'runner-1');
  const copies = controlCopyRecords(db.pool, { pool: 'copies-a', log, job: { id: job.id, runnerId: 'runner-1' } });
  const recorded = await copies.record(copy);
  expect(recorded).toMatchObject({ ...copy, copyId: job.id, madeBy: `job ${job.id} (runner runner-1)` });
  expect(await copies.find({ database: 'app', restoredName: copy.restoredName })).toEqual([recorded]);
  const [entry] = await listAudit(db.pool, { subject: `job:${job.id}`, limit: 1 });
  expect(entry).toMatchObject({ actor: 'runner-1', action: 'database.copy.recorded', details: { restoredName: copy.restoredName, restoredOid: '16390', verified: true } });
  expect(await verifyAudit(db.pool)).toMatchObject({ ok: true });

  // Once per job (the same copy again, as a retry after a lost reply, is the row already there,
  // audited once; another copy is refused); and never by a runner that does not hold it, nor from planning.
  expect(await copies.record(copy)).toEqual(recorded);
  expect((await listAudit(db.pool, { subject: `job:${job.id}`, limit: 10 })).filter((e) => e.action === 'database.copy.recorded')).toHaveLength(1);
  expect((await rejection(copies.record({ ...copy, restoredName: 'app_restored_other', restoredOid: '16391' }))).code).toBe('LEASE_LOST');
  const other = await runningJob('copies-a', 'runner-2');
  expect((await rejection(recordDatabaseCopy(db.pool, { ...copy, jobId: other.id, runnerId: 'runner-1' }))).code).toBe('LEASE_LOST');
  expect((await rejection(controlCopyRecords(db.pool, { pool: 'copies-a', log }).record(copy))).code).toBe('INTERNAL');
  // Another pool's records are not this pool's.
  expect(await controlCopyRecords(db.pool, { pool: 'copies-b', log }).find({ database: 'app', restoredName: copy.restoredName })).toEqual([]);
});

test('a row written straight into the table (no audit entry, or one that says otherwise) does not count', async () => {
  const job = await runningJob('copies-c', 'runner-1');
  const insert = (jobId: string, name: string, oid: string) =>
    db.pool.query(`INSERT INTO database_copies (job_id, pool, production, database, restored_name, restored_oid, target_text, verified, recorded_by)
                   VALUES ($1, 'copies-c', 'aiagent_prod', 'app', $2, $3, 'x', true, 'runner-1')`, [jobId, name, oid]);
  await insert(job.id, 'app_restored_20990101000000', '16400');
  expect(await findDatabaseCopies(db.pool, { pool: 'copies-c', database: 'app', restoredName: 'app_restored_20990101000000' })).toEqual([expect.objectContaining({ audited: false })]);
  expect(await controlCopyRecords(db.pool, { pool: 'copies-c', log }).find({ database: 'app', restoredName: 'app_restored_20990101000000' })).toEqual([]);

  // A genuine record whose row is then changed (another oid, failed → verified) no longer matches its audit entry.
  const honest = await runningJob('copies-c', 'runner-1');
  await recordDatabaseCopy(db.pool, { ...copy, restoredName: 'app_restored_20990101000001', verified: false, failedChecks: ['amcheck'], jobId: honest.id, runnerId: 'runner-1' });
  await db.pool.query(`UPDATE database_copies SET verified = true WHERE job_id = $1`, [honest.id]);
  expect(await controlCopyRecords(db.pool, { pool: 'copies-c', log }).find({ database: 'app', restoredName: 'app_restored_20990101000001' })).toEqual([]);
});

test('the CLI: its own files always, the control DB\'s records of its pool when RECOVER_CONTROL_URL is set', async () => {
  const job = await runningJob('copies-d', 'runner-1');
  const fromSlack = await controlCopyRecords(db.pool, { pool: 'copies-d', log, job: { id: job.id, runnerId: 'runner-1' } }).record({ ...copy, restoredName: 'app_restored_20250115130000' });
  const query = { database: 'app', restoredName: 'app_restored_20250115130000' };

  const withControl = cliCopyRecords({ stateDir, controlUrl: url(db.name), pool: 'copies-d' }, log);
  const ownCopy = await withControl.record({ ...copy, restoredName: 'app_restored_20250115130000', restoredOid: '16500' });
  expect(ownCopy.copyId).toMatch(/^cli-/);
  expect(await withControl.find(query)).toEqual([ownCopy, fromSlack]);
  expect(withControl.where).toMatch(/database-copies .* or the control DB \(runner pool copies-d\)$/);
  // The CLI never writes the control DB: its copy is not there.
  expect(await findDatabaseCopies(db.pool, { pool: 'copies-d', ...query })).toHaveLength(1);

  // Without RECOVER_CONTROL_URL: its own records only.
  expect(await cliCopyRecords({ stateDir, pool: 'copies-d' }, log).find(query)).toEqual([ownCopy]);
  // A control DB from before migration 0009 holds no records; an unreachable one is an error unless this host has records.
  expect(await cliCopyRecords({ stateDir, controlUrl: url(bare.name), pool: 'copies-d' }, log).find(query)).toEqual([ownCopy]);
  const unreachable = cliCopyRecords({ stateDir, controlUrl: 'postgres://postgres@127.0.0.1:1/nothing', pool: 'copies-d' }, log);
  expect(await unreachable.find(query)).toEqual([ownCopy]);
  const refused = await rejection(unreachable.find({ database: 'app', restoredName: 'app_restored_20250115140000' }));
  expect([refused.code, refused.message]).toEqual(['COMMAND_FAILED', expect.stringMatching(/^Could not read the control DB's record of verified database copies \(RECOVER_CONTROL_URL\): .*This host's records .* have none of app_restored_20250115140000\.$/)]);
});
