/**
 * Hostile and fault cases between Slack, the bot and the control DB, through real Bolt, the
 * Slack stand-in and a throw-away control DB (no runner process: the test plays one, or
 * plays one that disappears):
 * - a signed slash command replayed after a bot restart files nothing (replay record in the DB);
 * - a forged, correctly signed Approve click for a request whose requester never asked for
 *   approval is refused and records nothing;
 * - a job whose runner vanished is marked failed (RUNNER_LOST) by the bot and the channel says so.
 * Every wait is for a condition (transcript, log line or DB row), never a fixed sleep.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { claimNextJob, getJob, listApprovals } from '../../src/control/index.js';
import { signedHeaders } from '../../devkit/slack-standin/signing.js';
import { ACTIONS } from '../../src/slack/views/common.js';
import { approvedJob, findTop, INCIDENT, pitrPlan, startHarness, textOf, type Harness } from '../integration/slack/harness.js';

const SIGNING_SECRET = 'test-signing-secret'; // the harness's
const DEADLINE_MS = 60_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A logger whose lines the test can wait for (the bot logs the requests it drops). */
function capturingLog() {
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      for (const wake of waiters) wake();
      done();
    },
  });
  const log = pino({ level: 'warn' }, stream);
  const waitForLine = (pattern: RegExp, timeoutMs = DEADLINE_MS): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const line = lines.find((l) => pattern.test(l));
        if (line === undefined) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(line);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms; got:\n${lines.join('')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const count = (pattern: RegExp): number => lines.filter((l) => pattern.test(l)).length;
  return { log, waitForLine, count };
}

/** Polls until `probe` returns a value (the DB is not watched by the transcript). */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = DEADLINE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('replay protection survives a bot restart', () => {
  it('a signed slash command replayed after the restart files no second request', async () => {
    const captured = capturingLog();
    h = await startHarness({ bot: { log: captured.log } });
    const { slack, runner } = h;
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'pitr 2025-01-15T14:29:59+00:00' });
    await runner.waitForRequest(1);
    const original = slack.sentRequests.find((r) => r.kind === 'slash_command')!;

    await h.restartBot();
    // A fresh command after the restart: filed, and it tells us where the new bot listens.
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'pitr 2025-01-15T14:30:59+00:00' });
    await runner.waitForRequest(2);
    const botUrl = slack.sentRequests.at(-1)!.url;

    const ignoredBefore = captured.count(/ignored a repeated Slack request/);
    const replay = await slack.replay({ ...original, url: botUrl });
    expect(replay.status).toBe(200); // within the 5-minute window the signature is still valid
    await captured.waitForLine(/ignored a repeated Slack request/);
    expect(captured.count(/ignored a repeated Slack request/)).toBe(ignoredBefore + 1);
    const requests = await runner.requests();
    expect(requests).toHaveLength(2);
    expect(requests.map((r) => (r.args as { target: { time: string } }).target.time)).toEqual([
      expect.stringMatching(/14:29:59/),
      expect.stringMatching(/14:30:59/),
    ]);
    const { rows } = await h.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM seen_slack_requests');
    expect(rows[0]?.n).toBeGreaterThanOrEqual(2);
  });
});

describe('approvals only for requests awaiting approval', () => {
  it('refuses a forged, signed Approve click for a request whose requester never requested approval', async () => {
    h = await startHarness();
    const { slack, runner } = h;
    const t = slack.transcript;
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'pitr 2025-01-15T14:29:59+00:00 --to in-place' });
    const request = await runner.waitForRequest(1);
    await runner.plan(request.id, pitrPlan('2025-01-15T14:29:59Z', 'in-place'));
    const preview = await t.waitFor(() => findTop(slack, INCIDENT, /Request approval/));

    // Bob (an approver) clicks "Request approval" on the preview: refused, he is not the requester.
    await slack.clickButton({ user: 'U0BOB', channel: INCIDENT, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
    await t.waitFor(() => t.ephemerals(INCIDENT, 'U0BOB').find((m) => /Only <@U0ALICE>, who asked/.test(textOf(m))));
    const click = slack.sentRequests.at(-1)!;

    // Someone holding the signing secret turns that click into an Approve of the same request
    // and digest (the preview's block_id carries the digest), with a fresh trigger_id.
    const payload = JSON.parse(new URLSearchParams(click.rawBody).get('payload')!) as {
      trigger_id: string;
      actions: Array<{ action_id: string; value: string; block_id: string }>;
    };
    payload.trigger_id = `${payload.trigger_id}-forged`;
    payload.actions[0]!.action_id = ACTIONS.approve;
    expect(payload.actions[0]!.value).toBe(request.id);
    const rawBody = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const headers = { ...click.headers, ...signedHeaders(SIGNING_SECRET, Math.floor(Date.now() / 1000), rawBody) };
    const forged = await slack.replay({ ...click, id: click.id + 1000, rawBody, headers });
    expect(forged.status).toBe(200);

    const refusal = await t.waitFor(
      () => t.ephemerals(INCIDENT, 'U0BOB').find((m) => /not awaiting approval/.test(textOf(m))),
      DEADLINE_MS,
    );
    expect(textOf(refusal)).toContain('has not requested approval yet');
    expect(await listApprovals(h.pool, request.id)).toEqual([]);
    expect(await runner.jobs()).toEqual([]);
    expect(findTop(slack, INCIDENT, /Approval needed|All 1 approval in/)).toBeUndefined();
  });
});

describe('a job whose runner disappeared', () => {
  it('is marked failed (RUNNER_LOST) by the bot, with no runner alive, and the status message says so', async () => {
    h = await startHarness();
    const { slack } = h;
    const t = slack.transcript;
    const { job, statusTs } = await approvedJob(h);
    // A "runner" claims it with a 1 s lease, starts a step, and is never heard of again.
    const claimed = await claimNextJob(h.pool, { runnerId: 'runner-gone', poolName: 'default', leaseSeconds: 1 });
    expect(claimed?.id).toBe(job.id);
    const at = new Date().toISOString();
    await h.runner.emit(job.id, { type: 'job.started', at, command: 'pitr' });
    await h.runner.emit(job.id, { type: 'step.started', at, step: 'restore-base-backup', title: 'Restore base backup 20250115T000000Z' });
    await t.waitFor(() => /Running/.test(textOf(t.message(INCIDENT, statusTs))), DEADLINE_MS);

    const failed = await until('the job to be reaped', async () => {
      const current = await getJob(h!.pool, job.id);
      return current?.status === 'failed' ? current : undefined;
    });
    expect(failed.error?.code).toBe('RUNNER_LOST');
    expect(failed.error?.message).toContain('runner-gone');
    expect(failed.error?.message).not.toMatch(/resum/i);

    const status = await t.waitFor(() => {
      const text = textOf(t.message(INCIDENT, statusTs));
      return /Failed/.test(text) && /RUNNER_LOST/.test(text) ? text : undefined;
    }, DEADLINE_MS);
    expect(status).toContain('Runner runner-gone stopped renewing its lease');
    expect(status).toContain('check whether production is running');
    // The summary follows in the job's thread, as for any failed job.
    await t.waitFor(() => t.thread(INCIDENT, statusTs).find((m) => /RUNNER_LOST|runner-gone/.test(textOf(m))), DEADLINE_MS);
  });
});
