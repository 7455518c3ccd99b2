/**
 * A runner lost in the middle of polling an Azure geo-restore, and the command run again: the
 * second job, planned afresh (the new server is Provisioning: "follow it"), finds the first
 * job's recorded poller state in the control DB and resumes polling; only one PUT is ever sent.
 * Real control DB, the runner's own job writer and executor; Azure Resource Manager and the
 * Entra token endpoint are nock stand-ins with the REST spec's shapes (EnvironmentCredential reads
 * its variables itself, as on a runner configured with RECOVER_AZURE_CREDENTIAL=environment).
 */
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { georestore } from '../../../commands/georestore/index.js';
import { loadConfig } from '../../../src/config.js';
import { claimNextJob, enqueueJob, reapExpiredLeases } from '../../../src/control/index.js';
import type { JobRecord } from '../../../src/control/model.js';
import { executePlan } from '../../../src/runner/execute.js';
import { JobEventWriter } from '../../../src/runner/job-events.js';
import type { Plan } from '../../../src/types.js';
import { accepted, API, armScope, asyncOperationPath, recordingContext, serverBody, serverPath, SUBSCRIPTION } from '../../support/azure-arm.js';
import { until } from '../../support/until.js';
import { createTestDatabase, requestWithPlan, type TestDatabase } from '../control/test-database.js';

const TENANT = '11111111-1111-1111-1111-111111111111';
const SOURCE = serverPath('rg-prod', 'pg-prod');
const TARGET = serverPath('rg-dr', 'pg-prod-dr1');
const OP = asyncOperationPath('cccccccc-cccc-cccc-cccc-cccccccccccc');
const config = loadConfig({
  RECOVER_AZURE_CREDENTIAL: 'environment',
  RECOVER_AZURE_SUBSCRIPTION_ID: SUBSCRIPTION,
  RECOVER_AZURE_RESOURCE_GROUP: 'rg-prod',
  RECOVER_AZURE_DR_RESOURCE_GROUP: 'rg-dr',
  RECOVER_AZURE_PRIMARY_SERVER: 'pg-prod',
  RECOVER_AZURE_DR_LOCATION: 'westus3',
  RECOVER_AZURE_POLL_SECONDS: '1',
  LOG_LEVEL: 'silent',
});

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  nock.disableNetConnect();
  vi.stubEnv('AZURE_TENANT_ID', TENANT);
  vi.stubEnv('AZURE_CLIENT_ID', '22222222-2222-2222-2222-222222222222');
  vi.stubEnv('AZURE_CLIENT_SECRET', 'test-only-client-secret');
  nock('https://login.microsoftonline.com').post(`/${TENANT}/oauth2/v2.0/token`).query(true).reply(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: 'test-access-token' }).persist();
});
afterAll(async () => {
  nock.cleanAll();
  nock.enableNetConnect();
  vi.unstubAllEnvs();
  await db?.drop();
});

/** /recover georestore pg-prod-dr1 planned as the runner plans it (gather reads the two servers), filed, queued and claimed. */
async function plannedJob(runnerId: string, poolName: string): Promise<{ job: JobRecord; plan: Plan }> {
  const args = georestore.parse(['pg-prod-dr1', '--at', '2026-12-07T00:30:00+00:00']);
  const engine = recordingContext();
  const facts = await georestore.gather!({ engine, config, cli: null }, args);
  const plan = georestore.plan!(args, { ...facts, now: new Date(), production: { name: 'aiagent_prod' }, requestId: runnerId });
  const { request, digest } = await requestWithPlan(db.pool, { plan });
  await enqueueJob(db.pool, { requestId: request.id, planDigest: digest, pool: poolName });
  const job = await claimNextJob(db.pool, { runnerId, poolName, leaseSeconds: 60 });
  if (!job) throw new Error('expected a job');
  return { job, plan };
}

function runJob(job: JobRecord, plan: Plan, runnerId: string) {
  const engine = recordingContext();
  const writer = new JobEventWriter(db.pool, job.id, runnerId, plan, engine.log);
  const ctx = { ...engine, events: writer, jobId: job.id };
  return { writer, abort: engine.abort, done: executePlan(ctx, db.pool, config, job, plan) };
}

describe('a geo-restore whose runner is lost mid-poll', () => {
  it('is resumed by the next job from its recorded poller state: one PUT ever, then the new server Ready', async () => {
    const puts: unknown[] = [];
    // First plan: the source has geo-redundant backup, the name is free.
    armScope().get(SOURCE).query({ 'api-version': API }).reply(200, serverBody('rg-prod', 'pg-prod'));
    armScope().get(TARGET).query({ 'api-version': API }).times(2).reply(404, { error: { code: 'ResourceNotFound', message: 'not found' } });
    armScope().put(TARGET, (body) => (puts.push(body), true)).query({ 'api-version': API }).reply(202, '', accepted('cccccccc-cccc-cccc-cccc-cccccccccccc'));
    // The operation runs until the test says it ended; every poll of either runner asks the same URL.
    let status = 'InProgress';
    let polls = 0;
    armScope().get(OP).query(true).reply(200, () => (polls += 1, { name: 'cccccccc', status, startTime: '2026-12-07T01:00:00Z' })).persist();

    const first = await plannedJob('runner-killed', 'georestore-1');
    expect(first.plan.params).toMatchObject({ mode: 'create' });
    const running = runJob(first.job, first.plan, 'runner-killed');
    // Killed once its poller state is in the control DB: it writes nothing more, its lease runs out, the reaper fails it.
    await until('the poller state recorded', async () => {
      const { rows } = await db.pool.query(`SELECT 1 FROM step_checkpoints WHERE job_id = $1 AND detail ? 'resumeFrom'`, [first.job.id]);
      return rows.length > 0 ? true : undefined;
    }, 30_000);
    running.writer.abandon();
    running.abort.abort();
    await expect(running.done).rejects.toMatchObject({ code: 'CANCELLED' });
    await db.pool.query(`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [first.job.id]);
    expect((await reapExpiredLeases(db.pool)).map((job) => job.id)).toContain(first.job.id);
    const pollsBefore = polls;

    // The same command again: the server is Provisioning, so the plan follows it; the run resumes the recorded poller.
    armScope().get(SOURCE).query({ 'api-version': API }).reply(200, serverBody('rg-prod', 'pg-prod'));
    armScope().get(TARGET).query({ 'api-version': API }).reply(200, serverBody('rg-dr', 'pg-prod-dr1', { state: 'Provisioning' }, 'westus3'));
    status = 'Succeeded';
    armScope().get(TARGET).query({ 'api-version': API }).times(2).reply(200, serverBody('rg-dr', 'pg-prod-dr1', {}, 'westus3'));
    const second = await plannedJob('runner-restarted', 'georestore-2');
    expect(second.plan.params).toMatchObject({ mode: 'resume' });
    const resumed = runJob(second.job, second.plan, 'runner-restarted');
    const { result } = await resumed.done;
    await resumed.writer.flush();
    expect(result).toMatchObject({ server: 'pg-prod-dr1', state: 'Ready', followed: 'resumed-poller' });
    expect(puts).toEqual([{ location: 'westus3', properties: { createMode: 'GeoRestore', sourceServerResourceId: SOURCE, pointInTimeUTC: '2026-12-07T00:30:00.000Z' } }]);
    expect(polls).toBeGreaterThan(pollsBefore);
    expect(nock.pendingMocks().filter((mock) => mock.includes('management.azure.com') && !mock.includes('azureAsyncOperation'))).toEqual([]);
  });
});
