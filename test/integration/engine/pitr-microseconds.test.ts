/**
 * Issue 6 item 1: a time target keeps its microseconds all the way to PostgreSQL. Many
 * one-row transactions commit microseconds apart; their commit timestamps are read with
 * track_commit_timestamp. The target is placed between two commits of the same millisecond,
 * so a target cut to milliseconds would stop before commits it must keep. Every commit must
 * land on the right side of the target, inclusive and exclusive.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pitr as pitrCommand, targetFromArgs } from '../../../commands/pitr.js';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { stopCluster } from '../../../src/engine/local-cluster.js';
import { runPitr, type PitrResult } from '../../../src/engine/pitr.js';
import { parseTargetTime } from '../../../src/catalog/targets.js';
import { readCatalog } from '../../../src/engine/read-catalog.js';

let sandbox: Sandbox;
/** Each committed row and its commit time in microseconds since the epoch, in commit order. */
let commits: { id: number; micros: bigint }[] = [];
/** Index i such that commits i and i+1 share a millisecond, commit i is not on a millisecond boundary, and they are ≥ 2 µs apart. */
let pick = -1;

/** PostgreSQL's own text for a timestamptz to the microsecond, in UTC. */
const utc = (micros: bigint) => {
  const iso = new Date(Number(micros / 1000n)).toISOString();
  return `${iso.slice(0, 23)}${String(micros % 1000n).padStart(3, '0')}+00:00`;
};

beforeAll(async () => {
  sandbox = await startSandbox({ productionSettings: { track_commit_timestamp: 'on' } });
  await sandbox.query('CREATE TABLE ticks (id int PRIMARY KEY)');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  // One transaction per row, committed back to back inside the server: microseconds apart.
  await sandbox.query(`CREATE PROCEDURE tick(n int) LANGUAGE plpgsql AS $$
    BEGIN FOR i IN 1..n LOOP INSERT INTO ticks VALUES (i); COMMIT; END LOOP; END $$`);
  // Enough commits that two of them share a millisecond with room between (checked below, not assumed).
  await sandbox.query('CALL tick(2000)');
  const rows = await sandbox.query<{ id: number; micros: string }>(
    `SELECT id, (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000000)::bigint::text AS micros FROM ticks ORDER BY id`,
  );
  commits = rows.map((row) => ({ id: row.id, micros: BigInt(row.micros) }));
  pick = commits.findIndex((c, i) => {
    const next = commits[i + 1];
    return next !== undefined && c.micros / 1000n === next.micros / 1000n && c.micros % 1000n !== 0n && next.micros - c.micros >= 2n;
  });
  await sandbox.switchAndArchive();
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

async function idsIn(result: PitrResult): Promise<number[]> {
  const client = new pg.Client({ host: result.socketDir!, port: result.port!, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    return (await client.query('SELECT id FROM ticks ORDER BY id')).rows.map((row) => row.id as number);
  } finally {
    await client.end();
  }
}

/** Plans through the command definition (as Slack and the CLI do), then restores what the runner would. */
async function restoreTo(at: string, inclusive: boolean, name: string): Promise<{ ids: number[]; target: string }> {
  const args = pitrCommand.parse([at, inclusive ? '--inclusive' : '--exclusive', '--instance', name]);
  const params = pitrCommand.plan!(args, {
    catalog: await readCatalog(sandbox.storage, new Date()),
    now: new Date(),
    production: { name: 'aiagent_prod' },
    requestId: name,
    instancesInUse: [],
  }).params as { target: Parameters<typeof targetFromArgs>[0]; backupId: string; instanceName: string };
  const result = await runPitr(sandbox.context(), sandbox.config, {
    target: targetFromArgs(params.target),
    inclusive,
    action: 'promote',
    to: 'side',
    backupId: params.backupId,
    instanceName: params.instanceName,
  });
  try {
    expect(result.state).toBe('promoted');
    return { ids: await idsIn(result), target: result.target };
  } finally {
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir, 'immediate');
  }
}

test('the commits include two in the same millisecond, microseconds apart', () => {
  expect(commits).toHaveLength(2000);
  // Commit timestamps are increasing here (one session); the test relies on it, so it checks it.
  for (let i = 1; i < commits.length; i++) expect(commits[i]!.micros).toBeGreaterThanOrEqual(commits[i - 1]!.micros);
  expect(pick).toBeGreaterThanOrEqual(0);
});

test('inclusive, 1 µs after a commit: that commit and every earlier one are restored, none later', async () => {
  const target = commits[pick]!.micros + 1n;
  const at = utc(target);
  // A millisecond Date would have written the target before this commit.
  expect(BigInt(new Date(at).getTime()) * 1000n).toBeLessThan(commits[pick]!.micros);
  expect(parseTargetTime(at).epochMicros).toBe(target);
  const { ids, target: described } = await restoreTo(at, true, 'micro-incl');
  expect(described).toContain(utc(target).replace('+00:00', 'Z'));
  const expected = commits.filter((c) => c.micros <= target).map((c) => c.id);
  expect(expected).toContain(commits[pick]!.id);
  expect(expected).not.toContain(commits[pick + 1]!.id);
  expect(ids).toEqual(expected);
});

test('exclusive, exactly at the next commit of the same millisecond: every commit before it, not it', async () => {
  const target = commits[pick + 1]!.micros;
  const { ids } = await restoreTo(utc(target), false, 'micro-excl');
  expect(ids).toEqual(commits.filter((c) => c.micros < target).map((c) => c.id));
  expect(ids.at(-1)).toBe(commits[pick]!.id);
});
