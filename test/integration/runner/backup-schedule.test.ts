/**
 * Scheduled backups (RECOVER_BACKUP_SCHEDULE): runners of a pool claim each slot in the control
 * DB, so concurrent runners take a slot once; a slot missed within the grace runs once at the
 * next look (a runner starting up), one missed by more is not; a failure is recorded on the slot.
 * The slot's work is a stand-in here (the backup itself is `recover backup`'s, tested there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listScheduledRuns } from '../../../src/control/scheduled-runs.js';
import { RecoverError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log.js';
import { createBackupSchedule, type BackupSchedule } from '../../../src/runner/backup-schedule.js';
import { parseCron, type CronSchedule } from '../../../src/util/cron.js';
import { createTestDatabase, type TestDatabase } from '../control/test-database.js';

let db: TestDatabase;
const log = createLogger('silent');
const daily = parseCron('0 2 * * *') as CronSchedule;
const utc = (text: string) => new Date(`${text}Z`);

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

function runner(pool: string, runnerId: string, now: () => Date, work: (slot: Date) => Promise<Record<string, unknown>>): BackupSchedule {
  return createBackupSchedule({ control: db.newPool(2), pool, runnerId, schedule: daily, clock: { now }, log, work: (slot) => work(slot) });
}

describe('backup schedule', () => {
  it('four runners looking at the same due slot at once: one takes it, the others see it taken', async () => {
    const ran: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const runners = ['r1', 'r2', 'r3', 'r4'].map((id) =>
      runner('pool-a', id, () => utc('2025-01-15T02:00:30'), async () => {
        ran.push(id);
        await gate;
        return { backupId: `taken-by-${id}` };
      }),
    );
    await Promise.all(runners.map((r) => r.check()));
    const [running] = await listScheduledRuns(db.pool, { pool: 'pool-a', kind: 'backup' });
    expect(running).toMatchObject({ slot: utc('2025-01-15T02:00'), status: 'running', finishedAt: null });
    release();
    await Promise.all(runners.map((r) => r.idle()));
    expect(ran).toHaveLength(1);
    const runs = await listScheduledRuns(db.pool, { pool: 'pool-a', kind: 'backup' });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ runnerId: ran[0], status: 'succeeded', result: { backupId: `taken-by-${ran[0]}` } });
    // Looking again in the same slot does nothing more.
    await Promise.all(runners.map((r) => r.check()));
    expect(ran).toHaveLength(1);
  });

  it('a slot missed within the grace runs once when a runner starts; the next slot runs when it comes', async () => {
    let now = utc('2025-01-15T05:10');
    const ran: string[] = [];
    const r = runner('pool-b', 'r1', () => now, async (slot) => (ran.push(slot.toISOString()), {}));
    await r.check();
    await r.idle();
    await r.check();
    expect(ran).toEqual(['2025-01-15T02:00:00.000Z']);
    now = utc('2025-01-16T01:59:59');
    await r.check();
    now = utc('2025-01-16T02:00:01');
    await r.check();
    await r.idle();
    expect(ran).toEqual(['2025-01-15T02:00:00.000Z', '2025-01-16T02:00:00.000Z']);
    // A second runner starting later in the pool does not run the same slot again.
    const late = runner('pool-b', 'r2', () => utc('2025-01-16T03:00'), async () => (ran.push('again'), {}));
    await late.check();
    await late.idle();
    expect(ran).toHaveLength(2);
  });

  it('a slot missed by more than the grace is not run', async () => {
    const ran: string[] = [];
    const r = runner('pool-c', 'r1', () => utc('2025-01-15T08:30'), async (slot) => (ran.push(slot.toISOString()), {}));
    await r.check();
    await r.idle();
    expect(ran).toEqual([]);
    expect(await listScheduledRuns(db.pool, { pool: 'pool-c', kind: 'backup' })).toEqual([]);
  });

  it('records a failed slot with its code and message', async () => {
    const r = runner('pool-d', 'r1', () => utc('2025-01-15T02:01'), async () => {
      throw new RecoverError('BACKUP_FAILED', 'The source cluster has archive_mode = off.', { hint: 'Set archive_mode = on.' });
    });
    await r.check();
    await r.idle();
    const [run] = await listScheduledRuns(db.pool, { pool: 'pool-d', kind: 'backup' });
    expect(run).toMatchObject({ status: 'failed', error: { code: 'BACKUP_FAILED', message: 'The source cluster has archive_mode = off.\nSet archive_mode = on.' } });
    expect(run!.finishedAt).toBeInstanceOf(Date);
  });

  it('a slot that comes while the previous backup still runs is recorded as skipped', async () => {
    let now = utc('2025-01-15T02:00');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const hourly = parseCron('0 * * * *') as CronSchedule;
    const r = createBackupSchedule({ control: db.newPool(2), pool: 'pool-e', runnerId: 'r1', schedule: hourly, clock: { now: () => now }, log, work: async () => (await gate, {}) });
    await r.check();
    now = utc('2025-01-15T03:00');
    await r.check();
    release();
    await r.stop();
    const runs = await listScheduledRuns(db.pool, { pool: 'pool-e', kind: 'backup' });
    expect(runs.map((run) => [run.slot.toISOString(), run.status])).toEqual([
      ['2025-01-15T03:00:00.000Z', 'skipped'],
      ['2025-01-15T02:00:00.000Z', 'succeeded'],
    ]);
  });

  it('drill slots (kind drill) are claimed on their own: two runners, one drill; a backup at the same minute still runs', async () => {
    const ran: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const at = () => utc('2025-01-19T02:00:10');
    const drills = ['r1', 'r2'].map((id) => createBackupSchedule({ kind: 'drill', control: db.newPool(2), pool: 'pool-f', runnerId: id, schedule: daily, clock: { now: at }, log, work: async () => (ran.push(`drill by ${id}`), await gate, { drillId: '1' }) }));
    const backups = runner('pool-f', 'r1', at, async () => (ran.push('backup'), {}));
    await Promise.all([...drills.map((d) => d.check()), backups.check()]);
    release();
    await Promise.all([...drills.map((d) => d.idle()), backups.idle()]);
    expect(ran.filter((what) => what.startsWith('drill'))).toHaveLength(1);
    expect(ran).toContain('backup');
    expect((await listScheduledRuns(db.pool, { pool: 'pool-f', kind: 'drill' })).map((run) => [run.slot.toISOString(), run.status])).toEqual([['2025-01-19T02:00:00.000Z', 'succeeded']]);
    expect(await listScheduledRuns(db.pool, { pool: 'pool-f', kind: 'backup' })).toHaveLength(1);
  });
});
