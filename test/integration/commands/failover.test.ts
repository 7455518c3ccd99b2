/**
 * `recover failover` against a real primary (the sandbox's production) and streaming standbys
 * made from it with `pg_basebackup -R`. In order, on one primary: (c) the apply lag stays above
 * the limit past the deadline → refused, nothing promoted, the primary untouched; (b) the same
 * standby with replay paused over a backlog → resumed, caught up, the primary fenced with pg_ctl,
 * promoted, no row lost; (a) the primary started again, a new standby caught up → fenced by the
 * fence hook, promoted, writes work, the switch hook called with its argv, every row present.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { startCluster, withClient, type ClusterHandle } from '../../../src/engine/local-cluster.js';
import { answers, BIN, Clusters, ids, inRecovery, q, untilStandby, urlOf } from '../../support/replication.js';
import { runCli } from '../../support/run-cli.js';

let sandbox: Sandbox;
let clusters: Clusters;

async function insert(from: number, to: number): Promise<string> {
  await sandbox.query(`INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(${from}, ${to}) g`);
  return (await sandbox.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn;
}

const makeStandby = (name: string, settings: Record<string, string> = {}) => clusters.standby(sandbox.production, name, settings);

const env = (standby: ClusterHandle, extra: Record<string, string> = {}) =>
  sandbox.cliEnv({ RECOVER_STANDBY_URL: urlOf(standby), RECOVER_FAILOVER_MAX_LAG_S: '1', RECOVER_FAILOVER_CATCHUP_TIMEOUT_S: '2', ...extra });

beforeAll(async () => {
  sandbox = await startSandbox();
  clusters = new Clusters(sandbox.exec, sandbox.root);
  await sandbox.query('CREATE TABLE orders (id int PRIMARY KEY, note text)');
  await insert(1, 100);
}, 60_000);

afterAll(async () => {
  await clusters?.stopAll();
  await sandbox?.cleanup();
}, 60_000);

describe('recover failover (a real primary and streaming standby)', () => {
  let first: ClusterHandle;

  it('(c) apply lag above the limit past the deadline: refused (exit 3), nothing promoted, the primary untouched', async () => {
    first = await makeStandby('standby1', { recovery_min_apply_delay: '1h' });
    await untilStandby(first, await insert(101, 150), 'receive');
    await sandbox.switchAndArchive();
    // The plan (--dry-run) shows what the standby says before anything runs.
    const preview = await runCli(['failover', '--dry-run', '--json'], env(first, { RECOVER_SOURCE_DATA_DIR: sandbox.production.dataDir }));
    expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    const facts = JSON.parse(preview.stdout).result.plan.facts;
    expect(facts).toMatchObject({ Replication: expect.stringMatching(/^streaming from /), 'Old primary': expect.stringContaining('accepts connections'), 'WAL archive': expect.stringContaining('newest segment 0000000100000000000000') });
    expect(facts['Received / replayed']).toMatch(/\(\d+ byte\(s\) behind\)/);
    // RECOVER_SOURCE_DATA_DIR naming the standby's own directory: pg_ctl there would stop the standby, not fence the primary.
    const wrongDir = await runCli(['failover', '--dry-run', '--json'], env(first, { RECOVER_SOURCE_DATA_DIR: first.dataDir }));
    expect(wrongDir.code, wrongDir.stdout + wrongDir.stderr).toBe(3);
    expect(wrongDir.stdout).toMatch(/will not fence it with pg_ctl: RECOVER_SOURCE_DATA_DIR .* is not the data directory of the server on port/);
    const run = await runCli(['failover', '--confirm', 'aiagent_prod', '--json'], env(first, { RECOVER_SOURCE_DATA_DIR: sandbox.production.dataDir }));
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stdout).toContain('FAILOVER_REFUSED');
    expect(run.stdout).toContain('above the 1 s limit');
    expect(await inRecovery(first)).toBe(true);
    await insert(151, 151); // the primary still accepts writes
  }, 40_000);

  it('(b) replay paused with a backlog: resumed, waited, the primary fenced with pg_ctl, promoted, no row lost', async () => {
    await q(first, 'SELECT pg_wal_replay_pause()');
    await q(first, "ALTER SYSTEM SET recovery_min_apply_delay = '0'");
    await q(first, 'SELECT pg_reload_conf()');
    await untilStandby(first, await insert(152, 400), 'receive');
    const [lag] = await q<{ behind: string }>(first, 'SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text AS behind');
    expect(Number(lag!.behind)).toBeGreaterThan(0);
    const expected = await ids(sandbox.production);
    const run = await runCli(['failover', '--confirm', 'aiagent_prod', '--json'], env(first, { RECOVER_SOURCE_DATA_DIR: sandbox.production.dataDir, RECOVER_FAILOVER_CATCHUP_TIMEOUT_S: '60' }));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const { result } = JSON.parse(run.stdout);
    expect(result.catchUp.resumed).toBe(true);
    expect(result.fence.method).toBe('pg_ctl');
    expect(await answers(sandbox.production)).toBe(false);
    expect(await inRecovery(first)).toBe(false);
    expect(await ids(first)).toEqual(expected);
  }, 60_000);

  it('(a) caught up, the primary reachable: fenced by the hook, promoted, writes work, switch hook called, every row present', async () => {
    await startCluster(sandbox.exec, BIN, 'postgres', sandbox.production);
    const second = await makeStandby('standby2');
    await untilStandby(second, await insert(401, 500), 'replay');
    const expected = await ids(sandbox.production);
    const record = join(sandbox.root, 'hooks.log');
    const hook = join(sandbox.root, 'hook.sh');
    // Records its argv; as the fence it stops the old primary, as the switch it connects "the application" to the new one (in the background, as a restarted deployment would).
    const app = `PGAPPNAME=api runuser -u postgres -- ${BIN}/psql -h ${second.socketDir} -p ${second.port} -d postgres -c 'SELECT pg_sleep(30)' >/dev/null 2>&1 &`;
    const script = `#!/bin/sh\necho "$*" >> ${record}\nif [ "$1" = fence ]; then runuser -u postgres -- ${BIN}/pg_ctl stop -D ${sandbox.production.dataDir} -m fast -w; fi\nif [ "$1" = switch ]; then ${app}\nfi\n`;
    await writeFile(hook, script, { mode: 0o755 });
    const patch = '{"data":{"DATABASE_HOST":"standby2"}}';
    // A session open before the switch (monitoring, people) is not the application reconnecting.
    const run = await withClient(second, 'postgres', async (client) => {
      await client.query("SET application_name = 'monitoring'");
      return runCli(['failover', '--confirm', 'aiagent_prod', '--json'], env(second, {
        RECOVER_FAILOVER_FENCE_COMMAND: JSON.stringify([hook, 'fence', 'old-primary']),
        RECOVER_FAILOVER_SWITCH_COMMAND: JSON.stringify([hook, 'switch', '-n', 'api', 'patch', 'configmap', 'db', '-p', patch]),
        RECOVER_FAILOVER_RECONNECT_TIMEOUT_S: '20',
      }));
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const { result } = JSON.parse(run.stdout);
    expect(result).toMatchObject({ fence: { method: 'hook' }, writesAccepted: true, timeline: 2, switched: true, integrity: { ok: true }, reconnect: { ok: true, detail: expect.stringContaining('since the switch') } });
    expect((await readFile(record, 'utf8')).trim().split('\n')).toEqual(['fence old-primary', `switch -n api patch configmap db -p ${patch}`]);
    expect(await answers(sandbox.production)).toBe(false);
    expect(await ids(second)).toEqual(expected);
    await q(second, "INSERT INTO orders VALUES (501, 'after failover')");
    expect(await ids(second)).toEqual([...expected, 501]);
  }, 60_000);
});
