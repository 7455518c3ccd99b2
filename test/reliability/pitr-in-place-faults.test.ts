/**
 * An in-place restore that fails at any point after production was stopped puts the old data
 * directory back and starts production again, and says so. A side instance never reuses a
 * directory, never lands outside the restore root, and never stops a server it did not start.
 * Real PostgreSQL and Azurite; failures are injected at the start of each step.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { type EngineContext } from '../../src/engine/context.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { exists, freePort, initCluster, startOnFreePort, stopCluster, withClient } from '../../src/engine/local-cluster.js';
import { ownerFor } from '../../src/engine/os-user.js';
import { runPitr, type PitrRequest } from '../../src/engine/pitr.js';
import { serverRunning } from '../../src/engine/recovery.js';
import { RecoverError } from '../../src/errors.js';
import { rejection } from '../support/refusal.js';
import { readCatalog } from '../../src/engine/read-catalog.js';
import type { EngineEvent } from '../../src/types.js';

let sandbox: Sandbox;
const MARKER = 'recover-test-marker';

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE TABLE workflows (id int PRIMARY KEY, user_id int NOT NULL)');
  await sandbox.query('INSERT INTO workflows SELECT g, g % 10 FROM generate_series(1, 300) g');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query('DELETE FROM workflows WHERE id > 200');
  await sandbox.switchAndArchive();
  // A file only the original data directory has: proves production runs on the same directory.
  await writeFile(join(sandbox.production.dataDir, MARKER), 'original\n');
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

const inPlace: PitrRequest = { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'in-place' };

/** A context whose event sink fails when `when` matches: a fault at that point of the run. */
function faultyContext(when: (event: EngineEvent) => boolean): EngineContext {
  const base = sandbox.context();
  return {
    ...base,
    events: {
      emit(event) {
        if (when(event)) throw new Error(`injected fault at ${event.type} ${'step' in event ? event.step : ''}`);
        base.events.emit(event);
      },
    },
  };
}

async function expectProductionAsBefore(): Promise<void> {
  expect(await serverRunning(sandbox.production.dataDir)).toBe(true);
  expect(await exists(join(sandbox.production.dataDir, MARKER))).toBe(true);
  const [row] = await sandbox.query<{ n: number; recovering: boolean }>('SELECT count(*)::int AS n, pg_is_in_recovery() AS recovering FROM workflows');
  expect(row).toEqual({ n: 200, recovering: false });
  // Nothing is left moved aside: the old directory went back where it was.
  const siblings = await readdir(dirname(sandbox.production.dataDir));
  expect(siblings.filter((name) => name.startsWith('data.before-pitr-'))).toEqual([]);
}

test.each([
  ['stop-production', 'step.started'],
  ['move-aside', 'step.started'],
  ['restore-base-backup', 'step.started'],
  ['restore-base-backup', 'step.finished'],
  ['configure-recovery', 'step.finished'],
  ['replay-wal', 'step.started'],
  ['replay-wal', 'step.finished'],
  ['verify', 'step.started'],
] as const)('a failure at %s (%s) puts production back on its own data directory, running', async (step, type) => {
  const ctx = faultyContext((event) => event.type === type && 'step' in event && event.step === step);
  const error = await rejection(runPitr(ctx, sandbox.config, inPlace));
  expect(error.message).toContain('injected fault');
  const told = error.forChannel();
  if (step === 'stop-production') expect(told).toContain('Production was not stopped and nothing was moved');
  else expect(told).toContain(`Production is running again on its previous data directory ${sandbox.production.dataDir}`);
  await expectProductionAsBefore();
});

test('failed verification rolls back too; the failed restore is kept aside for inspection', async () => {
  const error = await rejection(runPitr(sandbox.context(), sandbox.config, { ...inPlace, databases: ['no_such_database'] }));
  expect(error.code).toBe('VERIFY_FAILED');
  expect(error.forChannel()).toContain('Production is running again');
  await expectProductionAsBefore();
  const siblings = await readdir(dirname(sandbox.production.dataDir));
  expect(siblings.some((name) => name.startsWith('data.failed-pitr-'))).toBe(true);
});

