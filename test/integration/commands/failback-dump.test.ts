/**
 * `recover failback <db>` by dump: the old primary's data directory is gone (none on this runner)
 * and a rebuilt primary (a fresh cluster) holds an older copy of the database. failback dumps
 * DR's database, restores it as a new database on the rebuilt primary, compares every table, and
 * swaps it in: the rebuilt primary's database then has exactly DR's rows (per-table hash), the
 * older copy kept as `<db>_before_<stamp>`. A role DR's database names (a grantee) missing on the
 * rebuilt primary is refused at planning, listed; --no-owner restores it without owners and grants.
 * A database the rebuilt primary does not have at all is restored, compared and renamed into place.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExec } from '../../../src/engine/exec.js';
import type { ClusterHandle } from '../../../src/engine/local-cluster.js';
import { withTargetClient } from '../../../src/engine/pg-client.js';
import { tableHashes } from '../../../src/engine/verify.js';
import { Clusters, pairEnv, q } from '../../support/replication.js';
import { runCli } from '../../support/run-cli.js';

let root: string;
let clusters: Clusters;
let rebuilt: ClusterHandle;
let dr: ClusterHandle;

const env = () => pairEnv(root, { production: rebuilt, dr, dataDirs: false });
const conn = (cluster: ClusterHandle) => ({ host: cluster.socketDir, port: cluster.port, user: 'postgres', database: 'postgres' });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rb-failback-dump-'));
  await chmod(root, 0o755);
  clusters = new Clusters(createExec(pino({ level: 'silent' })), root);
  [dr, rebuilt] = [await clusters.primary('dr'), await clusters.primary('rebuilt')];
  for (const cluster of [dr, rebuilt]) await q(cluster, 'CREATE DATABASE shop');
}, 60_000);

afterAll(async () => {
  await clusters?.stopAll();
  if (root) await rm(root, { recursive: true, force: true });
}, 60_000);

const shopSql = async (cluster: ClusterHandle, sql: string) => {
  await withTargetClient({ ...conn(cluster), database: 'shop' }, (c) => c.query(sql));
};

describe('recover failback <db> (dump path)', () => {
  it("restores DR's database into the rebuilt primary, compares it, swaps it in; the older copy kept as _before_", async () => {
    await shopSql(dr, "CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, 'on DR ' || g FROM generate_series(1, 2000) g; CREATE TABLE customers (id int PRIMARY KEY, name text); INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 50) g; CREATE INDEX ON orders (note)");
    // The rebuilt primary's older copy: fewer rows, one diverged.
    await shopSql(rebuilt, "CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, 'on DR ' || g FROM generate_series(1, 1500) g; UPDATE orders SET note = 'stale' WHERE id = 7");
    const expected = await tableHashes(conn(dr), 'shop');
    const older = await tableHashes(conn(rebuilt), 'shop');

    const preview = await runCli(['failback', 'shop', '--dry-run', '--json'], env());
    expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    const plan = JSON.parse(preview.stdout).result.plan;
    expect(plan.facts.Path).toMatch(/^dump \(directory missing: RECOVER_SOURCE_DATA_DIR is not set/);
    expect(plan.steps.map((s: { kind: string }) => s.kind)).toEqual(['dump-dr', 'create-database', 'restore-schema', 'restore-data', 'verify', 'check-swap', 'swap']);

    // The rebuilt primary's own data directory on this runner: another cluster than DR's, nothing to rewind.
    const here = await runCli(['failback', 'shop', '--dry-run', '--json'], { ...env(), RECOVER_SOURCE_DATA_DIR: rebuilt.dataDir });
    expect(here.code, here.stdout + here.stderr).toBe(0);
    expect(JSON.parse(here.stdout).result.plan.facts.Path).toMatch(/^dump \(not this cluster: .* has system identifier \d+, DR \d+/);

    const wrong = await runCli(['failback', 'shop', '--confirm', 'shop', '--json'], env());
    expect(wrong.code).not.toBe(0);
    expect(await tableHashes(conn(rebuilt), 'shop')).toEqual(older);

    const run = await runCli(['failback', 'shop', '--jobs', '2', '--confirm', 'aiagent_prod', '--json'], env());
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const { result } = JSON.parse(run.stdout);
    expect(result).toMatchObject({ method: 'dump', database: 'shop', tables: 2, rows: 2050 });
    expect(result.newName).toMatch(/^shop_restored_\d{14}$/);
    expect(await tableHashes(conn(rebuilt), 'shop')).toEqual(expected);
    const beforeName = result.swapped.beforeName as string;
    expect(beforeName).toMatch(/^shop_before_\d{14}$/);
    expect(await tableHashes(conn(rebuilt), beforeName)).toEqual(older);
    const names = (await q<{ datname: string }>(rebuilt, 'SELECT datname FROM pg_database ORDER BY 1')).map((r) => r.datname);
    expect(names.filter((n) => n.startsWith('shop'))).toEqual(['shop', beforeName]);
    expect(await tableHashes(conn(dr), 'shop')).toEqual(expected);
  }, 60_000);

  it('a role DR\'s database names is missing on the rebuilt primary: refused at planning, listed; --no-owner restores and swaps it in', async () => {
    await q(dr, 'CREATE ROLE shop_reader');
    await shopSql(dr, 'GRANT SELECT ON orders TO shop_reader; INSERT INTO customers SELECT g, \'late\' || g FROM generate_series(51, 60) g');
    const expected = await tableHashes(conn(dr), 'shop');
    const namesBefore = (await q<{ datname: string }>(rebuilt, 'SELECT datname FROM pg_database ORDER BY 1')).map((r) => r.datname);

    const refused = await runCli(['failback', 'shop', '--dry-run', '--json'], env());
    expect(refused.code, refused.stdout + refused.stderr).toBe(3);
    const error = JSON.parse(refused.stdout);
    expect(error).toMatchObject({ code: 'ROLES_MISSING', message: expect.stringMatching(/does not have: shop_reader \(owners or grantees/) });
    expect(error.hint).toContain('recover failback shop --no-owner');
    expect((await q<{ datname: string }>(rebuilt, 'SELECT datname FROM pg_database ORDER BY 1')).map((r) => r.datname)).toEqual(namesBefore);

    const preview = await runCli(['failback', 'shop', '--no-owner', '--dry-run', '--json'], env());
    expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    expect(JSON.parse(preview.stdout).result.plan.facts.Owners).toMatch(/^--no-owner: .*NO grants are restored/);
    const run = await runCli(['failback', 'shop', '--no-owner', '--confirm', 'aiagent_prod', '--json'], env());
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await tableHashes(conn(rebuilt), 'shop')).toEqual(expected);
    expect(await q(rebuilt, "SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'shop_reader'")).toEqual([{ n: 0 }]);
  }, 60_000);

  it('the rebuilt primary has no such database (a new cluster): the verified copy is renamed to it, nothing set aside', async () => {
    await q(dr, 'CREATE DATABASE ledger');
    await withTargetClient({ ...conn(dr), database: 'ledger' }, (c) => c.query("CREATE TABLE entries (id bigint PRIMARY KEY, amount numeric(12,2), memo text); INSERT INTO entries SELECT g, g * 0.5, 'e' || g FROM generate_series(1, 3000) g; CREATE INDEX ON entries (memo)"));
    const expected = await tableHashes(conn(dr), 'ledger');

    const preview = await runCli(['failback', 'ledger', '--dry-run', '--json'], env());
    expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    const plan = JSON.parse(preview.stdout).result.plan;
    expect(plan.summary).toMatch(/\(which has no ledger\), compared, then renamed to ledger$/);
    expect(plan.params.databaseOid).toBeNull();

    const run = await runCli(['failback', 'ledger', '--confirm', 'aiagent_prod', '--json'], env());
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const { result } = JSON.parse(run.stdout);
    expect(result).toMatchObject({ method: 'dump', database: 'ledger', tables: 1, rows: 3000, swapped: { database: 'ledger', beforeName: null } });
    expect(await tableHashes(conn(rebuilt), 'ledger')).toEqual(expected);
    const names = (await q<{ datname: string }>(rebuilt, 'SELECT datname FROM pg_database ORDER BY 1')).map((r) => r.datname);
    expect(names.filter((n) => n.startsWith('ledger'))).toEqual(['ledger']);
  }, 60_000);
});
