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
import { clusterClient, freePort, initCluster, startCluster, startOnFreePort, stopCluster, withClient, type ClusterHandle } from '../../../src/engine/local-cluster.js';
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
  // A partitioned table: its btree indexes live on the leaf partitions.
  'CREATE TABLE measurements (id int PRIMARY KEY) PARTITION BY RANGE (id)',
  'CREATE TABLE measurements_low PARTITION OF measurements FOR VALUES FROM (1) TO (1000)',
  'CREATE TABLE measurements_high PARTITION OF measurements FOR VALUES FROM (1000) TO (2000)',
  'INSERT INTO measurements SELECT generate_series(1, 50) UNION ALL SELECT generate_series(1501, 1550)',
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
      corrupt_partition: { amcheckTables: ['measurements'] },
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
  corrupt_partition: [],
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
  // Likewise one leaf partition's index in corrupt_partition: measurements_low_pkey gets decoy_pkey's bytes.
  const partition = await withClient(cluster, 'corrupt_partition', async (client) => (await client.query("SELECT pg_relation_filepath('measurements_low_pkey') AS low, pg_relation_filepath('decoy_pkey') AS decoy")).rows[0]);
  await stopCluster(exec, BIN, 'postgres', cluster.dataDir, 'fast');
  await copyFile(join(cluster.dataDir, paths.decoy), join(cluster.dataDir, paths.events));
  await copyFile(join(cluster.dataDir, partition.decoy), join(cluster.dataDir, partition.low));
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

  test("a partitioned table's indexes are checked on each leaf partition: the corrupted one is found", async () => {
    const report = await verify('corrupt_partition');
    expect(failed(report).map((c) => c.name)).toEqual(['indexes corrupt_partition']);
    expect(failed(report)[0]!.message).toMatch(/^1 corrupt index in corrupt_partition .*measurements_low_pkey on measurements_low: .*lacks matching index tuple/);
    // The same partitioned table intact elsewhere: both leaves' indexes checked.
    const clean = await verifyRestored(connection(), { databases: ['clean'], integrity: parseIntegrityConfig(JSON.stringify({ databases: { clean: { amcheckTables: ['measurements'] } } })), amcheck: 'create' });
    expect(check(clean, 'indexes clean')?.message).toMatch(/^2 btree indexes of 1 table intact/);
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

test('every check has a statement_timeout: checks blocked by a lock fail saying so instead of waiting for ever, the others still run', async () => {
  await withClient(cluster!, 'postgres', (client) => client.query('CREATE DATABASE locked TEMPLATE seed'));
  const holder = clusterClient(cluster!, 'locked');
  await holder.connect();
  try {
    // Blocks every read of agents (the configured relation's parent, a critical table's indexes) until released.
    await holder.query('BEGIN; LOCK TABLE agents IN ACCESS EXCLUSIVE MODE');
    const short = parseIntegrityConfig(JSON.stringify({ ruleTimeoutMs: 200, databases: { locked: { criticalTables: ['agents', 'users'], relations: [{ child: 'agent_personas', columns: ['agent_id'], parent: 'agents', parentColumns: ['id'] }] } } }));
    const report = await verifyRestored(connection(), { databases: ['locked'], integrity: short, amcheck: 'create' });
    const timedOut = /canceling statement due to statement timeout \(the check's statement_timeout: raise ruleTimeoutMs/;
    expect(failed(report).map((c) => c.name)).toEqual(['row count locked.agents', 'orphans locked.agent_personas → agents', 'indexes locked']);
    for (const c of failed(report)) expect(c.message).toMatch(timedOut);
    // Not mistaken for corruption: agents' index could not be checked; users' indexes were.
    expect(check(report, 'indexes locked')?.message).toMatch(/^1 index in locked could not be checked: agents_pkey on agents: /);
    expect(check(report, 'critical tables locked')?.ok).toBe(true);
    expect(report.databases[0]!.tables.find((t) => t.table === 'users')?.rows).toBe(2);
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    await holder.end();
  }
});

test('a config file that cannot be read is a failed check naming it; the rest still runs', async () => {
  const report = await verifyRestored(connection(), { databases: ['clean'], configFile: join(dir, 'nope.json') });
  expect(failed(report).map((c) => c.name)).toEqual(['verify config']);
  expect(failed(report)[0]!.message).toContain('nope.json');
  expect(report.databases.map((db) => db.name)).toEqual(['clean']);
});
