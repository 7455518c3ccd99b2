/**
 * A throw-away database on the local server (127.0.0.1:5432, trust auth) per test file,
 * dropped afterwards even when tests fail. Other databases on the server are never touched.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../../../src/control/migrate.js';
import { createRequest, savePlan } from '../../../src/control/requests.js';
import { markApprovalRequested } from '../../../src/control/approvals.js';
import { enqueueJob } from '../../../src/control/queue.js';
import type { JobRecord, RequestRecord } from '../../../src/control/model.js';
import type { Plan } from '../../../src/types.js';

const SERVER = { host: '127.0.0.1', port: 5432, user: 'postgres' } as const;

export interface TestDatabase {
  name: string;
  pool: pg.Pool;
  /** A pool of its own, as a second process would have. */
  newPool(max?: number): pg.Pool;
  /** A dedicated connection (for LISTEN). */
  newClient(): Promise<pg.Client>;
  drop(): Promise<void>;
}

async function onAdminConnection<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ ...SERVER, database: 'postgres' });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/**
 * pg.Pool#end resolves before its sockets are closed; terminating them with DROP … FORCE at
 * that moment makes the pool emit an unhandled 'error'. Wait for them to go first.
 */
async function dropWhenIdle(name: string): Promise<void> {
  await onAdminConnection(async (admin) => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const { rows } = await admin.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
        [name],
      );
      if (rows[0]?.n === 0 || Date.now() > deadline) break;
      await sleep(20);
    }
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `recover_ctl_test_${randomBytes(6).toString('hex')}`;
  await onAdminConnection((admin) => admin.query(`CREATE DATABASE ${name}`));
  const pools: pg.Pool[] = [];
  const clients: pg.Client[] = [];
  const newPool = (max = 10): pg.Pool => {
    const pool = new pg.Pool({ ...SERVER, database: name, max });
    pools.push(pool);
    return pool;
  };
  const database: TestDatabase = {
    name,
    pool: newPool(),
    newPool,
    async newClient() {
      const client = new pg.Client({ ...SERVER, database: name });
      clients.push(client);
      await client.connect();
      return client;
    },
    async drop() {
      try {
        await Promise.allSettled([...pools.map((p) => p.end()), ...clients.map((c) => c.end())]);
      } finally {
        await dropWhenIdle(name);
      }
    },
  };
  if (options.migrated ?? true) {
    try {
      await migrate(database.pool);
    } catch (error) {
      await database.drop();
      throw error;
    }
  }
  return database;
}

export function testPlan(overrides: Partial<Plan> = {}): Plan {
  return {
    command: 'restore-table',
    summary: 'Restore public.orders to 11:55 into a side instance, then copy rows back',
    risk: 'destructive',
    steps: [
      { kind: 'restore-base-backup', title: 'Restore base backup', params: { backupId: 'b1' }, destructive: false },
      { kind: 'copy-back', title: 'Copy rows back', params: { table: 'public.orders', lsn: 0x16b3748n }, destructive: true },
    ],
    facts: { backup: 'b1' },
    ...overrides,
  };
}

/** A request with a plan whose requester asked for approval (unless `approvalRequested: false`). */
export async function requestWithPlan(
  pool: pg.Pool,
  overrides: { requesterId?: string; plan?: Plan; approvalRequested?: boolean } = {},
): Promise<{ request: RequestRecord; digest: string }> {
  const request = await createRequest(pool, {
    teamId: 'T1',
    channelId: 'C1',
    requesterId: overrides.requesterId ?? 'REQ',
    command: 'restore-table',
    args: { table: 'public.orders', target: '11:55' },
  });
  const saved = await savePlan(pool, { requestId: request.id, plan: overrides.plan ?? testPlan() });
  if (overrides.approvalRequested ?? true) {
    await markApprovalRequested(pool, { requestId: request.id, userId: request.requesterId, planDigest: saved.plan.digest });
  }
  return { request, digest: saved.plan.digest };
}

export async function queuedJob(pool: pg.Pool, poolName: string): Promise<JobRecord> {
  const { request, digest } = await requestWithPlan(pool);
  const { job } = await enqueueJob(pool, { requestId: request.id, planDigest: digest, pool: poolName });
  return job;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
