/**
 * Scheduled dumps (RECOVER_DUMP_SCHEDULE) on a real cluster and Azurite: two runners of one pool
 * look at the same due slot and one `recover dump-backup` is taken; the next slot takes another
 * and dump retention (keep the newest 1) deletes the older dump, manifest first, and a failed
 * upload's leftover (no manifest, idle for more than a day), with both deletions in the audit
 * log. The clock is the injected one; the slots lie ahead of the real time so that the leftover,
 * written now, is more than a day old at the second slot.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { listScheduledRuns } from '../../../src/control/scheduled-runs.js';
import { listDumps } from '../../../src/engine/dumps/list.js';
import { dumpStamp } from '../../../src/engine/dumps/manifest.js';
import { runnerDumpSchedule } from '../../../src/runner/scheduled-dump.js';
import { listAll } from '../../../src/storage/blob-store.js';
import { createTestDatabase, type TestDatabase } from '../control/test-database.js';

let sandbox: Sandbox;
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  sandbox = await startSandbox();
  await sandbox.query('CREATE DATABASE app');
  await sandbox.query('CREATE TABLE items AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 5000) g', [], 'app');
}, 120_000);

afterAll(async () => {
  await sandbox?.cleanup();
  await db?.drop();
});

test('two runners, one dump per slot; the next slot expires the older dump and a failed upload left behind', async () => {
  const config = { ...sandbox.config, dumpSchedule: '0 2 * * *', dumpDatabases: ['app'], dumpRetention: { count: 1 } };
  // The next 02:00 UTC after the real time, 30 s in.
  const first = new Date();
  first.setUTCHours(2, 0, 30, 0);
  if (first.getTime() <= Date.now()) first.setUTCDate(first.getUTCDate() + 1);
  let now = first;
  const runners = ['r1', 'r2'].map((runnerId) => runnerDumpSchedule({ config, control: db.newPool(2), storage: sandbox.storage, exec: sandbox.exec, log: sandbox.log, clock: { now: () => now }, runnerId })!);
  const slot = async () => {
    await Promise.all(runners.map((r) => r.check()));
    await Promise.all(runners.map((r) => r.idle()));
  };

  await slot();
  const firstStamp = dumpStamp(first);
  expect((await listDumps(sandbox.storage, 'app')).map((d) => [d.stamp, d.manifest?.tables])).toEqual([[firstStamp, [{ table: 'items', rows: 5000 }]]]);
  let runs = await listScheduledRuns(db.pool, { pool: config.pool, kind: 'dump' });
  expect(runs).toHaveLength(1);
  expect(runs[0]).toMatchObject({ status: 'succeeded', result: { dumps: [{ database: 'app', stamp: firstStamp }] } });

  // A failed upload whose removal failed too: files under a stamp, no manifest.
  const leftover = 'app/20200101020000/';
  await sandbox.storage.dumps.put(`${leftover}files/toc.dat`, Buffer.from('half a dump'));
  expect((await listDumps(sandbox.storage, 'app')).map((d) => d.stamp)).toEqual([firstStamp]);

  now = new Date(first.getTime() + 86_400_000);
  await slot();
  const secondStamp = dumpStamp(now);
  expect((await listDumps(sandbox.storage, 'app')).map((d) => d.stamp)).toEqual([secondStamp]);
  const keys = (await listAll(sandbox.storage.dumps, 'app/')).map((b) => b.key);
  expect(keys.filter((key) => !key.startsWith(`app/${secondStamp}/`))).toEqual([]);
  runs = await listScheduledRuns(db.pool, { pool: config.pool, kind: 'dump' });
  expect(runs.map((run) => run.status)).toEqual(['succeeded', 'succeeded']);
  expect(runs[0]!.result).toMatchObject({ retention: { dumpsDeleted: [`app/${firstStamp}`], leftoversDeleted: ['app/20200101020000'] } });
  const { rows } = await db.pool.query<{ details: { dumpsDeleted: string[]; leftoversDeleted: string[] } }>("SELECT details FROM audit_log WHERE action = 'dumps.expired'");
  expect(rows.map((row) => [row.details.dumpsDeleted, row.details.leftoversDeleted])).toEqual([[[`app/${firstStamp}`], ['app/20200101020000']]]);
  await Promise.all(runners.map((r) => r.stop()));
}, 180_000);
