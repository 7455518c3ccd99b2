/**
 * `recover failback` by rewind against a real pair: a primary (wal_log_hints on) and its
 * `pg_basebackup -R` standby; the standby promoted (a failover), the old primary writes rows DR
 * never got and crashes, DR takes writes. failback rewinds the old data directory against DR,
 * attaches it as a standby and switches over: production is the primary again with exactly DR's
 * rows (its diverged ones gone), DR streams from it, no slot left holding WAL for nobody.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExec } from '../../../src/engine/exec.js';
import { stopCluster, type ClusterHandle } from '../../../src/engine/local-cluster.js';
import { BIN, Clusters, pairEnv, ids, inRecovery, q, untilStandby } from '../../support/replication.js';
import { runCli } from '../../support/run-cli.js';

let root: string;
let clusters: Clusters;
let production: ClusterHandle;
let dr: ClusterHandle;

const env = () => pairEnv(root, { production, dr, dataDirs: true });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rb-failback-'));
  await chmod(root, 0o755);
  clusters = new Clusters(createExec(pino({ level: 'silent' })), root);
  // pg_rewind reads the old primary's WAL back to the checkpoint before the divergence: kept in its pg_wal here.
  production = await clusters.primary('prod', { wal_log_hints: 'on', wal_keep_size: '128MB' });
  await q(production, "CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, 'before' FROM generate_series(1, 100) g");
  dr = await clusters.standby(production, 'dr');
  const [{ lsn }] = (await q<{ lsn: string }>(production, 'SELECT pg_current_wal_lsn()::text AS lsn')) as [{ lsn: string }];
  await untilStandby(dr, lsn, 'replay');
}, 60_000);

afterAll(async () => {
  await clusters?.stopAll();
  if (root) await rm(root, { recursive: true, force: true });
}, 60_000);

describe('recover failback (rewind)', () => {
  it('rewinds the crashed old primary against DR, attaches it, switches back: DR\'s rows exactly, DR streaming from it', async () => {
    // The failover: DR promoted; the old primary keeps writing rows DR never gets, then crashes.
    await q(dr, 'SELECT pg_promote(true, 60)');
    await q(production, "INSERT INTO orders SELECT g, 'diverged' FROM generate_series(900, 910) g");
    // Two primaries now. The directories it would stop must be the servers' own: each setting pointing at the other server is refused.
    const swapped = await runCli(['failback', '--dry-run', '--json'], { ...env(), RECOVER_SOURCE_DATA_DIR: dr.dataDir });
    expect(swapped.code, swapped.stdout + swapped.stderr).toBe(3);
    expect(swapped.stdout).toMatch(/will not stop the server running from .*RECOVER_SOURCE_DATA_DIR .* is not the data directory of the server on port/);
    const wrongDr = await runCli(['failback', '--dry-run', '--json'], { ...env(), RECOVER_STANDBY_DATA_DIR: production.dataDir });
    expect(wrongDr.code, wrongDr.stdout + wrongDr.stderr).toBe(3);
    expect(wrongDr.stdout).toMatch(/closing switchover would stop DR through a directory that is not its own: RECOVER_STANDBY_DATA_DIR/);
    expect(await inRecovery(production)).toBe(false);
    await stopCluster(clusters.exec, BIN, 'postgres', production.dataDir, 'immediate');
    await q(dr, "INSERT INTO orders SELECT g, 'on DR' FROM generate_series(200, 250) g");
    const expected = await ids(dr);

    const preview = await runCli(['failback', '--dry-run', '--json'], env());
    expect(preview.code, preview.stdout + preview.stderr).toBe(0);
    expect(JSON.parse(preview.stdout).result.plan.facts.Path).toMatch(/^rewind .*wal_log_hints on/);

    const run = await runCli(['failback', '--confirm', 'aiagent_prod', '--json'], env());
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const { result } = JSON.parse(run.stdout);
    expect(result).toMatchObject({ method: 'rewind', attached: { streaming: true }, switchover: { writesAccepted: true, timeline: 3, rejoined: { streaming: true } } });
    expect(await inRecovery(production)).toBe(false);
    expect(await inRecovery(dr)).toBe(true);
    expect(await ids(production)).toEqual(expected);
    await expect(q(dr, "INSERT INTO orders VALUES (1, 'two primaries?')")).rejects.toThrow(/read-only/);
    expect(await q(dr, 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
  }, 120_000);
});
