/**
 * In-place PITR over a real "production" cluster: stopped, old directory kept, restored, verified.
 * First, RECOVER_SOURCE_DATA_DIR naming a standby of production on this host (same cluster, its
 * own port) is refused before anything is stopped.
 */
import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RecoverError } from '../../../src/errors.js';
import { Clusters, inRecovery } from '../../support/replication.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { exists } from '../../../src/engine/local-cluster.js';
import { runPitr } from '../../../src/engine/pitr.js';
import { readCatalog } from '../../../src/engine/read-catalog.js';

let sandbox: Sandbox;
let beforeMistake: Date;
let clusters: Clusters | undefined;

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE TABLE workflows (id int PRIMARY KEY, user_id int NOT NULL)');
  await sandbox.query('INSERT INTO workflows SELECT g, g % 10 FROM generate_series(1, 500) g');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query('INSERT INTO workflows SELECT g, 12345 FROM generate_series(501, 600) g');
  await new Promise((resolve) => setTimeout(resolve, 50));
  beforeMistake = (await sandbox.query<{ now: Date }>('SELECT clock_timestamp() AS now'))[0]!.now;
  await new Promise((resolve) => setTimeout(resolve, 50));
  await sandbox.query('DELETE FROM workflows WHERE user_id = 12345');
  await sandbox.switchAndArchive();
}, 120_000);

afterAll(async () => {
  await clusters?.stopAll();
  await sandbox?.cleanup();
}, 60_000);

test("refused when RECOVER_SOURCE_DATA_DIR is a standby's directory: nothing stopped, nothing moved", async () => {
  clusters = new Clusters(sandbox.exec, sandbox.root);
  const standby = await clusters.standby(sandbox.production, 'standby-here');
  const config = { ...sandbox.config, source: { ...sandbox.config.source, dataDir: standby.dataDir } };
  const run = runPitr(sandbox.context(), config, { target: { kind: 'time', time: beforeMistake, raw: beforeMistake.toISOString() }, inclusive: true, action: 'promote', to: 'in-place' });
  await expect(run).rejects.toThrow(RecoverError);
  await expect(run).rejects.toMatchObject({ code: 'TARGET_NOT_ALLOWED', message: expect.stringMatching(/Production was not stopped .*RECOVER_SOURCE_DATA_DIR .* is not the data directory of the server on port/) });
  expect(await inRecovery(standby)).toBe(true);
  expect(await exists(`${standby.dataDir}/PG_VERSION`)).toBe(true);
  expect((await readdir(dirname(standby.dataDir))).filter((name) => name.includes('before-pitr'))).toEqual([]);
  await clusters.stopAll();
}, 120_000);

test('restores production in place, keeps the old data directory, and production serves the recovered rows', async () => {
  const result = await runPitr(sandbox.context(), sandbox.config, {
    target: { kind: 'time', time: beforeMistake, raw: beforeMistake.toISOString() },
    inclusive: true,
    action: 'promote',
    to: 'in-place',
  });
  expect(result.state).toBe('promoted');
  expect(result.report.ok).toBe(true);
  expect(result.dataDir).toBe(sandbox.production.dataDir);
  expect(result.oldDataDir).toMatch(/data\.before-pitr-\d{8}T\d{6}Z$/);
  // The old directory is intact (never deleted) beside the new one.
  expect(await exists(`${result.oldDataDir}/PG_VERSION`)).toBe(true);
  expect((await readdir(dirname(result.dataDir))).some((name) => name.startsWith('data.before-pitr-'))).toBe(true);

  // Production, on its usual port, has the deleted rows back and accepts writes.
  const [{ n }] = (await sandbox.query<{ n: number }>('SELECT count(*)::int AS n FROM workflows WHERE user_id = 12345')) as [{ n: number }];
  expect(n).toBe(100);
  await sandbox.query('INSERT INTO workflows VALUES (10001, 1)');
  const [{ recovering }] = (await sandbox.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering')) as [{ recovering: boolean }];
  expect(recovering).toBe(false);

  // Archiving goes on for the new timeline (production keeps its archive settings in place).
  await sandbox.switchAndArchive();
  const catalog = await readCatalog(sandbox.storage, new Date());
  expect(catalog.wal.histories.has(result.timeline)).toBe(true);
  expect(catalog.wal.segments.some((segment) => segment.timeline === result.timeline)).toBe(true);
});
