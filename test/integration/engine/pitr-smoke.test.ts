import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../src/dev/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/engine/context.js';
import { runPitr } from '../../../src/engine/pitr.js';
import { stopCluster } from '../../../src/engine/local-cluster.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.cleanup();
});

test('smoke: backup, rows, time target', async () => {
  await sandbox.query('CREATE TABLE t (id int primary key, at timestamptz default now())');
  await sandbox.query('INSERT INTO t SELECT g FROM generate_series(1,100) g');
  const manifest = await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query('INSERT INTO t SELECT g FROM generate_series(101,200) g');
  await new Promise((r) => setTimeout(r, 1100));
  const [{ now }] = await sandbox.query<{ now: Date }>('SELECT clock_timestamp() AS now');
  await new Promise((r) => setTimeout(r, 1100));
  await sandbox.query('DELETE FROM t');
  await sandbox.switchAndArchive();
  const result = await runPitr(sandbox.context(), sandbox.config, {
    target: { kind: 'time', time: now, raw: now.toISOString() },
    inclusive: true,
    action: 'promote',
    to: 'side',
    instanceName: 'smoke',
  });
  console.log(JSON.stringify(result, null, 1), manifest.id);
  expect(result.report.ok).toBe(true);
  await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', result.dataDir);
});
