/**
 * A real restore drill on one sandbox (runDrill): the newest base backup plus the archived WAL
 * restored to a scratch side instance, verified, removed; the history row has the measured RTO
 * and the result notice waits for the bot in rpo_notices. The history report is read back.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { listDrills } from '../../../src/control/drills.js';
import { listUnpostedRpoNotices } from '../../../src/control/rpo-alerts.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { listSideInstances } from '../../../src/engine/instances.js';
import { runDrill } from '../../../src/drills/run.js';
import { drillHistoryText } from '../../../src/drills/report.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { runCli } from '../../support/run-cli.js';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { createTestDatabase, type TestDatabase } from '../control/test-database.js';

let sandbox: Sandbox;
let db: TestDatabase;
const objective = { rtoSeconds: 7200, warnShare: 0.5 };

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox();
  await sandbox.query('CREATE TABLE t (id int PRIMARY KEY)');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.query('INSERT INTO t SELECT generate_series(1, 1000)');
  await sandbox.switchAndArchive();
}, 120_000);

afterAll(async () => {
  await sandbox?.cleanup();
  await db?.drop();
});

test('a drill restores, verifies and removes its side instance; the history has the measured RTO', async () => {
  const requestedAt = new Date();
  const drill = await runDrill(sandbox.context(), sandbox.config, db.pool, { pool: 'drill-pool', production: 'prod', trigger: 'command', requestedAt, objective });
  expect(drill).toMatchObject({ ok: true, removed: true, error: null });
  expect(drill.backupId).toBeTruthy();
  expect(drill.rtoSeconds).toBeGreaterThan(0);
  expect(await listSideInstances(sandbox.config)).not.toContain(drill.instanceName);

  const [row] = await listDrills(db.pool, 'drill-pool');
  expect(row).toMatchObject({ id: drill.id, ok: true, trigger: 'command', backupId: drill.backupId, rtoSeconds: drill.rtoSeconds });
  const notices = await listUnpostedRpoNotices(db.pool);
  expect(notices).toEqual([expect.objectContaining({ kind: 'drill', production: 'prod', text: expect.stringContaining(`Restore drill passed: backup ${drill.backupId}`) })]);
  expect(drillHistoryText([row!], objective)).toContain(`ok, RTO ${Math.round(drill.rtoSeconds!)} s  backup ${drill.backupId}`);
}, 60_000);

test('`recover drill` runs one and records it; `recover drill history` reports it with the trend', async () => {
  const env = sandbox.cliEnv({ RECOVER_CONTROL_URL: `postgres://postgres@127.0.0.1:5432/${db.name}`, RECOVER_POOL: 'cli-pool' });
  const run = await runCli(['drill', '--json'], env);
  expect(run.code, run.stderr).toBe(0);
  const { result } = JSON.parse(run.stdout);
  expect(result).toMatchObject({ mode: 'run', ok: true, removed: true, trigger: 'command' });
  expect(await listSideInstances(sandbox.config)).not.toContain(result.instanceName);
  const history = await runCli(['drill', 'history', '5'], env);
  expect(history.code, history.stderr).toBe(0);
  expect(history.stdout).toContain('Restore drills, newest first (1; 0 failed; RTO goal 2 h 0 min, warned past 50 %):');
  expect(history.stdout).toContain(`asked for  ok, RTO ${Math.round(result.rtoSeconds)} s  backup ${result.backupId}`);
  expect(history.stdout).toContain('Trend: not enough successful drills for a trend.');
}, 60_000);
