/**
 * The whole happy path through real Bolt, the Slack stand-in and a real control DB, with the
 * test playing the runner: slash command → Planning… → plan preview → approval (refusals
 * for the requester and a non-approver) → job → progress, step replies, integrity report
 * and the summary thread.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../../src/slack/views/common.js';
import { closeHarness, findTop, type Harness, INCIDENT, pitrPlan, startHarness, textOf, waitForJob } from './harness.js';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await closeHarness(h);
});

const TARGET = '2025-01-15T14:29:59+00:00';
const REACHED = '2025-01-15T14:29:58.912Z';

describe('recover-bot: PITR from Slack, end to end', () => {
  it('plans, gets approved by someone else, and reports progress, steps, integrity and a summary', async () => {
    const { slack, runner } = h;
    const t = slack.transcript;

    const command = await slack.slashCommand({ user: 'U0ALICE', channel: 'inc-db-outage', text: `pitr ${TARGET}` });
    // Acked within Slack's 3 s (the stand-in marks a later ack timedOut); speed is bench:ack's job.
    expect(command).toMatchObject({ status: 200, body: '', timedOut: false });

    const planning = await t.waitFor(() => findTop(slack, INCIDENT, /Planning/));
    expect(textOf(planning)).toContain(`Planning \`/recover pitr ${TARGET}\` requested by <@U0ALICE>`);
    const request = await runner.waitForRequest();
    expect(request).toMatchObject({ command: 'pitr', requesterId: 'U0ALICE', channelId: INCIDENT, teamId: 'T0STANDIN', pool: 'default' });
    expect(request.args).toMatchObject({ target: { kind: 'time', time: '2025-01-15T14:29:59Z' }, to: 'side' });

    // The runner plans it; the planning message becomes the preview.
    await runner.plan(request.id, pitrPlan(TARGET));
    const preview = await t.waitFor(() => {
      const m = t.message(INCIDENT, planning.ts);
      return m && /Request approval/.test(textOf(m)) ? m : undefined;
    });
    const previewText = textOf(preview);
    expect(previewText).toContain(`Plan: /recover pitr ${TARGET}`);
    expect(previewText).toContain('*Base backup:* 20250115T000000Z');
    expect(previewText).toContain('1. Check backup 20250115T000000Z and 58 WAL segments in storage');
    expect(previewText).toContain('*Approvals needed:* 1 (not the requester) from <@U0BOB>, <!subteam^S0DBA>');
    expect(previewText).toContain('*Expected duration:* about 2 min 48 s');
    expect(previewText).not.toContain('destructive*');

    // Only the requester may ask for approval.
    await slack.clickButton({ user: 'U0CAROL', channel: INCIDENT, messageTs: planning.ts, actionId: ACTIONS.requestApproval });
    await t.waitFor(() => t.ephemerals(INCIDENT, 'U0CAROL').find((m) => /Only <@U0ALICE>, who asked/.test(textOf(m))));

    await slack.clickButton({ user: 'U0ALICE', channel: INCIDENT, messageTs: planning.ts, actionId: ACTIONS.requestApproval });
    const approval = await t.waitFor(() => findTop(slack, INCIDENT, /Approval needed/));
    const approvalText = textOf(approval);
    expect(approvalText).toContain('*What will run:* Point-in-time recovery to time 2025-01-15T14:29:59.000Z');
    expect(approvalText).toContain('*Requested by:* <@U0ALICE>');
    expect(approvalText).toContain('1 more approval from <@U0BOB>');
    expect(approvalText).toMatch(/each approval stays valid for 30 min \(one given now: until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)/);
    await t.waitFor(() => /Approval requested by <@U0ALICE>/.test(textOf(t.message(INCIDENT, planning.ts))));

    // The requester's own approval and a non-approver's are refused, privately.
    await slack.clickButton({ user: 'U0ALICE', channel: INCIDENT, messageTs: approval.ts, actionId: ACTIONS.approve });
    await t.waitFor(() => t.ephemerals(INCIDENT, 'U0ALICE').find((m) => /You asked for this recovery, so your approval does not count/.test(textOf(m))));
    await slack.clickButton({ user: 'U0CAROL', channel: INCIDENT, messageTs: approval.ts, actionId: ACTIONS.approve });
    await t.waitFor(() => t.ephemerals(INCIDENT, 'U0CAROL').find((m) => /Only configured approvers can approve/.test(textOf(m))));
    expect(await runner.jobs()).toEqual([]);

    // Bob approves with a double click: one approval, one job, a private note for the repeat.
    const click = () => slack.clickButton({ user: 'U0BOB', channel: INCIDENT, messageTs: approval.ts, actionId: ACTIONS.approve });
    await Promise.all([click(), click()]);
    const job = await waitForJob(runner);
    expect(job).toMatchObject({ requestId: request.id, status: 'queued', pool: 'default' });
    const statusTs = job.slackRefs.statusTs!;
    expect(job.slackRefs).toMatchObject({ channel: INCIDENT, threadTs: statusTs });
    await t.waitFor(() => /All 1 approval in/.test(textOf(t.message(INCIDENT, approval.ts))));
    const approved = textOf(t.message(INCIDENT, approval.ts));
    expect(approved).toMatch(/\*Approved by:\* <@U0BOB> at .* UTC \(valid until .* UTC\)/);
    expect(t.message(INCIDENT, approval.ts)?.blocks?.some((b) => b.type === 'actions')).toBe(false);
    expect(textOf(t.message(INCIDENT, statusTs))).toContain('Queued');

    await t.waitFor(() => t.ephemerals(INCIDENT, 'U0BOB').find((m) => /You already approved this/.test(textOf(m))));
    expect(await runner.jobs()).toHaveLength(1);

    // The runner runs it.
    const claimed = await runner.claim();
    const now = () => new Date().toISOString();
    await runner.emit(claimed.id, { type: 'job.started', at: now(), command: `pitr to time 2025-01-15T14:29:59.000Z` });
    await runner.step(claimed.id, 0, { kind: 'select', title: 'Check backup 20250115T000000Z and 58 WAL segments in storage', seconds: 1.4, detail: 'backup 20250115T000000Z, 58 WAL segments' });
    await runner.step(claimed.id, 1, { kind: 'restore-base-backup', title: 'Restore base backup 20250115T000000Z', seconds: 38.2, progress: [{ done: 400e6, total: 812e6, unit: 'bytes' }] });
    await runner.step(claimed.id, 2, { kind: 'configure-recovery', title: 'Configure recovery', seconds: 0.1 });
    await runner.emit(claimed.id, { type: 'step.started', at: now(), step: 'replay-wal', title: 'Replay 58 WAL segments, then promote' });
    await runner.emit(claimed.id, { type: 'step.progress', at: now(), step: 'replay-wal', done: 30, total: 58, unit: 'segments', detail: 'replayed to 0/3A000000' });
    await t.waitFor(() => textOf(t.message(INCIDENT, statusTs)).includes('replay-wal [#####-----] 51% replayed to 0/3A000000'));
    expect(textOf(t.message(INCIDENT, statusTs))).toContain('Running');
    await runner.emit(claimed.id, { type: 'step.finished', at: now(), step: 'replay-wal', seconds: 95.5, detail: 'reached 2025-01-15 14:29:58.912 UTC' });
    await runner.emit(claimed.id, { type: 'step.started', at: now(), step: 'verify', title: 'Verify all databases' });
    const report = {
      ok: true,
      checks: [
        { name: 'connect', ok: true, message: 'accepts connections on 127.0.0.1:54329' },
        { name: 'databases', ok: true, message: '2 databases answer' },
      ],
      databases: [
        { name: 'aiagent_prod', tables: [{ table: 'orders', rows: 120345, newest: '2025-01-15T14:29:58.100Z' }, { table: 'customers', rows: 5012 }] },
        { name: 'postgres', tables: [] },
      ],
    };
    await runner.emit(claimed.id, { type: 'integrity.report', at: now(), report });
    await runner.emit(claimed.id, { type: 'step.finished', at: now(), step: 'verify', seconds: 2.2 });
    await runner.finish(claimed.id, {
      status: 'succeeded',
      result: {
        backupId: '20250115T000000Z', target: 'time 2025-01-15T14:29:59.000Z', state: 'promoted', reachedTime: REACHED, replayLsn: '0/3A0001F8', timeline: 2,
        dataDir: '/var/lib/recover-bot/restores/pitr-20250115T150000Z/data', port: 54329, connect: 'postgresql://127.0.0.1:54329/postgres', oldDataDir: null,
        walSegments: 58, seconds: { total: 137.4, baseBackup: 38.2, replay: 95.5 }, report,
      },
    });

    // Everything converges: status, thread replies, integrity report, summary.
    await t.waitFor(() => /Succeeded/.test(textOf(t.message(INCIDENT, statusTs))), 10_000);
    const summary = await t.waitFor(() => t.thread(INCIDENT, statusTs).find((m) => /Summary: \/recover/.test(textOf(m))), 10_000);
    const status = t.message(INCIDENT, statusTs)!;
    expect(status.edits.some((v) => /\[#####-----\] 51%/.test(v.text))).toBe(true);
    expect(textOf(status)).toContain('*Integrity:* passed (2/2 checks)');
    expect(status.blocks?.some((b) => b.type === 'actions')).toBe(false);

    const replies = t.thread(INCIDENT, statusTs).map(textOf);
    const stepReplies = replies.filter((r) => r.startsWith('Step done'));
    expect(stepReplies).toHaveLength(5);
    expect(stepReplies[0]).toContain('1. Check backup 20250115T000000Z and 58 WAL segments in storage* — 1.4 s\nbackup 20250115T000000Z, 58 WAL segments');
    expect(stepReplies[3]).toContain('4. Replay 58 WAL segments, then promote* — 1 min 36 s');

    const integrity = t.thread(INCIDENT, statusTs).find((m) => /Integrity report: passed/.test(textOf(m)))!;
    const integrityText = textOf(integrity);
    // Every check passed: collapsed to one line naming them.
    expect(integrityText).toContain(':white_check_mark: All 2 checks passed: connect, databases');
    expect(integrityText).toContain('`orders` 120,345 rows · newest 2025-01-15 14:29:58.100 UTC');
    expect(integrityText).toContain('*aiagent_prod* — 2 tables, 125,357 rows');
    await t.waitFor(() => textOf(t.message(INCIDENT, integrity.ts)).includes('reached `2025-01-15 14:29:58.912 UTC`'));
    expect(textOf(t.message(INCIDENT, integrity.ts))).toContain('target `2025-01-15 14:29:59 UTC`');

    const summaryText = textOf(summary);
    expect(summaryText).toContain('requested by <@U0ALICE>');
    expect(summaryText).toMatch(/approved by <@U0BOB>/);
    expect(summaryText).toContain('started on a runner');
    expect(summaryText).toContain('Replay 58 WAL segments, then promote — 1 min 36 s');
    expect(summaryText).toContain('finished: *succeeded*');
    expect(summaryText).toContain('*Recovery point:* target `2025-01-15 14:29:59 UTC` · reached `2025-01-15 14:29:58.912 UTC` (LSN `0/3A0001F8`, timeline 2)');
    expect(summaryText).toContain('*Data-loss window:* 0.1 s (target − reached), within the 15 min RPO');
    expect(summaryText).toMatch(/\*Time to recover:\* [\d.]+ s from request to finish, within the 2 h RTO \(0% used\)/);
    expect(summaryText).toContain('*Integrity:* passed (2/2 checks)');
    expect(summaryText).toContain('The side instance is running at `postgresql://127.0.0.1:54329/postgres`');

    // Persisted so a restarted bot neither repeats nor skips posts.
    const [finished] = await runner.jobs();
    expect(finished!.slackRefs.postedEventId).toBeGreaterThan(0);
    expect(slack.ackTimeouts).toEqual([]);
    if (process.env.PRINT_TRANSCRIPT) console.log(t.render());
  });
});
