/**
 * README "Deploying", step "roles", followed on a real PostgreSQL 15: what `recover setup-sql`
 * prints is piped into psql as the guide says (production part as a superuser, control part
 * as a superuser, control-grants part as the runners' own control role), then each role
 * connects and does what its commands need — and is refused what it must not do. One
 * cluster plays both servers (the control roles get other names so they do not collide).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupSql, type SetupPart } from '../../../src/cli/setup-sql.js';
import { appendAudit, createRequest, firstSeenRequest, migrate, MIGRATIONS, recordSlackPostIntent } from '../../../src/control/index.js';
import { allowConnectionsSql, createDatabaseLikeSql, renameDatabaseSql, terminateSessionsSql } from '../../../src/engine/database/sql.js';
import { createExec } from '../../../src/engine/exec.js';
import { freePort, initCluster, startOnFreePort, stopCluster, type ClusterHandle } from '../../../src/engine/local-cluster.js';
import { ownerFor } from '../../../src/engine/os-user.js';
import { btIndexCheckSql } from '../../../src/engine/integrity/sql.js';
import { backupStartSql, backupStopSql, localSourceSql, sourceFactsSql, switchWalSql } from '../../../src/engine/sql.js';
import { until } from '../../support/until.js';

const BIN = '/usr/lib/postgresql/15/bin';
const exec = createExec(pino({ level: 'silent' }));
const NAMES = { productionRole: 'recover_runner', controlRunnerRole: 'rb_ctl_runner', botRole: 'rb_ctl_bot', controlDatabase: 'rb_control', tablesOwner: 'app_owner' };

let root: string;
let cluster: ClusterHandle;
const clients: pg.Client[] = [];
const pools: pg.Pool[] = [];

const as = async (user: string, database = 'postgres'): Promise<pg.Client> => {
  const client = new pg.Client({ host: cluster.socketDir, port: cluster.port, user, database });
  client.on('error', () => undefined); // sessions this test ends on purpose
  await client.connect();
  clients.push(client);
  return client;
};
const poolAs = (user: string, database: string): pg.Pool => {
  const pool = new pg.Pool({ host: cluster.socketDir, port: cluster.port, user, database, max: 2 });
  pools.push(pool);
  return pool;
};

/** The guide's step: `recover setup-sql --part X … | psql -v ON_ERROR_STOP=1 -d DB` as USER. */
async function psql(part: SetupPart, user: string, database: string): Promise<void> {
  await execa(join(BIN, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', cluster.socketDir, '-p', String(cluster.port), '-U', user, '-d', database, '-f', '-'], {
    input: setupSql(NAMES, [part]),
  });
}

async function refused(client: pg.Client | pg.Pool, sql: string): Promise<string> {
  const error = await client.query(sql).then(() => null, (e: unknown) => e as { code?: string; message: string });
  expect(error, sql).not.toBeNull();
  expect(error!.code, `${sql}: ${error!.message}`).toBe('42501');
  return error!.message;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rb-setup-sql-'));
  await chmod(root, 0o755); // the postgres OS user reaches the data directory through it
  const initialized = await initCluster(exec, {
    bin: BIN, osUser: 'postgres', owner: await ownerFor('postgres'), dataDir: join(root, 'pg', 'data'), socketDir: join(root, 'pg', 'run'), port: await freePort(), settings: { fsync: 'off' },
  });
  cluster = await startOnFreePort(exec, BIN, 'postgres', initialized);
  // The application: a database and tables owned by app_owner, another table owned by someone else.
  const admin = await as('postgres');
  await admin.query('CREATE ROLE app_owner NOLOGIN; CREATE ROLE app_user LOGIN; CREATE ROLE other_owner NOLOGIN');
  await admin.query('CREATE DATABASE appdb OWNER app_owner');
  const app = await as('postgres', 'appdb');
  await app.query(`CREATE SCHEMA app AUTHORIZATION app_owner;
    SET ROLE app_owner; CREATE TABLE app.workflows (id bigserial PRIMARY KEY, name text NOT NULL); INSERT INTO app.workflows (name) VALUES ('a'), ('b'); RESET ROLE;
    CREATE TABLE public.secrets (id int); ALTER TABLE public.secrets OWNER TO other_owner; INSERT INTO public.secrets VALUES (1)`);
  await app.end();
  await psql('production', 'postgres', 'postgres');
  await psql('control', 'postgres', 'postgres');
}, 120_000);

