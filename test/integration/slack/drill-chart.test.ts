/**
 * `/recover drill history` in Slack (the stand-in): the test plays the runner with the real
 * drill command (gather, plan, run against drills recorded in the control DB); the bot posts
 * the summary, then the RTO chart as a PNG uploaded in three steps (files.getUploadURLExternal,
 * the bytes, files.completeUploadExternal) into the job's thread with the numbers as alt text,
 * and the numbers beside it. Without files:write the upload fails and the message says so,
 * numbers still there. Run again for the same job (an event retried after the numbers failed to
 * post), the chart is not attached a second time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drill } from '../../../commands/drill.js';
import { loadConfig } from '../../../src/config.js';
import { getSlackPost } from '../../../src/control/index.js';
import { postDrillChart } from '../../../src/slack/flows/drill-chart.js';
import type { BotDeps } from '../../../src/slack/context.js';
import type { FileToShare } from '../../../src/slack/io/file-upload.js';
import { recordDrill, type DrillRecord } from '../../../src/control/drills.js';
import type { EngineContext } from '../../../src/engine/context.js';
import { createLogger } from '../../../src/log.js';
import { systemClock } from '../../../src/types.js';
import { closeHarness, INCIDENT, startHarness, textOf, waitForJob, type Harness } from './harness.js';

let h: Harness;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const drills: DrillRecord[] = [
  { pool: 'default', trigger: 'schedule', requestedAt: new Date('2026-11-29T03:00:00Z'), ok: true, backupId: 'B1', target: null, rtoSeconds: 600, error: null },
  { pool: 'default', trigger: 'schedule', requestedAt: new Date('2026-11-30T03:00:00Z'), ok: false, backupId: 'B2', target: null, rtoSeconds: null, error: { code: 'RESTORE_FAILED', message: 'WAL gap' } },
  { pool: 'default', trigger: 'command', requestedAt: new Date('2026-12-01T03:00:00Z'), ok: true, backupId: 'B3', target: null, rtoSeconds: 754, error: null },
];

beforeAll(async () => {
  h = await startHarness();
  for (const d of drills) await recordDrill(h.pool, d);
}, 60_000);

afterAll(() => closeHarness(h));

/** `/recover drill history` through the bot, the runner's part done by the real command; the job's thread. */
async function drillHistory(): Promise<string> {
  const before = (await h.runner.requests()).length;
  await h.slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'drill history' });
  const request = await h.runner.waitForRequest(before + 1);
  const config = loadConfig({ RECOVER_CONTROL_URL: `postgres://postgres@127.0.0.1:5432/${h.pool.options.database!}`, RECOVER_PRODUCTION_NAME: 'aiagent_prod' });
  const engine = { log: createLogger('silent'), clock: systemClock, events: { emit: () => undefined }, signal: new AbortController().signal } as unknown as EngineContext;
  const ctx = { engine, config, cli: null, beforeDestructiveStep: async () => undefined };
  const args = drill.parse(['history']);
  const plan = drill.plan!(args, { ...(await drill.gather!(ctx, args)), now: new Date() } as never);
  await h.runner.plan(request.id, plan);
  // Read-only, no approval needed: the bot queues it at once.
  const job = await waitForJob(h.runner, request.id, 10_000);
  await h.runner.claim();
  const result = await drill.run!(ctx, plan.params as never);
  await h.runner.step(job.id, 0, { kind: 'report-drills', title: 'Read the drill history', seconds: 0.1 });
  await h.runner.finish(job.id, { status: 'succeeded', result });
  return job.slackRefs.statusTs!;
}

const replies = (threadTs: string) => h.slack.transcript.thread(INCIDENT, threadTs);