test('two in-place restores failing within the same second each keep their failed directory, and production comes back both times', async () => {
  // The aside names carry a stamp to the second: with the clock stopped, the second failure
  // used to find the first one's data.failed-pitr-<stamp> and leave production stopped (ENOTEMPTY).
  const frozen = new Date('2031-03-04T05:06:07.000Z');
  const clockStopped = (base: EngineContext): EngineContext => ({ ...base, clock: { now: () => new Date(frozen) } });
  for (let attempt = 1; attempt <= 2; attempt++) {
    const ctx = clockStopped(faultyContext((event) => event.type === 'step.started' && event.step === 'verify'));
    const error = await rejection(runPitr(ctx, sandbox.config, inPlace));
    expect(error.forChannel()).toContain(`Production is running again on its previous data directory ${sandbox.production.dataDir}`);
    await expectProductionAsBefore();
  }
  const siblings = await readdir(dirname(sandbox.production.dataDir));
  expect(siblings.filter((name) => name.startsWith('data.failed-pitr-20310304T050607Z')).sort()).toEqual(['data.failed-pitr-20310304T050607Z', 'data.failed-pitr-20310304T050607Z-2']);
});

test('approval withdrawn before a later destructive step: refused there, production put back', async () => {
  const error = await rejection(
    runPitr(sandbox.context(), sandbox.config, {
      ...inPlace,
      beforeDestructiveStep: async (step) => {
        if (step === 'replay-wal') throw new RecoverError('APPROVAL_INVALID', 'The approval was withdrawn.');
      },
    }),
  );
  expect(error.code).toBe('APPROVAL_INVALID');
  expect(error.forChannel()).toContain('Production is running again');
  await expectProductionAsBefore();
});

test('no failed in-place restore left its new timeline in the archive (archiving waits for verification)', async () => {
  // Production went on on timeline 1: a .history of a rolled-back restore would make later
  // restores follow a branch production never took.
  await sandbox.switchAndArchive();
  const catalog = await readCatalog(sandbox.storage, new Date());
  expect([...catalog.wal.histories.keys()]).toEqual([]);
  expect(new Set(catalog.wal.segments.map((segment) => segment.timeline))).toEqual(new Set([1]));
});

test('a side instance name in use is refused and the server running there is left alone', async () => {
  const owner = await ownerFor('postgres');
  const taken = join(sandbox.config.restoreRoot, 'taken');
  const cluster = await startOnFreePort(sandbox.exec, sandbox.config.pg.bin, 'postgres', await initCluster(sandbox.exec, {
    bin: sandbox.config.pg.bin,
    osUser: 'postgres',
    owner,
    dataDir: join(taken, 'data'),
    socketDir: join(taken, 'run'),
    port: await freePort(),
    settings: { fsync: 'off' },
  }));
  try {
    const error = await rejection(runPitr(sandbox.context(), sandbox.config, { ...inPlace, to: 'side', instanceName: 'taken' }));
    expect(error.code).toBe('INSTANCE_EXISTS');
    expect(await serverRunning(cluster.dataDir)).toBe(true);
    await withClient(cluster, 'postgres', (client) => client.query('SELECT 1'));
  } finally {
    await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', cluster.dataDir, 'immediate');
  }
});

test.each(['..', '.', '.hidden', 'a/b', '../prod', ''])('instance name %j is refused before anything is created', async (name) => {
  const before = await readdir(dirname(sandbox.config.restoreRoot));
  const error = await rejection(runPitr(sandbox.context(), sandbox.config, { ...inPlace, to: 'side', instanceName: name }));
  expect(error.code).toBe('BAD_INPUT');
  expect(await readdir(dirname(sandbox.config.restoreRoot))).toEqual(before);
  expect(await serverRunning(sandbox.production.dataDir)).toBe(true);
});