afterAll(async () => {
  for (const client of clients) await client.end().catch(() => undefined);
  for (const pool of pools) await pool.end().catch(() => undefined);
  if (cluster) await stopCluster(exec, BIN, 'postgres', cluster.dataDir, 'immediate').catch(() => undefined);
  if (root) await rm(root, { recursive: true, force: true });
});

describe('recover setup-sql applied as README "Deploying" says', () => {
  it('creates no superuser', async () => {
    const admin = await as('postgres');
    const { rows } = await admin.query<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean }>(
      'SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = ANY($1) ORDER BY 1', [[NAMES.productionRole, NAMES.controlRunnerRole, NAMES.botRole]]);
    expect(rows).toEqual([
      { rolname: 'rb_ctl_bot', rolsuper: false, rolcreaterole: false },
      { rolname: 'rb_ctl_runner', rolsuper: false, rolcreaterole: false },
      { rolname: 'recover_runner', rolsuper: false, rolcreaterole: false },
    ]);
  });

  it("production: the runner's role takes a file-level backup and reads what a backup and an in-place restore read", async () => {
    const runner = await as(NAMES.productionRole);
    const [facts] = (await runner.query(sourceFactsSql)).rows;
    expect(facts).toMatchObject({ may_switch_wal: true });
    expect(Number(facts.database_bytes)).toBeGreaterThan(0);
    const [local] = (await runner.query(localSourceSql)).rows;
    expect(local).toMatchObject({ data_directory: cluster.dataDir, in_recovery: false, may_start_backup: true });
    const [layout] = (await runner.query("SELECT current_setting('config_file') AS config_file, current_setting('hba_file') AS hba_file")).rows;
    expect(layout.config_file).toBe(join(cluster.dataDir, 'postgresql.conf'));
    await runner.query(backupStartSql, ['setup-sql test']);
    const [stop] = (await runner.query(backupStopSql)).rows;
    expect(stop.labelfile).toContain('LABEL: setup-sql test');
    await runner.query(switchWalSql);
    await runner.query('SELECT pg_reload_conf()');
  });

  it('production: it streams a base backup over a replication connection (REPLICATION)', async () => {
    const { stdout } = await execa(join(BIN, 'psql'), ['-X', '-A', '-t', '-c', 'IDENTIFY_SYSTEM', `host=${cluster.socketDir} port=${cluster.port} user=${NAMES.productionRole} dbname=postgres replication=database`]);
    expect(stdout).toMatch(/^\d+\|1\|/);
    await execa(join(BIN, 'pg_basebackup'), ['-h', cluster.socketDir, '-p', String(cluster.port), '-U', NAMES.productionRole, '-D', join(root, 'streamed'), '-Ft', '-X', 'none', '-c', 'fast', '--no-sync']);
  });

  it("production: rows, table and database work as the tables' owner (membership), reading others' tables", async () => {
    const runner = await as(NAMES.productionRole, 'appdb');
    expect((await runner.query<{ n: number }>('SELECT count(*)::int AS n FROM public.secrets')).rows[0]!.n).toBe(1);
    await runner.query('BEGIN');
    await runner.query('LOCK TABLE app.workflows IN EXCLUSIVE MODE');
    await runner.query("INSERT INTO app.workflows (id, name) OVERRIDING SYSTEM VALUE VALUES (10, 'restored')");
    await runner.query("SELECT setval('app.workflows_id_seq'::regclass, 10)");
    await runner.query("UPDATE app.workflows SET name = 'b2' WHERE id = 2");
    await runner.query('DELETE FROM app.workflows WHERE id = 1');
    await runner.query('CREATE TABLE app.workflows_restored (LIKE app.workflows INCLUDING ALL)');
    await runner.query('COMMIT');
    await refused(runner, 'INSERT INTO public.secrets VALUES (2)'); // read, not write, outside the owner's tables
    // verify's index check where amcheck is installed: the grant the production part names in a comment.
    const app = await as('postgres', 'appdb');
    await app.query('CREATE EXTENSION amcheck');
    await refused(runner, "SELECT bt_index_check('app.workflows_pkey'::regclass, true)");
    const grant = /^--\s+(GRANT EXECUTE ON FUNCTION bt_index_check\(regclass, boolean\) TO "recover_runner";)$/m.exec(setupSql(NAMES, ['production']))![1]!;
    await app.query(grant);
    await app.end();
    await runner.query(btIndexCheckSql, [(await runner.query("SELECT 'app.workflows_pkey'::regclass::oid AS oid")).rows[0].oid]);

    const postgres = await as(NAMES.productionRole);
    await postgres.query(createDatabaseLikeSql('appdb_restored_1', { owner: 'app_owner', encoding: 'UTF8', collate: 'C', ctype: 'C', provider: 'c', icuLocale: null }));
    const user = await as('app_user', 'appdb');
    const superuser = await as('postgres', 'appdb');
    await postgres.query(allowConnectionsSql('appdb', false));
    // pg_signal_backend ends the application's session; a superuser's it may not end (the swap waits for it).
    await refused(postgres, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'appdb' AND usename = 'postgres'");
    await superuser.end();
    await runner.end();
    const admin = await as('postgres');
    await until('the superuser session to end', async () => {
      const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'appdb' AND usename <> 'app_user'");
      return rows[0]!.n === 0 ? true : undefined;
    }, 10_000);
    expect((await postgres.query(terminateSessionsSql, [['appdb']])).rows[0].terminated).toBe(1);
    await expect(user.query('SELECT 1')).rejects.toThrow();
    await postgres.query(renameDatabaseSql('appdb', 'appdb_before_1'));
    await postgres.query(renameDatabaseSql('appdb_restored_1', 'appdb'));
    await postgres.query(allowConnectionsSql('appdb_before_1', true));
  });

  it('control: the runners\' role applies the migrations; the grants part, run by it, lets the bot do its work and nothing more', async () => {
    await migrate(poolAs(NAMES.controlRunnerRole, NAMES.controlDatabase));
    await psql('control-grants', NAMES.controlRunnerRole, NAMES.controlDatabase);

    const bot = poolAs(NAMES.botRole, NAMES.controlDatabase);
    expect((await migrate(bot)).applied).toEqual([]); // the bot's start: nothing to change, nothing needed
    const request = await createRequest(bot, { teamId: 'T1', channelId: 'C1', requesterId: 'U1', command: 'pitr', args: {}, pool: 'default' });
    expect(await firstSeenRequest(bot, 'trigger:1')).toBe(true);
    await appendAudit(bot, { actor: 'slack:U1', action: 'approval.requested', subject: `request:${request.id}` });
    await recordSlackPostIntent(bot, { key: `request:${request.id}:planning`, kind: 'planning', channel: 'C1', requestId: request.id });

    const client = await bot.connect();
    try {
      await refused(client as unknown as pg.Client, 'ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
      await refused(client as unknown as pg.Client, 'CREATE TABLE forged (id int)');
      await refused(client as unknown as pg.Client, "INSERT INTO database_copies (job_id) VALUES (gen_random_uuid())");
      await refused(client as unknown as pg.Client, 'DELETE FROM requests');
    } finally {
      client.release();
    }
    // The bot started before the runner of a newer version: it says which to start first.
    const next = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: '9999_future', sql: 'CREATE TABLE future (id int)' }];
    await expect(migrate(bot, next)).rejects.toMatchObject({ code: 'MIGRATION_INVALID', hint: expect.stringMatching(/Start a runner of this version first/) });
  });
});
