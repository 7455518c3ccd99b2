/**
 * Failure streaks of scheduled work (control/schedule-alerts.ts) on a real control DB: one notice
 * opens a streak, later failures add none, the first later success closes it with one recovery
 * notice; a failure of a slot older than the newest success opens nothing; backups and dumps, and
 * pools, have streaks of their own; two runners recording the same failure at once write one notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordScheduleOutcome, type AlertedKind } from '../../../src/control/schedule-alerts.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const day = (n: number) => new Date(Date.UTC(2025, 0, n, 2));
const record = (pool: string, kind: AlertedKind, n: number, ok: boolean, database = db.pool) =>
  recordScheduleOutcome(database, { pool, kind, production: 'prod', slot: day(n), ok }, (change) => (change.kind === 'failed' ? `failed ${kind} ${n}` : `recovered ${kind} ${n} since ${change.failingSince.getUTCDate()}`));
const notices = async (pool: string) => (await db.pool.query<{ kind: string; text: string }>('SELECT kind, text FROM rpo_notices WHERE pool = $1 ORDER BY id', [pool])).rows.map((r) => `${r.kind}: ${r.text}`);

describe('schedule failure streaks', () => {
  it.each<[string, [AlertedKind, number, boolean][], string[]]>([
    ['ok, fail, fail, ok, ok', [['dump', 1, true], ['dump', 2, false], ['dump', 3, false], ['dump', 4, true], ['dump', 5, true]], ['schedule-failed: failed dump 2', 'schedule-recovered: recovered dump 4 since 2']],
    ['a second streak after recovery is posted again', [['backup', 1, false], ['backup', 2, true], ['backup', 3, false]], ['schedule-failed: failed backup 1', 'schedule-recovered: recovered backup 2 since 1', 'schedule-failed: failed backup 3']],
    ['a slot older than the newest success failing late opens nothing', [['dump', 5, true], ['dump', 4, false]], []],
    ['a success older than the streak does not close it', [['dump', 5, false], ['dump', 4, true], ['dump', 6, true]], ['schedule-failed: failed dump 5', 'schedule-recovered: recovered dump 6 since 5']],
    ['backups and dumps have streaks of their own', [['backup', 1, false], ['dump', 1, false], ['backup', 2, true]], ['schedule-failed: failed backup 1', 'schedule-failed: failed dump 1', 'schedule-recovered: recovered backup 2 since 1']],
  ])('%s', async (name, steps, expected) => {
    const pool = `pool-${name.replace(/\W+/g, '-')}`;
    for (const [kind, n, ok] of steps) await record(pool, kind, n, ok);
    expect(await notices(pool)).toEqual(expected);
  });

  it('two runners recording failures at once: one notice', async () => {
    const pools = [db.newPool(2), db.newPool(2)];
    const ids = await Promise.all([record('race', 'dump', 1, false, pools[0]), record('race', 'dump', 2, false, pools[1])]);
    expect(ids.filter((id) => id !== null)).toHaveLength(1);
    expect(await notices('race')).toHaveLength(1);
    await Promise.all(pools.map((p) => p.end()));
  });
});
