/**
 * Issue 6 item 5, on the runner's planner with a real control DB: two Slack requests planned
 * in the same second get different side instance names (each carries its request's short
 * id), and a name already under the restore root is a planning-time refusal.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pitr } from '../../../commands/pitr.js';
import { createRequest, getCurrentPlan, getRequest } from '../../../src/control/index.js';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { listInstances, planPending, type PlannerDeps } from '../../../src/runner/planner.js';
import { systemClock } from '../../../src/types.js';
import { readCatalog } from '../../../src/engine/read-catalog.js';
import { createTestDatabase, type TestDatabase } from '../control/test-database.js';

let sandbox: Sandbox;
let db: TestDatabase;
let deps: PlannerDeps;
const SECOND = new Date('2030-01-15T10:20:30.500Z');

beforeAll(async () => {
  [sandbox, db] = await Promise.all([startSandbox({ productionSettings: { autovacuum: 'off' } }), createTestDatabase({ migrated: true })]);
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  await sandbox.switchAndArchive();
  // The planner's clock is frozen: every request below is planned in the same second.
  const clock = { now: () => SECOND };
  deps = {
    control: db.pool, pool: 'default', productionName: 'aiagent_prod', clock, log: pino({ level: 'silent' }),
    gather: { engine: { ...sandbox.context(), clock }, config: sandbox.config, cli: null },
  };
}, 120_000);

afterAll(async () => {
  await db?.drop();
  await sandbox?.cleanup();
});

const request = (words: string[]) =>
  createRequest(db.pool, { teamId: 'T0TEAM', channelId: 'C0INC', requesterId: 'U0ALICE', command: 'pitr', args: pitr.parse(words) as Record<string, unknown> });

test('two requests planned in the same second get different instance names, each with its request id', async () => {
  const [a, b] = [await request(['--latest']), await request(['--latest'])];
  expect(await planPending(deps)).toBe(2);
  const names = await Promise.all([a, b].map(async (req) => ((await getCurrentPlan(db.pool, req.id))!.plan.params as { instanceName: string }).instanceName));
  expect(names[0]).not.toBe(names[1]);
  expect(names[0]).toBe(`pitr-20300115T102030Z-${a.id.replace(/-/g, '').slice(0, 8)}`);
  expect(names[1]).toBe(`pitr-20300115T102030Z-${b.id.replace(/-/g, '').slice(0, 8)}`);
});

test('a name already under the restore root is refused at planning, and the directory is left alone', async () => {
  await mkdir(join(sandbox.config.restoreRoot, 'busy', 'data'), { recursive: true });
  expect(await listInstances(sandbox.config.restoreRoot)).toContain('busy');
  const taken = await request(['--latest', '--instance', 'busy']);
  const free = await request(['--latest', '--instance', 'free']);
  await planPending(deps);
  expect(await getCurrentPlan(db.pool, taken.id)).toBeNull();
  const refused = await getRequest(db.pool, taken.id);
  expect(refused?.planningError).toMatchObject({ code: 'INSTANCE_EXISTS' });
  expect(refused?.planningError?.message).toContain('busy');
  expect(((await getCurrentPlan(db.pool, free.id))!.plan.params as { instanceName: string }).instanceName).toBe('free');
  expect(await listInstances(join(sandbox.config.restoreRoot, 'busy'))).toEqual(['data']);
});

test('a restore root that does not exist yet means no names in use', async () => {
  expect(await listInstances(join(sandbox.root, 'nothing-here'))).toEqual([]);
});

test('a time after the last transaction of the archive (before its segment was archived) is refused at planning with a time that restores', async () => {
  await sandbox.query('CREATE TABLE IF NOT EXISTS planned (id int)');
  await sandbox.query('INSERT INTO planned VALUES (1)');
  const [{ after }] = (await sandbox.query<{ after: string }>(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS after`)) as [{ after: string }];
  await sandbox.switchAndArchive(); // archived after `after`: the catalog alone would accept it
  const withCheck: PlannerDeps = { ...deps, clock: systemClock, gather: { ...deps.gather, engine: { ...sandbox.context(), clock: systemClock } } };
  // From the catalog alone (plan() without the WAL read by gather()) the target looks reachable.
  const catalog = await readCatalog(sandbox.storage, new Date());
  expect(() => pitr.plan!(pitr.parse([after]), { catalog, instancesInUse: [], now: new Date(), production: { name: 'aiagent_prod' }, requestId: 'x' })).not.toThrow();

  const checked = await request([after]);
  await planPending(withCheck);
  expect(await getCurrentPlan(db.pool, checked.id)).toBeNull();
  const refused = await getRequest(db.pool, checked.id);
  expect(refused?.planningError).toMatchObject({ code: 'TARGET_OUTSIDE_WINDOW' });
  expect(refused?.planningError?.message).toContain('last transaction ended at');
  expect(refused?.planningError?.hint).toMatch(/newest time that restores is \d{4}-\S+\+00:00/);
});
