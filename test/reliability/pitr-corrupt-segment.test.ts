/**
 * A WAL segment in the middle of the archive corrupt in storage with consistent checksums
 * (its bytes altered and its sha256/crc32/rawsize rewritten to match, so the archive's own
 * checks pass): PostgreSQL's replay and pg_waldump stop at an invalid record in it.
 * Time, xid and LSN targets beyond it must be told WAL_CORRUPT naming the segment, the
 * container and the blob, at planning when the WAL read there shows it and during replay
 * otherwise — never "beyond the newest archived WAL", "not archived yet" or "write EPIPE …
 * still running" — and the CLI's exit status is the one exitCodeFor gives that code. Bit rot
 * (a blob that no longer matches its checksum) met during replay is the same WAL_CORRUPT.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { planPitr, runPitr } from '../../src/engine/pitr.js';
import { serverRunning } from '../../src/engine/recovery.js';
import { parseLsn } from '../../src/catalog/segments.js';
import { timeTarget } from '../../src/catalog/targets.js';
import { exitCodeFor, type RecoverError } from '../../src/errors.js';
import type { RecoveryTarget } from '../../src/types.js';
import { decodeWalBuffer } from '../../src/wal/compression.js';
import { pushWalFile } from '../../src/wal/push.js';
import { readStreamToBuffer } from '../../src/util/streams.js';
import { rejection } from '../support/refusal.js';
import { runCli } from '../support/run-cli.js';

const CONTAINER = 'postgresql-wal-archive';
let sandbox: Sandbox;
/** s[0], s[1]: a batch of rows each; s[2]: batch 2, corrupted below; s[3], s[4]: no transaction at all. */
const s: string[] = [];
const marks: { afterFirst?: string; xid2?: string; lsn2?: string; afterThird?: string } = {};

