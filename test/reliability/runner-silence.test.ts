/**
 * A runner that stops renewing its lease (its host hangs, the control DB is away for it) is
 * shown on the job's status message, "Runner not heartbeating for N s", before the lease runs
 * out and the job is failed as RUNNER_LOST; the line goes when the runner is heard from again.
 * Through real Bolt, the Slack stand-in and a throw-away control DB; the silence is made by
 * moving the job's last heartbeat back in the control DB (no waiting for a clock).
 */
import { afterEach, expect, it } from 'vitest';
import {
  claimNextJob, finishJob, getJob, heartbeat, listEvents, reapExpiredLeases, recordLostJobRecovery, requestCancel,
} from '../../src/control/index.js';
import { until } from '../support/until.js';
import { approvedJob, INCIDENT, startHarness, textOf, type Harness } from '../integration/slack/harness.js';

const DEADLINE_MS = 60_000;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('a quiet runner is shown as not heartbeating for N s while its job still runs; the line goes when it renews', async () => {
  h = await startHarness();
  const t = h.slack.transcript;
  const { job, statusTs } = await approvedJob(h);
  const ref = { jobId: job.id, runnerId: 'runner-quiet', leaseSeconds: 60 };
  expect((await claimNextJob(h.pool, { runnerId: ref.runnerId, poolName: 'default', leaseSeconds: 60 }))?.id).toBe(job.id);
  await h.runner.emit(job.id, { type: 'job.started', at: new Date().toISOString(), command: 'pitr' });
  await t.waitFor(() => /Running/.test(textOf(t.message(INCIDENT, statusTs))), DEADLINE_MS);
  expect(textOf(t.message(INCIDENT, statusTs))).not.toContain('heartbeating');

  // Its last heartbeat 20 s ago, its lease (60 s) not run out yet.
  await h.pool.query(`UPDATE jobs SET heartbeat_at = now() - interval '20 seconds', lease_expires_at = now() + interval '40 seconds' WHERE id = $1`, [job.id]);
  const quiet = await t.waitFor(() => {
    const text = textOf(t.message(INCIDENT, statusTs));
    return /Runner not heartbeating for \d+ s/.test(text) ? text : undefined;
  }, DEADLINE_MS);
  // 20 s, or more if the bot's poll came late (in steps of 5 s).
  const seconds = Number(/Runner not heartbeating for (\d+) s/.exec(quiet)![1]);
  expect(seconds).toBeGreaterThanOrEqual(20);
  expect(quiet).toContain(`Runner not heartbeating for ${seconds} s (its lease is 60 s): if it is not back within about ${60 - seconds} s, the job is marked failed (RUNNER_LOST)`);
  expect((await getJob(h.pool, job.id))?.status).toBe('running');

  await heartbeat(h.pool, ref);
  await t.waitFor(() => (textOf(t.message(INCIDENT, statusTs)).includes('heartbeating') ? undefined : true), DEADLINE_MS);
  expect(textOf(t.message(INCIDENT, statusTs))).toMatch(/Running/);
});

it('a lost job shows RUNNER_LOST, and what a runner later put right on the host reaches the same thread', async () => {
  h = await startHarness();
  const t = h.slack.transcript;
  const { job, statusTs } = await approvedJob(h);
  expect((await claimNextJob(h.pool, { runnerId: 'runner-gone', poolName: 'default', leaseSeconds: 60 }))?.id).toBe(job.id);
  await h.runner.emit(job.id, { type: 'job.started', at: new Date().toISOString(), command: 'pitr' });
  await t.waitFor(() => /Running/.test(textOf(t.message(INCIDENT, statusTs))), DEADLINE_MS);

  // The runner died: its lease ran out; the bot's poll reaps the job and says so.
  await h.pool.query(`UPDATE jobs SET heartbeat_at = now() - interval '90 seconds', lease_expires_at = now() - interval '1 second' WHERE id = $1`, [job.id]);
  await t.waitFor(() => t.thread(INCIDENT, statusTs).find((m) => /RUNNER_LOST/.test(textOf(m))), DEADLINE_MS);
  expect((await getJob(h.pool, job.id))?.status).toBe('failed');

  // A runner started again on the host finds the job's journal and tidies: its note is posted too, in the thread.
  const note = 'recover-bot found side instance pitr-lost, left mid-restore by job x whose runner was lost: removed its WAL spool, restore hook and socket.';
  await recordLostJobRecovery(h.pool, { jobId: job.id, runnerId: 'runner-back', message: note, action: 'job.work_tidied' });
  const posted = await t.waitFor(() => t.thread(INCIDENT, statusTs).find((m) => textOf(m).includes('recover-bot found side instance pitr-lost')), DEADLINE_MS);
  expect(textOf(posted)).toContain('removed its WAL spool, restore hook and socket');
  // The status message shows it as well (updated after the thread post, in the same catch-up); the thread has it once.
  await t.waitFor(() => (textOf(t.message(INCIDENT, statusTs)).includes('recover-bot found side instance pitr-lost') ? true : undefined), DEADLINE_MS);
  expect(t.thread(INCIDENT, statusTs).filter((m) => textOf(m).includes('recover-bot found side instance pitr-lost')).length).toBe(1);
});

