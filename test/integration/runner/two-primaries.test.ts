/**
 * The two-primaries watchdog against a real pair and a real control DB: a primary and its
 * `pg_basebackup -R` standby (one look: nothing), the standby promoted while the old primary still
 * accepts writes (one look: the old primary, on the older timeline, fenced by pg_ctl on its data
 * directory and one TWO PRIMARIES notice; a second look: no second notice, a recovery notice).
 * A runner whose data directory setting names the other server's directory alerts without
 * stopping anything.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { listUnpostedRpoNotices } from '../../../src/control/rpo-alerts.js';
import { createExec } from '../../../src/engine/exec.js';
import type { ClusterHandle } from '../../../src/engine/local-cluster.js';
import { twoPrimariesWatch } from '../../../src/runner/two-primaries.js';
import { createTestDatabase, type TestDatabase } from '../control/test-database.js';
import { answers, Clusters, q, urlOf } from '../../support/replication.js';

let root: string;
let clusters: Clusters;
let db: TestDatabase;
let production: ClusterHandle;
let dr: ClusterHandle;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  db = await createTestDatabase();
  root = await mkdtemp(join(tmpdir(), 'rb-two-primaries-'));
  await chmod(root, 0o755);
  clusters = new Clusters(createExec(log), root);
  production = await clusters.primary('prod');
  dr = await clusters.standby(production, 'dr');
}, 60_000);

afterAll(async () => {
  await clusters?.stopAll();
  await db?.drop();
  if (root) await rm(root, { recursive: true, force: true });
}, 60_000);

it('fences the old primary that accepts writes beside the promoted one, alerts once, then says it recovered', async () => {
  const config = loadConfig({ RECOVER_PRODUCTION_NAME: 'aiagent_prod', RECOVER_SOURCE_URL: urlOf(production), RECOVER_SOURCE_DATA_DIR: production.dataDir, RECOVER_STANDBY_URL: urlOf(dr), LOG_LEVEL: 'silent' });
  const watch = twoPrimariesWatch({ config, control: db.pool, exec: clusters.exec, log })!;
  expect(await watch.check()).toBeNull();
  await q(dr, 'SELECT pg_promote(true, 60)');
  // A runner whose RECOVER_SOURCE_DATA_DIR names DR's directory must not stop DR with pg_ctl: it alerts, not fenced.
  const misconfigured = loadConfig({ RECOVER_PRODUCTION_NAME: 'wrong_dir', RECOVER_SOURCE_URL: urlOf(production), RECOVER_SOURCE_DATA_DIR: dr.dataDir, RECOVER_STANDBY_URL: urlOf(dr), LOG_LEVEL: 'silent' });
  expect(await twoPrimariesWatch({ config: misconfigured, control: db.pool, exec: clusters.exec, log })!.check()).toBe('alert');
  expect(await answers(production)).toBe(true);
  expect(await answers(dr)).toBe(true);
  const refused = (await listUnpostedRpoNotices(db.pool)).filter((n) => n.production === 'two-primaries:wrong_dir');
  expect(refused.map((n) => n.text).join('\n')).toMatch(/\*Not fenced\*: RECOVER_SOURCE_DATA_DIR .* is not the data directory of the server on port/);

  expect(await watch.check()).toBe('alert');
  expect(await answers(production)).toBe(false);
  expect(await answers(dr)).toBe(true);
  const ours = async () => (await listUnpostedRpoNotices(db.pool)).filter((n) => n.production === 'two-primaries:aiagent_prod');
  const notices = await ours();
  expect(notices).toHaveLength(1);
  expect(notices[0]!.text).toContain('TWO PRIMARIES');
  expect(notices[0]!.text).toContain(`Fenced: pg_ctl stop -m fast on ${production.dataDir}.`);
  expect(await watch.check()).toBe('recovered');
  expect(await watch.check()).toBeNull();
  expect((await ours()).map((n) => n.kind)).toEqual(['alert', 'recovered']);
}, 90_000);