const now = async () => (await sandbox.query<{ t: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS t`))[0]!.t;

beforeAll(async () => {
  sandbox = await startSandbox({ productionSettings: { autovacuum: 'off' } });
  await sandbox.query('CREATE TABLE t (id int PRIMARY KEY)');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  for (const batch of [0, 1]) {
    await sandbox.query(`INSERT INTO t SELECT g FROM generate_series($1::int * 100 + 1, $1::int * 100 + 100) g`, [batch]);
    s.push(await sandbox.switchAndArchive());
  }
  marks.afterFirst = await now();
  const [row] = await sandbox.query<{ xid: string }>(`INSERT INTO t SELECT g FROM generate_series(201, 300) g RETURNING pg_current_xact_id()::text AS xid`);
  marks.xid2 = row!.xid;
  marks.lsn2 = (await sandbox.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn;
  s.push(await sandbox.switchAndArchive());
  // WAL without a transaction end: a time target past it needs pg_waldump to look back into s[2].
  for (let i = 3; i <= 4; i++) {
    await sandbox.query(`SELECT pg_logical_emit_message(false, 'recover-bot-test', 'no transaction here')`);
    s.push(await sandbox.switchAndArchive());
    if (i === 3) marks.afterThird = await now();
  }
  // Garbage over the first records of s[2] (before batch 2's commit); the blob's metadata is
  // rewritten to match the new bytes, as if the segment had been damaged before it was uploaded.
  const key = `${sandbox.storage.walPrefix}${s[2]}`;
  const info = await sandbox.storage.wal.head(key);
  const raw = Buffer.from(await decodeWalBuffer(await readStreamToBuffer(await sandbox.storage.wal.getStream(key))));
  raw.fill(0xa5, 300, 364);
  const path = join(sandbox.root, `corrupt-${s[2]}`);
  await writeFile(path, raw);
  await sandbox.storage.wal.delete(key);
  await pushWalFile(sandbox.storage, sandbox.log, path, s[2]!, () => new Date(info!.metadata.archivedat!));
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

function expectCorruptSegmentNamed(error: Pick<RecoverError, 'code' | 'message' | 'hint'>): void {
  expect(error.code).toBe('WAL_CORRUPT');
  expect(error.message).toContain(s[2]);
  expect(error.message).toContain(`container ${CONTAINER}`);
  expect(error.message).toContain(`blob wal/${s[2]}`);
  expect(error.message).not.toMatch(/beyond the newest archived WAL|not archived yet|EPIPE|still running/);
  expect(error.hint).toMatch(/intact copy/);
  expect(error.hint).toMatch(/target before/);
  expect(error.hint ?? '').not.toMatch(/still running/);
}

async function expectStoppedAndClean(instance: string): Promise<void> {
  const workDir = join(sandbox.config.restoreRoot, instance);
  expect(await serverRunning(join(workDir, 'data'))).toBe(false);
  const left = await readdir(workDir);
  for (const name of ['spool', 'wal.sock', 'wal-hook.mjs']) expect(left).not.toContain(name);
}

describe('at planning, when the WAL read for a time target shows the damage', () => {
  test('the engine names the segment, container and blob (not "beyond the newest archived WAL")', async () => {
    const error = await rejection(planPitr(sandbox.context(), { target: timeTarget(marks.afterThird!), inclusive: true }, sandbox.config.pg));
    expectCorruptSegmentNamed(error);
    expect(error.message).toMatch(/pg_waldump/);
  });

  test('the CLI dry run exits with the status of WAL_CORRUPT', async () => {
    const run = await runCli(['pitr', '--at', marks.afterThird!, '--dry-run'], sandbox.cliEnv());
    expect(run.code).toBe(exitCodeFor('WAL_CORRUPT'));
    expect(run.stderr).toContain('WAL_CORRUPT');
    expect(run.stderr).toContain(`blob wal/${s[2]}`);
    expect(run.stderr).toContain(`container ${CONTAINER}`);
  });
});

describe('during replay, a target past the damage', () => {
  const cases: [string, () => RecoveryTarget][] = [
    ['xid', () => ({ kind: 'xid', xid: marks.xid2! })],
    ['lsn', () => ({ kind: 'lsn', lsn: parseLsn(marks.lsn2!) })],
  ];
  test.each(cases)('%s: WAL_CORRUPT naming the segment and how far replay got; nothing promoted, server stopped', async (kind, target) => {
    const instance = `corrupt-mid-${kind}`;
    const error = await rejection(runPitr(sandbox.context(), sandbox.config, { target: target(), inclusive: true, action: 'promote', to: 'side', instanceName: instance }));
    expectCorruptSegmentNamed(error);
    expect(error.message).toMatch(/replay(ed)? .*\d+\/[0-9A-F]+/i);
    await expectStoppedAndClean(instance);
  });

  test('time (through the CLI): exit status of WAL_CORRUPT, the segment named, the server stopped', async () => {
    // Planning cannot see this one: the target's segments end with s[2] itself, not with the archive's end.
    await expect(planPitr(sandbox.context(), { target: timeTarget(marks.afterFirst!), inclusive: true }, sandbox.config.pg)).resolves.toBeDefined();
    const run = await runCli(['pitr', '--at', marks.afterFirst!, '--instance', 'corrupt-mid-time'], sandbox.cliEnv());
    expect(run.code).toBe(exitCodeFor('WAL_CORRUPT'));
    expect(run.stderr).toContain('WAL_CORRUPT');
    expect(run.stderr).toContain(s[2]);
    expect(run.stderr).toContain(`blob wal/${s[2]}`);
    expect(run.stderr).not.toMatch(/not archived yet|EPIPE|still running/);
    await expectStoppedAndClean('corrupt-mid-time');
  });
});

test('bit rot met during replay (the blob no longer matches its checksum) keeps its code: WAL_CORRUPT, not RECOVERY_FAILED', async () => {
  const key = `${sandbox.storage.walPrefix}${s[0]}`;
  const info = (await sandbox.storage.wal.head(key))!;
  const stored = await readStreamToBuffer(await sandbox.storage.wal.getStream(key));
  const rotten = Buffer.from(stored);
  rotten[rotten.length >> 1] = rotten[rotten.length >> 1]! ^ 0xff;
  await sandbox.storage.wal.put(key, rotten, { metadata: info.metadata });
  try {
    const error = await rejection(runPitr(sandbox.context(), sandbox.config, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side', instanceName: 'rot-latest' }));
    expect(error.code).toBe('WAL_CORRUPT');
    expect(error.message).toContain(`blob wal/${s[0]}`);
    expect(error.message).toContain(`container ${CONTAINER}`);
    await expectStoppedAndClean('rot-latest');
  } finally {
    await sandbox.storage.wal.put(key, stored, { metadata: info.metadata });
  }
});
