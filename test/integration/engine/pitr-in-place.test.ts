/** In-place PITR over a real "production" cluster: stopped, old directory kept, restored, verified. */
import { readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { exists } from '../../../src/engine/local-cluster.js';
import { runPitr } from '../../../src/engine/pitr.js';
import { readCatalog } from '../../../src/engine/read-catalog.js';

let sandbox: Sandbox;
let beforeMistake: Date;

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
  await sandbox?.cleanup();
});

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