describe('/recover drill history → RTO chart', () => {
  it('uploads a PNG chart into the job thread with the numbers as alt text, and the numbers beside it', async () => {
    const threadTs = await drillHistory();
    const beside = await h.slack.transcript.waitFor(() => replies(threadTs).find((m) => /RTO trend/.test(textOf(m))), 30_000);
    const [chart] = replies(threadTs).filter((m) => m.files !== undefined);
    const file = chart!.files![0]!;
    expect(file).toMatchObject({ name: 'drill-rto.png', mimetype: 'image/png', title: 'Restore drill RTO trend' });
    expect(file.bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    // IHDR: width and height at bytes 16 and 20; the 480×200 plot with axes and titles, drawn at twice the size.
    expect(file.bytes.readUInt32BE(16)).toBeGreaterThan(960);
    expect(file.bytes.readUInt32BE(20)).toBeGreaterThan(400);
    const numbers = 'RTO of the last 3 restore drills, oldest first: 2026-11-29 03:00Z 10 min 0 s; 2026-11-30 03:00Z FAILED; 2026-12-01 03:00Z 12 min 34 s. RTO goal 2 h 0 min, warned past 1 h 0 min.';
    expect(file.altText).toBe(numbers);
    expect(textOf(beside)).toContain(numbers);
    // The chart comes after the summary, and the message beside it after the chart.
    const order = replies(threadTs).map((m) => (m.files ? 'chart' : /RTO trend/.test(textOf(m)) ? 'numbers' : /succeeded|Summary|finished/i.test(textOf(m)) ? 'summary' : 'other'));
    expect(order.filter((o) => o !== 'other').slice(-3)).toEqual(['summary', 'chart', 'numbers']);
    expect(h.slack.calls.filter((c) => c.method.startsWith('files.')).map((c) => [c.method, c.ok])).toEqual([['files.getUploadURLExternal', true], ['files.completeUploadExternal', true]]);
  }, 60_000);

  it('run again for the same job (its event retried), the chart is attached once; an upload cut off before it was recorded is not repeated', async () => {
    const shared: FileToShare[] = [];
    const posted: string[] = [];
    const out = {
      shareFile: async (file: FileToShare) => (shared.push(file), `F${shared.length}`),
      post: async (_channel: string, message: { text: string }) => (posted.push(message.text), `${posted.length}.0`),
    } as unknown as BotDeps['out'];
    const config = loadConfig({ RECOVER_PRODUCTION_NAME: 'aiagent_prod' });
    const deps = { config, out, log: createLogger('silent'), control: h.pool };
    const plan = { command: 'drill' } as never;
    const result = { mode: 'history', points: [{ at: '2026-12-01T03:00:00Z', ok: true, rtoSeconds: 754 }] };
    const job = { jobId: `chart-once-${Date.now()}`, channel: INCIDENT, threadTs: '1.0', plan, result };
    await postDrillChart(deps, job);
    await postDrillChart(deps, job);
    expect(shared).toHaveLength(1);
    expect((await getSlackPost(h.pool, `job:${job.jobId}:chart-file`))?.ts).toBe('F1');
    expect(posted).toHaveLength(2); // the numbers message itself is keyed by the outbox (one in Slack)
    // Interrupted between the upload and its record: a later run says it may be above instead of uploading again.
    const cut = { ...job, jobId: `${job.jobId}-cut` };
    const failing = { ...deps, control: h.pool, out: { ...out, shareFile: async () => { throw new Error('process killed'); } } as unknown as BotDeps['out'] };
    await postDrillChart(failing, cut);
    await postDrillChart(deps, cut);
    expect(shared).toHaveLength(1);
    expect(posted.at(-1)).toMatch(/may be above/);
  }, 60_000);

  it('without files:write the numbers still arrive, saying the chart could not be attached', async () => {
    h.slack.workspace.scopes.delete('files:write');
    const threadTs = await drillHistory();
    const beside = await h.slack.transcript.waitFor(() => replies(threadTs).find((m) => /RTO chart could not be attached/.test(textOf(m))), 30_000);
    expect(textOf(beside)).toMatch(/could not be attached \(Slack refused to attach a file: missing_scope\.\)/);
    expect(textOf(beside)).toContain('2026-12-01 03:00Z 12 min 34 s');
    expect(replies(threadTs).filter((m) => m.files !== undefined)).toEqual([]);
  }, 60_000);
});
