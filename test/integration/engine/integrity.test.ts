/**
 * The integrity checker against a real cluster: one database per seeded defect (made from one
 * seeded template), each caught by exactly the check meant for it, and a clean copy passes.
 */
import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseIntegrityConfig } from '../../../src/config.js';
import { createExec } from '../../../src/engine/exec.js';
import { freePort, initCluster, startCluster, startOnFreePort, stopCluster, withClient, type ClusterHandle } from '../../../src/engine/local-cluster.js';
import { ownerFor } from '../../../src/engine/os-user.js';
import { verifyRestored, type IntegrityReport } from '../../../src/engine/verify.js';

const BIN = '/usr/lib/postgresql/15/bin';
const exec = createExec(pino({ level: 'silent' }));
let dir: string;
let cluster: ClusterHandle | undefined;

const SEED = [
  'CREATE TABLE users (id int PRIMARY KEY, name text)',
  'CREATE TABLE workflows (id serial PRIMARY KEY, user_id int REFERENCES users(id), created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)',
  'CREATE TABLE workflow_executions (id serial PRIMARY KEY, workflow_id int CONSTRAINT executions_workflow_fk REFERENCES workflows(id))',
  'CREATE TABLE agents (id int PRIMARY KEY)',
  'CREATE TABLE agent_personas (id int PRIMARY KEY, agent_id int)', // related to agents without a foreign key
  'CREATE TABLE events (id int PRIMARY KEY)',
  'CREATE TABLE decoy (id int PRIMARY KEY)',
  "INSERT INTO users VALUES (1, 'ada'), (2, 'bob')",
  "INSERT INTO workflows (user_id, created_at, updated_at) SELECT 1 + i % 2, '2025-01-01', '2025-01-02' FROM generate_series(1, 3) i",
  'INSERT INTO workflow_executions (workflow_id) SELECT 1 + i % 3 FROM generate_series(1, 6) i',
  'INSERT INTO agents VALUES (1), (2)',
  'INSERT INTO agent_personas VALUES (1, 1), (2, 2)',
  'INSERT INTO events SELECT generate_series(1, 50)',
  'INSERT INTO decoy SELECT generate_series(1001, 1050)',
];

const config = parseIntegrityConfig(
  JSON.stringify({
    databases: {
      '*': {
        criticalTables: ['users', 'workflows', 'workflow_executions', 'public.agents'],
        relations: [{ child: 'agent_personas', columns: ['agent_id'], parent: 'agents', parentColumns: ['id'] }],
        rules: [{ name: 'created before updated', sql: 'SELECT id, created_at, updated_at FROM workflows WHERE created_at > updated_at;' }],
      },
      corrupt: { amcheckTables: ['events'] },
    },
  }),
);

const DEFECTS: Record<string, string[]> = {
  clean: [],
  orphan_fk: [
    'ALTER TABLE workflow_executions DROP CONSTRAINT executions_workflow_fk',
    'INSERT INTO workflow_executions (workflow_id) VALUES (999)',
    'ALTER TABLE workflow_executions ADD CONSTRAINT executions_workflow_fk FOREIGN KEY (workflow_id) REFERENCES workflows(id) NOT VALID',
  ],
  orphan_configured: ['INSERT INTO agent_personas VALUES (3, 77)'],
  unvalidated: [
    'ALTER TABLE workflow_executions DROP CONSTRAINT executions_workflow_fk',
    'ALTER TABLE workflow_executions ADD CONSTRAINT executions_workflow_fk FOREIGN KEY (workflow_id) REFERENCES workflows(id) NOT VALID',
  ],
  rule: ["UPDATE workflows SET created_at = '2025-02-01' WHERE id = 2"],
  sequence: ["SELECT setval('workflows_id_seq', 1)"],
  missing: ['DROP TABLE users CASCADE'],
  corrupt: [],
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rb-integrity-'));
  await chmod(dir, 0o755);
  cluster = await startOnFreePort(exec, BIN, 'postgres', await initCluster(exec, { bin: BIN, osUser: 'postgres', owner: await ownerFor('postgres'), dataDir: join(dir, 'data'), socketDir: join(dir, 'run'), port: await freePort(), settings: { fsync: 'off' } }));
  await withClient(cluster, 'postgres', (client) => client.query('CREATE DATABASE seed'));
  await withClient(cluster, 'seed', async (client) => {
    for (const sql of SEED) await client.query(sql);
  });
  for (const [database, statements] of Object.entries(DEFECTS)) {
    await withClient(cluster, 'postgres', (client) => client.query(`CREATE DATABASE ${database} TEMPLATE seed`));
    await withClient(cluster, database, async (client) => {
      for (const sql of statements) await client.query(sql);
    });
  }
  // The corrupt database's events_pkey gets the bytes of decoy_pkey (same shape, other keys),
  // written with the server stopped: a valid btree that lacks every heap tuple of events.
  const paths = await withClient(cluster, 'corrupt', async (client) => (await client.query("SELECT pg_relation_filepath('events_pkey') AS events, pg_relation_filepath('decoy_pkey') AS decoy")).rows[0]);
  await stopCluster(exec, BIN, 'postgres', cluster.dataDir, 'fast');
  await copyFile(join(cluster.dataDir, paths.decoy), join(cluster.dataDir, paths.events));
  await startCluster(exec, BIN, 'postgres', cluster);
}, 180_000);

