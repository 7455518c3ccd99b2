/**
 * `recover switchover` against a real primary and a `pg_basebackup -R` standby (no archive, no
 * Azurite: local storage). In order: refused when this runner does not hold the primary's data
 * directory; production → DR with a client inserting throughout (every acknowledged insert on the
 * new primary, the old one in recovery, not writable, streaming from the new one through the
 * slot); then DR → production again (the same command, roles read from the servers).
 * The data directory it stops must be the primary's: the standby's directory (same cluster,
 * another port) or a link to it is refused before anything changes; a link to the primary's
 * own directory is accepted (the production → DR run goes through one).
 */
import { chmod, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExec } from '../../../src/engine/exec.js';
import type { ClusterHandle } from '../../../src/engine/local-cluster.js';
import { Clusters, pairEnv, ids, inRecovery, q, untilStandby, writer } from '../../support/replication.js';
import { runCli } from '../../support/run-cli.js';

let root: string;
let clusters: Clusters;
let production: ClusterHandle;
let dr: ClusterHandle;

const env = (extra: Record<string, string | undefined> = {}) => pairEnv(root, { production, dr, dataDirs: true }, extra);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rb-switchover-'));
  await chmod(root, 0o755);
  clusters = new Clusters(createExec(pino({ level: 'silent' })), root);
  production = await clusters.primary('prod');
  await q(production, "CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, 'before' FROM generate_series(1, 100) g");
  dr = await clusters.standby(production, 'dr');
}, 60_000);

afterAll(async () => {
  await clusters?.stopAll();
  if (root) await rm(root, { recursive: true, force: true });
}, 60_000);

describe('recover switchover (a real primary and streaming standby)', () => {
  it('refused (exit 3) when this runner does not hold the primary\'s data directory; nothing changes', async () => {
    const run = await runCli(['switchover', '--confirm', 'aiagent_prod', '--json'], env({ RECOVER_SOURCE_DATA_DIR: undefined }));
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stdout).toContain('RECOVER_SOURCE_DATA_DIR is not set');
    expect(await inRecovery(production)).toBe(false);
    expect(await inRecovery(dr)).toBe(true);
  }, 30_000);

  it.each([
    ["the standby's own directory (same system identifier, another port)", () => dr.dataDir, /RECOVER_SOURCE_DATA_DIR .* is not the data directory of the server on port/],
    ["a symbolic link to the standby's directory", () => join(root, 'link-to-dr'), /RECOVER_SOURCE_DATA_DIR .*link-to-dr \(a link to .*\) is not the data directory/],
    ['a directory that does not exist', () => join(root, 'nowhere'), /RECOVER_SOURCE_DATA_DIR .*nowhere cannot be read on this runner/],
  ])('refused (exit 3) when RECOVER_SOURCE_DATA_DIR is %s; nothing changes', async (_name, dir, message) => {
    await symlink(dr.dataDir, join(root, 'link-to-dr')).catch(() => undefined);
    const run = await runCli(['switchover', '--confirm', 'aiagent_prod', '--json'], env({ RECOVER_SOURCE_DATA_DIR: dir() }));
    expect(run.code, run.stdout + run.stderr).toBe(3);
    expect(run.stdout).toMatch(message);
    expect(await inRecovery(production)).toBe(false);
    expect(await inRecovery(dr)).toBe(true);
    expect(await q(dr, 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
  }, 30_000);

  it('production → DR with a client writing throughout: every acknowledged insert on DR, production a streaming standby, not writable', async () => {
    const client = writer(production, 1000);
    await client.reached(20);
    // Through a symbolic link to production's directory: the same directory once resolved.
    await symlink(production.dataDir, join(root, 'link-to-prod'));
    const run = runCli(['switchover', '--confirm', 'aiagent_prod', '--json'], env({ RECOVER_SOURCE_DATA_DIR: join(root, 'link-to-prod') }));
    const started = client.acknowledged.length;
    const { code, stdout, stderr } = await run;
    await client.stop();
    expect(code, stdout + stderr).toBe(0);
    // The client wrote while the switchover ran (it plans, then stops production): inserts were acknowledged after it started.
    expect(client.acknowledged.length).toBeGreaterThan(started);
    const { result } = JSON.parse(stdout);
    expect(result).toMatchObject({ writesAccepted: true, timeline: 2, rejoined: { streaming: true, slot: 'recover_rejoin' } });
    const onDr = new Set(await ids(dr));
    expect(client.acknowledged.filter((id) => !onDr.has(id))).toEqual([]);
    expect(await inRecovery(dr)).toBe(false);
    expect(await inRecovery(production)).toBe(true);
    await expect(q(production, "INSERT INTO orders VALUES (1, 'two primaries?')")).rejects.toThrow(/read-only/);
    // The old primary's WAL receiver streams from the new one (its socket and port), not from anywhere else.
    expect(await q(production, 'SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver')).toEqual([{ status: 'streaming', sender_host: dr.socketDir, sender_port: dr.port }]);
    await q(dr, "INSERT INTO orders VALUES (5000, 'after switchover')");
    const [written] = await q<{ lsn: string }>(dr, 'SELECT pg_current_wal_lsn()::text AS lsn');
    await untilStandby(production, written!.lsn, 'replay');
    expect(await ids(production)).toContain(5000);
  }, 90_000);

  it('DR → production again: the same command reads the roles from the servers', async () => {
    const before = await ids(dr);
    const run = await runCli(['switchover', '--confirm', 'aiagent_prod', '--json'], env());
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).result).toMatchObject({ from: expect.stringContaining(String(dr.port)), timeline: 3, rejoined: { streaming: true } });
    expect(await inRecovery(production)).toBe(false);
    expect(await inRecovery(dr)).toBe(true);
    expect(await ids(production)).toEqual(before);
    // DR's own slot from its time as primary is gone (it would hold WAL on the standby for nobody).
    expect(await q(dr, 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
  }, 90_000);
});