/**
 * The order forced, not timed: while no bot runs, the job ends (lost, or cancelled by its runner
 * which was then lost before tidying) and a runner records what it put right, so the bot's first
 * catch-up of the job's end comes after the note was added to the job's error. The summary of
 * the end shows the error as of that event; the note is posted once, with its own event.
 */
it.each(['lost', 'cancelled'] as const)('the note reaches the thread once when recorded before the bot caught up with the job\'s end (%s)', async (end) => {
  h = await startHarness();
  const harness = h;
  const t = harness.slack.transcript;
  const { job, statusTs } = await approvedJob(harness);
  expect((await claimNextJob(harness.pool, { runnerId: 'runner-gone', poolName: 'default', leaseSeconds: 60 }))?.id).toBe(job.id);
  await harness.runner.emit(job.id, { type: 'job.started', at: new Date().toISOString(), command: 'pitr' });
  await t.waitFor(() => /Running/.test(textOf(t.message(INCIDENT, statusTs))), DEADLINE_MS);

  const note = 'recover-bot found side instance pitr-lost, left mid-restore by job x whose runner was lost: removed its WAL spool, restore hook and socket.';
  await harness.restartBot(async () => {
    if (end === 'lost') {
      await harness.pool.query(`UPDATE jobs SET heartbeat_at = now() - interval '90 seconds', lease_expires_at = now() - interval '1 second' WHERE id = $1`, [job.id]);
      expect((await reapExpiredLeases(harness.pool)).map((j) => j.id)).toEqual([job.id]);
    } else {
      await requestCancel(harness.pool, job.id, 'U0ALICE');
      await finishJob(harness.pool, { jobId: job.id, runnerId: 'runner-gone', outcome: { status: 'cancelled' } });
    }
    await recordLostJobRecovery(harness.pool, { jobId: job.id, runnerId: 'runner-back', message: note, action: 'job.work_tidied' });
  });
  const [ended, noted] = (await listEvents(harness.pool, job.id, 0, 100)).filter((e) => e.event.type === 'job.failed' || e.event.type === 'job.cancelled');
  expect(noted?.event).toMatchObject({ type: 'job.failed', message: note });
  // Both summaries posted (the bot marks an event posted after its posts), then the note is in the thread once, in the second.
  await until('the note\'s event to be posted', async () => ((await getJob(harness.pool, job.id))?.slackRefs.postedEventId === noted!.id ? true : undefined), DEADLINE_MS);
  const keyed = (eventId: number) => t.thread(INCIDENT, statusTs).filter((m) => (m.metadata?.event_payload as { key?: string } | undefined)?.key === `job:${job.id}:event:${eventId}:summary`);
  expect(keyed(ended!.id)).toHaveLength(1);
  expect(textOf(keyed(ended!.id)[0])).not.toContain('recover-bot found side instance pitr-lost');
  expect(textOf(keyed(noted!.id)[0])).toContain('recover-bot found side instance pitr-lost');
  // The note does not turn a cancelled job into a failed one: its summary and status say cancelled.
  if (end === 'cancelled') {
    expect(textOf(keyed(noted!.id)[0])).toContain('— cancelled');
    expect(textOf(t.message(INCIDENT, statusTs))).toMatch(/Cancelled/);
  }
  expect(t.thread(INCIDENT, statusTs).filter((m) => textOf(m).includes('recover-bot found side instance pitr-lost'))).toHaveLength(1);
});
