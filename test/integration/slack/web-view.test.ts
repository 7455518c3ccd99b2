/**
 * The Slack stand-in's web view in a real browser (Debian's chromium via playwright-core): a
 * person types `/recover pitr … --to in-place` as alice, confirms the production name in the
 * modal (a wrong name first, then Back and again), has her own approval refused privately, switches to bob, backs
 * out of Reject's confirmation dialog, approves, and watches progress and the summary thread
 * arrive — the bot receiving every action as signed Slack requests. The test plays the runner.
 */
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChromium, type Browser } from '../../support/chromium.js';
import { closeHarness, INCIDENT, pitrPlan, startHarness, waitForJob, type Harness } from './harness.js';

const TARGET = '2025-01-15T14:29:59+00:00';
// Generous for a loaded machine; a passing run waits only as long as the bot takes.
const WAIT = { timeout: 30_000 };

let h: Harness | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  [browser, h] = await Promise.all([openChromium(), startHarness()]);
});

afterAll(async () => {
  await browser?.close();
  await closeHarness(h);
});

/** The top-level message (not a thread reply) whose text matches. */
const topMessage = (page: Page, text: string | RegExp): Locator => page.locator('#messages > article.message').filter({ hasText: text });

/** That message from now on, however the bot edits it. */
async function pinned(page: Page, found: Locator): Promise<Locator> {
  await found.waitFor(WAIT);
  const ts = await found.getAttribute('data-ts');
  return page.locator(`#messages > article.message[data-ts="${ts}"]`);
}

async function actAs(page: Page, user: string): Promise<void> {
  await page.selectOption('#acting-user', user);
  await page.waitForFunction((id) => new URLSearchParams(location.search).get('user') === id, user, WAIT);
}

