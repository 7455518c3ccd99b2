/**
 * `recover failover --primary-unreachable` after the primary is killed (pg_ctl stop -m immediate:
 * no shutdown checkpoint, no last WAL sent) while clients commit and the standby's replay is
 * paused far behind. The standby is the synchronous standby with synchronous_commit =
 * remote_write, so a COMMIT returns only once the standby wrote its WAL: "received" is exact.
 * The run resumes replay, waits until everything received is replayed, promotes; every insert
 * the clients saw acknowledged is on the promoted server.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createExec } from '../../src/engine/exec.js';
import { stopCluster, type ClusterHandle } from '../../src/engine/local-cluster.js';
import { answers, BIN, Clusters, ids, inRecovery, q, urlOf, writer } from '../support/replication.js';
import { runCli } from '../support/run-cli.js';
import { until } from '../support/until.js';

let root: string;
let clusters: Clusters;
let primary: ClusterHandle;
let standby: ClusterHandle;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rb-failover-killed-'));
  await chmod(root, 0o755);
  clusters = new Clusters(createExec(pino({ level: 'silent' })), root);
  primary = await clusters.primary('prod');
  await q(primary, "CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, 'before' FROM generate_series(1, 100) g");
  standby = await clusters.standby(primary, 'dr');
  await q(primary, "ALTER SYSTEM SET synchronous_standby_names = '*'");
  await q(primary, "ALTER SYSTEM SET synchronous_commit = 'remote_write'");
  await q(primary, 'SELECT pg_reload_conf()');
  await until('the standby is synchronous', async () => ((await q(primary, "SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'")).length > 0 ? true : undefined), 20_000);
}, 60_000);

afterAll(async () => {
  await clusters?.stopAll();
  if (root) await rm(root, { recursive: true, force: true });
}, 60_000);

test('primary killed with replay paused far behind: every acknowledged commit is on the promoted standby', async () => {
  await q(standby, 'SELECT pg_wal_replay_pause()');
  await until('replay paused', async () => ((await q<{ s: string }>(standby, 'SELECT pg_get_wal_replay_pause_state() AS s'))[0]!.s === 'paused' ? true : undefined), 10_000);
  // Four sessions, one row (~2 kB) per transaction, each COMMIT acknowledged once the standby wrote it.
  const clients = writer(primary, 1000, { sessions: 4, padding: 2000, session: "SET synchronous_commit = 'remote_write'" });
  await clients.reached(1500);
  const [behind] = await q<{ bytes: string }>(standby, 'SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text AS bytes');
  expect(Number(behind!.bytes)).toBeGreaterThan(2_000_000);
  // Killed mid-write: the clients are still committing.
  await stopCluster(clusters.exec, BIN, 'postgres', primary.dataDir, 'immediate');
  await clients.ended;
  const acknowledged = [...clients.acknowledged];
  expect(await answers(primary)).toBe(false);
  expect(await inRecovery(standby)).toBe(true);
  expect((await q<{ s: string }>(standby, 'SELECT pg_get_wal_replay_pause_state() AS s'))[0]!.s).toBe('paused');

  const run = await runCli(['failover', '--primary-unreachable', '--confirm', 'aiagent_prod', '--json'], {
    RECOVER_STORAGE_DRIVER: 'local',
    RECOVER_STORAGE_LOCAL_DIR: join(root, 'storage'),
    RECOVER_STATE_DIR: join(root, 'state'),
    RECOVER_RESTORE_ROOT: join(root, 'restores'),
    RECOVER_PRODUCTION_NAME: 'aiagent_prod',
    RECOVER_SOURCE_URL: urlOf(primary),
    RECOVER_STANDBY_URL: urlOf(standby),
    RECOVER_FAILOVER_MAX_LAG_S: '1',
    RECOVER_FAILOVER_CATCHUP_TIMEOUT_S: '60',
    LOG_LEVEL: 'silent',
  });
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const { result } = JSON.parse(run.stdout);
  expect(result).toMatchObject({ catchUp: { resumed: true, decision: 'everything received is replayed', bytesLeft: 0 }, fence: { method: 'none' }, writesAccepted: true, timeline: 2 });
  expect(await inRecovery(standby)).toBe(false);
  const promoted = new Set(await ids(standby));
  expect(acknowledged.length).toBeGreaterThanOrEqual(1500);
  expect(acknowledged.filter((id) => !promoted.has(id))).toEqual([]);
  // Nothing but what was written: the rows before, and ids the clients sent (acknowledged, or in flight at the kill).
  const inFlight = [...promoted].filter((id) => id > 100 && !acknowledged.includes(id));
  expect(inFlight.length).toBeLessThanOrEqual(4);
}, 90_000);
