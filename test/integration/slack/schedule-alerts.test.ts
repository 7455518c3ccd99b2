/**
 * A failing scheduled dump reaches the alert channel (issue 22): two runners' dump schedules on
 * one control DB, production unreachable (a real failed `recover dump-backup`: nothing listens
 * on its port), the clock driven through the injected clock. The runners hold no Slack
 * credentials: they write one notice per failure streak into the control DB and the bot posts
 * it through the Slack stand-in, once; a later slot that succeeds posts one recovery notice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { listScheduledRuns } from '../../../src/control/scheduled-runs.js';
import { createExec } from '../../../src/engine/exec.js';
import { createLogger } from '../../../src/log.js';
import { createBackupSchedule } from '../../../src/runner/backup-schedule.js';
import { scheduleAlerts } from '../../../src/runner/schedule-alerts.js';
import { runnerBackupSchedule } from '../../../src/runner/scheduled-backup.js';
import { runnerDumpSchedule } from '../../../src/runner/scheduled-dump.js';
import { openStorage } from '../../../src/storage/index.js';
import { parseCron, type CronSchedule } from '../../../src/util/cron.js';
import { until } from '../../support/until.js';
import { GENERAL, startHarness, textOf, type Harness } from './harness.js';

let h: Harness | undefined;
let dir: string | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('scheduled dump failures → alert channel', () => {
  it('two runners, two failed slots: one post saying what failed and what to do, secrets masked; a success posts one recovery notice', async () => {
    h = await startHarness({ env: { RECOVER_ALERT_CHANNEL: GENERAL } });
    const harness = h;
    dir = await mkdtemp(join(tmpdir(), 'dumpsched-'));
    const config = loadConfig({
      RECOVER_SOURCE_URL: `postgres://dumper:s3cret-pass@127.0.0.1:${await closedPort()}/postgres`,
      RECOVER_DUMP_SCHEDULE: '0 2 * * *',
      RECOVER_STORAGE_DRIVER: 'local',
      RECOVER_STORAGE_LOCAL_DIR: join(dir, 'storage'),
      RECOVER_RESTORE_ROOT: join(dir, 'restore'),
      RECOVER_PRODUCTION_NAME: 'aiagent_prod',
    });
    const storage = await openStorage(config.storage);
    const log = createLogger('silent');
    let now = new Date('2025-01-15T02:00:20Z');
    const clock = { now: () => now };
    const runners = ['r1', 'r2'].map((runnerId) => runnerDumpSchedule({ config, control: harness.pool, storage, exec: createExec(log), log, clock, runnerId })!);
    const posted = () => harness.slack.transcript.messages(GENERAL).map(textOf).filter((text) => /Scheduled dump/.test(text));
    const both = async () => {
      await Promise.all(runners.map((r) => r.check()));
      await Promise.all(runners.map((r) => r.idle()));
    };

    await both();
    const [failed] = await until('the failure posted', async () => (posted().length > 0 ? posted() : undefined), 10_000);
    expect(failed).toMatch(/Scheduled dump of \*?aiagent_prod\*? failed \(slot 2025-01-15 02:00 UTC, runner r[12]\): COMMAND_FAILED: Production \(RECOVER_SOURCE_URL, 127\.0\.0\.1:\d+\) did not answer/);
    expect(failed).toContain('What to do: Check that production runs and that this runner can reach it with RECOVER_SOURCE_URL');
    expect(failed).toContain('Next scheduled dump: 2025-01-16 02:00 UTC');
    expect(failed).not.toContain('s3cret-pass');

    // The next day fails again: same streak, nothing more is posted.
    now = new Date('2025-01-16T02:00:40Z');
    await both();
    const runs = await listScheduledRuns(harness.pool, { pool: config.pool, kind: 'dump' });
    expect(runs.map((run) => [run.slot.toISOString(), run.status])).toEqual([
      ['2025-01-16T02:00:00.000Z', 'failed'],
      ['2025-01-15T02:00:00.000Z', 'failed'],
    ]);
    expect(runs[0]!.error?.message).toContain('did not answer');
    const { rows } = await harness.pool.query<{ kind: string }>("SELECT kind FROM rpo_notices WHERE kind LIKE 'schedule-%' ORDER BY id");
    expect(rows.map((row) => row.kind)).toEqual(['schedule-failed']);

    // A later slot of the same pool and kind succeeds (here a stand-in for the dump): one recovery notice.
    const daily = parseCron('0 2 * * *') as CronSchedule;
    now = new Date('2025-01-17T02:00:10Z');
    const healed = createBackupSchedule({ kind: 'dump', control: harness.pool, pool: config.pool, runnerId: 'r3', schedule: daily, clock, log, work: async () => ({ dumps: [{ database: 'app', stamp: '20250117020010' }] }), onOutcome: scheduleAlerts({ control: harness.pool, config, runnerId: 'r3', clock }, 'dump', daily, () => 'dumps app/20250117020010') });
    await healed.check();
    await healed.idle();
    await until('the recovery posted', async () => (posted().length >= 2 ? true : undefined), 10_000);
    expect(posted()).toHaveLength(2);
    expect(posted()[1]).toMatch(/Scheduled dumps of \*?aiagent_prod\*? work again: the slot of 2025-01-17 02:00 UTC succeeded \(dumps app\/20250117020010\), after failing since the slot of 2025-01-15 02:00 UTC/);
    await Promise.all(runners.map((r) => r.stop()));
  }, 60_000);

  it('a failing scheduled base backup is posted the same way, once, beside the dump streak', async () => {
    h = await startHarness({ env: { RECOVER_ALERT_CHANNEL: GENERAL } });
    const harness = h;
    dir = await mkdtemp(join(tmpdir(), 'dumpsched-'));
    const config = loadConfig({
      RECOVER_SOURCE_URL: `postgres://backup:s3cret-pass@127.0.0.1:${await closedPort()}/postgres`,
      RECOVER_BACKUP_SCHEDULE: '0 2 * * *',
      RECOVER_STORAGE_DRIVER: 'local',
      RECOVER_STORAGE_LOCAL_DIR: join(dir, 'storage'),
      RECOVER_PRODUCTION_NAME: 'aiagent_prod',
    });
    const storage = await openStorage(config.storage);
    const log = createLogger('silent');
    let now = new Date('2025-01-15T02:00:20Z');
    const runner = runnerBackupSchedule({ config, control: harness.pool, storage, exec: createExec(log), log, clock: { now: () => now }, runnerId: 'r1' })!;
    for (const day of ['2025-01-15T02:00:20Z', '2025-01-16T02:00:20Z']) {
      now = new Date(day);
      await runner.check();
      await runner.idle();
    }
    const posted = () => harness.slack.transcript.messages(GENERAL).map(textOf).filter((text) => /Scheduled base backup/.test(text));
    const [text] = await until('the failure posted', async () => (posted().length > 0 ? posted() : undefined), 10_000);
    expect(text).toMatch(/Scheduled base backup of \*?aiagent_prod\*? failed \(slot 2025-01-15 02:00 UTC, runner r1\)/);
    expect(text).toContain('Take one now with `recover backup`');
    expect(text).not.toContain('s3cret-pass');
    const { rows } = await harness.pool.query<{ kind: string }>("SELECT kind FROM schedule_alerts WHERE failing_since IS NOT NULL");
    expect(rows.map((row) => row.kind)).toEqual(['backup']);
    expect(posted()).toHaveLength(1);
    await runner.stop();
  }, 60_000);
});
