/**
 * The recovery of an interrupted in-place restore, driven from a journal on a real production
 * cluster (the runner-kill cases are in in-place-runner-lost.test.ts): a restore that had
 * passed verification is finished (archiving resumed, production not restarted, no step run
 * again); production stopped by a lost restore (pg_ctl method) is started; a journal whose job
 * is someone else's is left alone; a new restore refuses to start over an unfinished journal.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { readJournal, writeJournal, type InPlaceJournal } from '../../src/engine/in-place-journal.js';
import { recoverInterruptedInPlace } from '../../src/engine/in-place-recovery.js';
import { stopCluster } from '../../src/engine/local-cluster.js';
import { ownerFor } from '../../src/engine/os-user.js';
import { runPitr } from '../../src/engine/pitr.js';
import { serverRunning } from '../../src/engine/recovery.js';
import { inPlaceSwap } from '../../src/engine/restore-layout.js';
import { parseConnectionUrl, pgClientConfig } from '../../src/util/connection-url.js';
import { rejection } from '../support/refusal.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.switchAndArchive();
}, 180_000);
afterAll(async () => {
  await sandbox?.cleanup();
});

const journal = (patch: Partial<InPlaceJournal>): InPlaceJournal => ({
  version: 1,
  jobId: 'job-lost',
  pid: 2 ** 22 + 1, // above pid_max's default range: no such process
  dataDir: sandbox.production.dataDir,
  movedAside: null,
  failedDir: null,
  configFile: null,
  stopMethod: 'pg_ctl',
  phase: 'stopping',
  updatedAt: new Date().toISOString(),
  ...patch,
});

test('verified before the runner was lost: finished (archiving resumed, no restart), journal removed', async () => {
  const [before] = await sandbox.query<{ started: Date; ac: string }>(`SELECT pg_postmaster_start_time() AS started, current_setting('archive_command') AS ac`);
  const connection = pgClientConfig(parseConnectionUrl(sandbox.productionUrl), 'postgres');
  await inPlaceSwap(sandbox.context(), sandbox.config.pg, sandbox.config, connection, await ownerFor('postgres')).pauseArchiving();
  await sandbox.query('SELECT pg_reload_conf()');
  await writeJournal(journal({ phase: 'verified', movedAside: `${sandbox.production.dataDir}.before-pitr-20990101T000000Z` }));

  // Someone else's job: untouched.
  expect(await recoverInterruptedInPlace(sandbox.context(), sandbox.config, async () => false)).toBeNull();
  expect((await readJournal(sandbox.production.dataDir))?.phase).toBe('verified');

  const done = await recoverInterruptedInPlace(sandbox.context(), sandbox.config, async () => true);
  expect(done).toMatchObject({ kind: 'finish', ok: true, done: ['remove-pause', 'check', 'remove-journal'] });
  expect(done!.message).toMatch(/finished it: resumed archiving/);
  expect(await readJournal(sandbox.production.dataDir)).toBeNull();
  // A reload reaches new sessions once the postmaster handled SIGHUP: wait for the condition, not a time.
  let after: { started: Date; ac: string } | undefined;
  for (let tries = 0; tries < 200 && !after?.ac; tries++) {
    [after] = await sandbox.query<{ started: Date; ac: string }>(`SELECT pg_postmaster_start_time() AS started, current_setting('archive_command') AS ac`);
    if (!after?.ac) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(after!.started).toEqual(before!.started);
  expect(after!.ac).toBe(before!.ac);
  expect(after!.ac).not.toBe('');
});

test('stopped by a lost restore before anything moved (pg_ctl): started again on its own data', async () => {
  await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', sandbox.production.dataDir, 'fast');
  expect(await serverRunning(sandbox.production.dataDir)).toBe(false);
  await writeJournal(journal({ phase: 'moving-aside', movedAside: `${sandbox.production.dataDir}.before-pitr-20990101T000001Z` }));
  const done = await recoverInterruptedInPlace(sandbox.context(), sandbox.config, async () => true);
  expect(done).toMatchObject({ kind: 'roll-back', ok: true, done: ['start', 'check', 'remove-journal'] });
  expect(await serverRunning(sandbox.production.dataDir)).toBe(true);
  expect(await readJournal(sandbox.production.dataDir)).toBeNull();
});

test('a new in-place restore refuses to start over an unfinished journal, and leaves it and production as they are', async () => {
  await writeJournal(journal({ phase: 'restoring', movedAside: `${sandbox.production.dataDir}.before-pitr-20990101T000002Z` }));
  try {
    const error = await rejection(runPitr(sandbox.context(), sandbox.config, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'in-place' }));
    expect(error.message).toMatch(/interrupted and not yet put right; production was not stopped/);
    expect(await serverRunning(sandbox.production.dataDir)).toBe(true);
    expect((await readJournal(sandbox.production.dataDir))?.jobId).toBe('job-lost');
  } finally {
    await import('node:fs/promises').then(({ rm }) => rm(`${sandbox.production.dataDir}.recover-journal.json`, { force: true }));
  }
});