afterAll(async () => {
  if (cluster) await stopCluster(exec, BIN, 'postgres', cluster.dataDir, 'immediate').catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const connection = () => ({ host: cluster!.socketDir, port: cluster!.port, user: 'postgres' });
const verify = (database: string, amcheck: 'create' | 'existing' = 'create') => verifyRestored(connection(), { databases: [database], integrity: config, amcheck });
const failed = (report: IntegrityReport) => report.checks.filter((check) => !check.ok);
const check = (report: IntegrityReport, name: string) => report.checks.find((c) => c.name === name);

describe('each seeded defect is caught by its check', () => {
  test('a clean database passes every check, amcheck included', async () => {
    const report = await verify('clean');
    expect(failed(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      'connection', 'checksum failures', 'database clean', 'critical tables clean', 'foreign keys validated clean', 'orphans clean',
      'rule clean: created before updated', 'sequences clean', 'indexes clean',
    ]);
    expect(check(report, 'indexes clean')?.message).toMatch(/^4 btree indexes of 4 tables intact/);
    expect(check(report, 'orphans clean')?.message).toBe('no orphan rows: 2 foreign keys and 1 other configured relation checked');
  });

  test('an orphan behind a NOT VALID foreign key: both the key and the orphan are reported', async () => {
    const report = await verify('orphan_fk');
    expect(failed(report).map((c) => c.name)).toEqual(['foreign keys validated orphan_fk', 'orphans orphan_fk.workflow_executions → workflows']);
    expect(failed(report)[0]!.message).toContain('executions_workflow_fk on workflow_executions');
    expect(failed(report)[1]!.message).toBe(
      '1 row of workflow_executions without a parent in workflows (foreign key executions_workflow_fk: workflow_executions(workflow_id) → workflows(id)); e.g. workflow_id=999',
    );
  });

  test('an orphan of a configured relation without a foreign key', async () => {
    const report = await verify('orphan_configured');
    expect(failed(report).map((c) => c.name)).toEqual(['orphans orphan_configured.agent_personas → agents']);
    expect(failed(report)[0]!.message).toContain('configured relation: agent_personas(agent_id) → agents(id)); e.g. agent_id=77');
  });

  test('an unvalidated foreign key without orphans', async () => {
    const report = await verify('unvalidated');
    expect(failed(report).map((c) => c.name)).toEqual(['foreign keys validated unvalidated']);
    expect(failed(report)[0]!.message).toMatch(/^1 foreign key NOT VALID in unvalidated .*executions_workflow_fk on workflow_executions$/);
  });

  test('a rule violation, with the violating row shown', async () => {
    const report = await verify('rule');
    expect(failed(report).map((c) => c.name)).toEqual(['rule rule: created before updated']);
    expect(failed(report)[0]!.message).toMatch(/^1 violating row in rule; e\.g\. \{"id":2,/);
  });

  test('a sequence behind its column', async () => {
    const report = await verify('sequence');
    expect(failed(report).map((c) => c.name)).toEqual(['sequences sequence']);
    expect(failed(report)[0]!.message).toContain('workflows_id_seq is at 1 but workflows.id reaches 3');
  });

  test('a missing critical table', async () => {
    const report = await verify('missing');
    expect(failed(report).map((c) => c.name)).toEqual(['critical tables missing']);
    expect(failed(report)[0]!.message).toBe('missing in missing: users (of 4 critical tables)');
  });

  test('a corrupted index, found by bt_index_check with heapallindexed', async () => {
    const report = await verify('corrupt');
    expect(failed(report).map((c) => c.name)).toEqual(['indexes corrupt']);
    expect(failed(report)[0]!.message).toMatch(/^1 corrupt index in corrupt .*events_pkey on events: .*lacks matching index tuple/);
  });
});

describe('amcheck on production', () => {
  test('not installed and not allowed to create it: skipped, said so, not failed', async () => {
    await withClient(cluster!, 'postgres', (client) => client.query('CREATE DATABASE prod TEMPLATE seed'));
    const report = await verify('prod', 'existing');
    expect(report.ok).toBe(true);
    expect(check(report, 'indexes prod')).toMatchObject({ ok: true, skipped: true, message: expect.stringMatching(/^skipped: amcheck not installed in prod/) });
    const installed = await withClient(cluster!, 'prod', async (client) => (await client.query("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'")).rows.length);
    expect(installed).toBe(0);
  });

  test('the whole check session is read-only: a rule that writes fails instead of writing', async () => {
    const writing = parseIntegrityConfig(JSON.stringify({ databases: { prod: { rules: [{ name: 'sneaky', sql: "SELECT id FROM users WHERE nextval('workflows_id_seq') > 0" }] } } }));
    const report = await verifyRestored(connection(), { databases: ['prod'], integrity: writing });
    expect(failed(report).map((c) => c.message)).toEqual([expect.stringContaining('read-only transaction')]);
    const sequence = await withClient(cluster!, 'prod', async (client) => (await client.query('SELECT last_value FROM workflows_id_seq')).rows[0].last_value);
    expect(Number(sequence)).toBe(3);
  });
});

test('a config file that cannot be read is a failed check naming it; the rest still runs', async () => {
  const report = await verifyRestored(connection(), { databases: ['clean'], configFile: join(dir, 'nope.json') });
  expect(failed(report).map((c) => c.name)).toEqual(['verify config']);
  expect(failed(report)[0]!.message).toContain('nope.json');
  expect(report.databases.map((db) => db.name)).toEqual(['clean']);
});
