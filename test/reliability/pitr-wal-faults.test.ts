/**
 * Faults in the WAL a PITR replays, with real PostgreSQL and Azurite:
 * - a segment corrupt in storage (bytes and checksum metadata consistent, as if corrupted
 *   before upload): PostgreSQL ends recovery quietly there and promotes; --latest must fail
 *   with WAL_CORRUPT naming it;
 * - a gap cutting the archive: the refusal offers a time that really restores;
 * - the restored server dying during replay: a RECOVERY_FAILED failure, never a crash;
 * - a target recovery never reaches: PostgreSQL's own words, nothing promoted.
 * After each failure the restored server is stopped and the spool, socket and hook are gone.
 */
import { readdir, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { exists, freePort, withClient } from '../../src/engine/local-cluster.js';
import { spoolRestoreCommand, shellQuote } from '../../src/engine/pg-settings.js';
import { planPitr, runPitr, type PitrRequest } from '../../src/engine/pitr.js';
import { serverRunning } from '../../src/engine/recovery.js';
import { timeTarget } from '../../src/catalog/targets.js';
import { rejection } from '../support/refusal.js';
import { readCatalog } from '../../src/engine/read-catalog.js';
import { decodeWalBuffer } from '../../src/wal/compression.js';
import { pushWalFile } from '../../src/wal/push.js';
import { readStreamToBuffer } from '../../src/util/streams.js';

let sandbox: Sandbox;
/** Segments switched after the base backup, in order; each holds one batch of rows. */
const segments: string[] = [];
let lastCommitInThird: string;

beforeAll(async () => {
  // No autovacuum: its transactions would add commit records the gap test does not expect.
  sandbox = await startSandbox({ productionSettings: { track_commit_timestamp: 'on', autovacuum: 'off' } });
  await sandbox.query('CREATE TABLE t (id int PRIMARY KEY)');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  for (let batch = 0; batch < 5; batch++) {
    await sandbox.query(`INSERT INTO t SELECT g FROM generate_series($1::int * 100 + 1, $1::int * 100 + 100) g`, [batch]);
    if (batch === 2) {
      const [row] = await sandbox.query<{ ts: string }>(
        `SELECT to_char(pg_xact_commit_timestamp(xmin) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS ts FROM t WHERE id = 300`,
      );
      lastCommitInThird = row!.ts;
    }
    segments.push(await sandbox.switchAndArchive());
  }
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

function request(overrides: Partial<PitrRequest>): PitrRequest {
  return { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side', ...overrides };
}

/** The restored server is not running, and nothing of the prefetch is left behind. */
async function expectCleanedUp(instance: string): Promise<void> {
  const workDir = join(sandbox.config.restoreRoot, instance);
  expect(await serverRunning(join(workDir, 'data'))).toBe(false);
  const left = await readdir(workDir);
  expect(left).not.toContain('spool');
  expect(left).not.toContain('wal.sock');
  expect(left).not.toContain('wal-hook.mjs');
}

/** Replaces an archived segment with other bytes, metadata consistent with them (corrupted before upload). */
async function replaceArchived(name: string, mutate: (raw: Buffer) => Buffer): Promise<Buffer> {
  const key = `${sandbox.storage.walPrefix}${name}`;
  const info = await sandbox.storage.wal.head(key);
  const original = await decodeWalBuffer(await readStreamToBuffer(await sandbox.storage.wal.getStream(key)));
  const path = join(sandbox.root, `replacement-${name}`);
  await writeFile(path, mutate(Buffer.from(original)));
  await sandbox.storage.wal.delete(key);
  await pushWalFile(sandbox.storage, sandbox.log, path, name, () => new Date(info!.metadata.archivedat!));
  return original;
}

async function restoreArchived(name: string, original: Buffer): Promise<void> {
  await replaceArchived(name, () => original);
}

test('--latest over a segment corrupt in storage fails naming it; nothing is reported as success', async () => {
  const corrupt = segments[2]!;
  // Zero the first page header: PostgreSQL reads "invalid magic number 0000" and, with no
  // target, ends recovery there and promotes as if the archive ended.
  const original = await replaceArchived(corrupt, (raw) => raw.fill(0, 0, 40));
  try {
    const error = await rejection(runPitr(sandbox.context(), sandbox.config, request({ instanceName: 'corrupt-latest' })));
    // One condition, one code: a segment that does not read is WAL_CORRUPT, like a checksum mismatch.
    expect(error.code).toBe('WAL_CORRUPT');
    expect(error.message).toContain(corrupt);
    expect(error.message).toContain(`blob wal/${corrupt}`);
    expect(error.message).toContain('container postgresql-wal-archive');
    expect(error.message).toMatch(/invalid magic number|invalid record length/);
    await expectCleanedUp('corrupt-latest');
  } finally {
    await restoreArchived(corrupt, original);
  }
  // With the good copy back, the same restore succeeds and has every row.
  const result = await runPitr(sandbox.context(), sandbox.config, request({ instanceName: 'good-latest' }));
  expect(result.report.ok).toBe(true);
  const [{ n }] = (await withClient({ socketDir: result.socketDir!, port: result.port! }, 'postgres', async (c) => (await c.query('SELECT count(*)::int AS n FROM t')).rows)) as [{ n: number }];
  expect(n).toBe(500);
});

test('behind a gap, a time between the last commit and the segment archive time is refused at planning with a time that restores', async () => {
  // segments[2] holds the commit of rows 201..300; segments[3] goes missing.
  const missing = segments[3]!;
  const key = `${sandbox.storage.walPrefix}${missing}`;
  const original = await readStreamToBuffer(await sandbox.storage.wal.getStream(key));
  const info = await sandbox.storage.wal.head(key);
  await sandbox.storage.wal.delete(key);
  try {
    const catalog = await readCatalog(sandbox.storage, new Date());
    const archivedAt = catalog.wal.segments.find((s) => s.name === segments[2])!.archivedAt;
    // Microseconds after the last commit, and before the segment was archived.
    const [sec, frac] = lastCommitInThird.slice(0, 26).split('.') as [string, string];
    const target = timeTarget(`${sec}.${String(Number(frac) + 1).padStart(6, '0')}+00:00`);
    expect(target.time.getTime()).toBeLessThan(archivedAt.getTime());

    const error = await rejection(planPitr(sandbox.context(), { target, inclusive: true }, sandbox.config.pg));
    expect(error.code).toBe('WAL_GAP');
    expect(error.message).toContain(`last transaction ended at ${lastCommitInThird}`);
    const offered = /newest time that restores is (\S+)/.exec(error.hint ?? '')?.[1];
    expect(offered).toBeDefined();
    // The whole run refuses in its first step too, before anything is created.
    const runError = await rejection(runPitr(sandbox.context(), sandbox.config, request({ target, instanceName: 'gap-refused' })));
    expect(runError.code).toBe('WAL_GAP');
    expect(await exists(join(sandbox.config.restoreRoot, 'gap-refused'))).toBe(false);

    // The offered time really restores: everything before the last commit of that segment.
    const result = await runPitr(sandbox.context(), sandbox.config, request({ target: timeTarget(offered!), instanceName: 'gap-offered' }));
    expect(result.state).toBe('promoted');
    const [{ n, max }] = (await withClient({ socketDir: result.socketDir!, port: result.port! }, 'postgres', async (c) => (await c.query('SELECT count(*)::int AS n, max(id) AS max FROM t')).rows)) as [{ n: number; max: number }];
    expect(n).toBe(200);
    expect(max).toBe(200);
  } finally {
    await sandbox.storage.wal.put(key, original, { metadata: info!.metadata });
  }
});

test('the restored server killed during replay is a RECOVERY_FAILED failure with cleanup, not a crash', async () => {
  const instance = 'killed-replay';
  const workDir = join(sandbox.config.restoreRoot, instance);
  const psql = join(sandbox.config.pg.bin, 'psql');
  const socketDir = join(workDir, 'run');
  // When replay asks for the fourth segment (the server is consistent and the watcher is
  // connected by then), wait for the watcher's session and kill the postmaster outright.
  const script = join(sandbox.root, 'kill-postmaster.sh');
  await writeFile(
    script,
    [
      '#!/bin/sh',
      `if [ "$1" = "${segments[3]}" ]; then`,
      '  n=0',
      `  until [ "$(${shellQuote(psql)} -h ${shellQuote(socketDir)} -p "$2" -U postgres -Atc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'recover-bot'" postgres 2>/dev/null)" -ge 1 ] 2>/dev/null || [ $n -ge 1200 ]; do n=$((n+1)); sleep 0.1; done`,
      '  kill -9 "$(head -1 postmaster.pid)"',
      '  exit 1',
      'fi',
      'exit 0',
      '',
    ].join('\n'),
  );
  await chmod(script, 0o755);
  const port = await freePort();
  const normal = spoolRestoreCommand({ spoolDir: join(workDir, 'spool'), nodePath: process.execPath, hookPath: join(workDir, 'wal-hook.mjs'), socketPath: join(workDir, 'wal.sock') });
  const error = await rejection(
    runPitr(sandbox.context(), sandbox.config, request({ instanceName: instance, port, restoreCommandOverride: `${shellQuote(script)} "%f" ${port} && ${normal}` })),
  );
  expect(error.code).toBe('RECOVERY_FAILED');
  expect(error.message).toMatch(/stopped during recovery|did not start/);
  await expectCleanedUp(instance);
});

test('a transaction id recovery never reaches fails with PostgreSQL\'s own words, nothing promoted', async () => {
  const error = await rejection(runPitr(sandbox.context(), sandbox.config, request({ target: { kind: 'xid', xid: '4000000' }, instanceName: 'xid-never' })));
  expect(error.code).toBe('RECOVERY_FAILED');
  expect(error.message).toMatch(/end of the archived WAL before the target/);
  await expectCleanedUp('xid-never');
});