describe('the Slack stand-in web view, in chromium', () => {
  it('types /recover as one user, confirms in the modal, approves as another, and shows progress and the summary thread', async () => {
    const { slack, runner } = h!;
    const { page, errors } = await browser!.newPage();
    await page.goto(`${slack.webUrl}?user=U0ALICE&channel=${INCIDENT}`);
    await page.locator('#connection.live').waitFor(WAIT);

    // Alice types the command; the runner (the test) plans it; the preview replaces "Planning…" in place.
    await page.fill('#command-line', `/recover pitr ${TARGET} --to in-place`);
    await page.press('#command-line', 'Enter');
    await topMessage(page, 'Planning').waitFor(WAIT);
    const request = await runner.waitForRequest();
    expect(request).toMatchObject({ command: 'pitr', requesterId: 'U0ALICE', channelId: INCIDENT });
    await runner.plan(request.id, pitrPlan(TARGET, 'in-place'));
    const preview = topMessage(page, 'Request approval');
    await preview.locator('.edited').waitFor(WAIT);
    expect(await preview.locator('strong', { hasText: 'destructive' }).count()).toBeGreaterThan(0);

    // Destructive: the bot opens a modal asking for the production name; a wrong one is refused in the modal.
    await preview.getByRole('button', { name: 'Request approval' }).click();
    const modal = page.locator('#modal form.modal');
    await modal.getByText('Type aiagent_prod to confirm').waitFor(WAIT);
    await modal.locator('input[data-action-id="name"]').fill('aiagent-prod');
    await modal.getByRole('button', { name: 'Request approval' }).click();
    await modal.locator('.field-error', { hasText: 'type exactly "aiagent_prod"' }).waitFor(WAIT);
    // Backing out closes the modal; asking again opens a fresh one.
    await modal.getByRole('button', { name: 'Back' }).click();
    await modal.waitFor({ state: 'detached', ...WAIT });
    await preview.getByRole('button', { name: 'Request approval' }).click();
    await modal.locator('input[data-action-id="name"]').waitFor(WAIT);
    expect(await modal.locator('.field-error').count()).toBe(0);
    await modal.locator('input[data-action-id="name"]').fill('aiagent_prod');
    await modal.getByRole('button', { name: 'Request approval' }).click();
    await modal.waitFor({ state: 'detached', ...WAIT });

    // Alice cannot approve her own request: the refusal is an ephemeral only she sees.
    const approval = await pinned(page, topMessage(page, 'Approval needed'));
    await approval.getByRole('button', { name: 'Approve' }).click();
    const refusal = page.locator('article.ephemeral', { hasText: 'your approval does not count' });
    await refusal.locator('.only-you').waitFor(WAIT);

    // Bob: Alice's ephemeral is not his to see; he backs out of Reject's confirmation, then approves.
    await actAs(page, 'U0BOB');
    await refusal.waitFor({ state: 'detached', ...WAIT });
    await approval.getByRole('button', { name: 'Reject' }).click();
    const dialog = page.locator('.dialog', { hasText: 'Reject this recovery?' });
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await dialog.waitFor({ state: 'detached', ...WAIT });
    await approval.getByRole('button', { name: 'Approve' }).click();
    await approval.filter({ hasText: 'All 1 approval in' }).waitFor(WAIT);
    expect(await approval.getByRole('button').count()).toBe(0);

    // The runner runs it: the status message shows the progress bar, then the summary thread fills.
    const job = await waitForJob(runner, request.id, 30_000);
    const claimed = await runner.claim();
    expect(claimed.id).toBe(job.id);
    const now = () => new Date().toISOString();
    await runner.emit(job.id, { type: 'job.started', at: now(), command: 'pitr to time 2025-01-15T14:29:59.000Z (in place)' });
    await runner.emit(job.id, { type: 'step.started', at: now(), step: 'replay-wal', title: 'Replay 58 WAL segments, then promote' });
    await runner.emit(job.id, { type: 'step.progress', at: now(), step: 'replay-wal', done: 30, total: 58, unit: 'segments' });
    const status = page.locator('#messages > article.message', { has: page.locator('meter.progress') });
    await status.filter({ hasText: '[#####-----] 51%' }).waitFor(WAIT);
    await runner.emit(job.id, { type: 'step.finished', at: now(), step: 'replay-wal', seconds: 95.5 });
    await runner.finish(job.id, {
      status: 'succeeded',
      result: {
        backupId: '20250115T000000Z', target: 'time 2025-01-15T14:29:59.000Z', state: 'promoted', reachedTime: '2025-01-15T14:29:58.912Z',
        replayLsn: '0/3A0001F8', timeline: 2, dataDir: '/var/lib/postgresql/15/main', port: 5432, connect: 'postgresql://127.0.0.1:5432/postgres',
        oldDataDir: '/var/lib/postgresql/15/main.before-pitr', walSegments: 58, seconds: { total: 99.1, baseBackup: 0, replay: 95.5 },
      },
    });
    const summary = page.locator('section.thread article.message', { hasText: 'Summary: /recover pitr' });
    await summary.waitFor(WAIT);
    const summaryText = await summary.innerText();
    expect(summaryText).toContain('requested by @alice');
    expect(summaryText).toMatch(/approved by @bob/);
    expect(summaryText).toContain('finished: succeeded');
    // What the page showed is what the transcript holds: the same thread, under the status message.
    const statusTs = await page.locator('#messages > article.message', { has: summary }).getAttribute('data-ts');
    expect(statusTs).toBe(job.slackRefs.statusTs);
    expect(errors).toEqual([]);
    expect(slack.ackTimeouts).toEqual([]);
  });

  it('shows hostile text as text: nothing a message holds runs in the page', async () => {
    const { slack } = h!;
    const hostile = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
    slack.transcript.addMessage({
      channel: INCIDENT, ts: slack.workspace.nextTs(), user: 'U0CAROL', text: hostile, postedAt: new Date(), via: 'slack',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*${hostile}* <javascript:window.pwned=3|click me>` } }],
    });
    const { page, errors } = await browser!.newPage();
    await page.goto(`${slack.webUrl}?user=U0CAROL&channel=${INCIDENT}`);
    const message = topMessage(page, 'window.pwned=2');
    await message.waitFor(WAIT);
    expect(await message.locator('.body').innerText()).toContain(`${hostile} <javascript:window.pwned=3|click me>`);
    expect(await message.locator('img, script, a').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(errors).toEqual([]);
  });
});
