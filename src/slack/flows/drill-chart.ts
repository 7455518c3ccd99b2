/**
 * After the summary of a `/recover drill history` job: the RTO trend as a chart in the job's
 * thread (an image drawn here, uploaded through the Web API with the numbers as its alt text),
 * then the same numbers as a message beside it. The runner only read the history (its job
 * result has the drills); the bot draws and uploads, since it holds the Slack token. When the
 * chart cannot be drawn or attached, the message says so and still carries the numbers.
 * The message is keyed (job:<id>:chart), so a retried event does not post it twice; the upload
 * is recorded under job:<id>:chart-file before it starts and its file id after, so a retried
 * event (the message failed after the upload) never attaches the chart a second time.
 */
import { z } from 'zod';
import { rtoChartSpec, rtoChartText, type DrillPoint } from '../../drills/chart.js';
import { renderPng } from '../../drills/chart-png.js';
import { markSlackPostAttempt, recordSlackPostIntent, saveSlackPostTs } from '../../control/index.js';
import { toRecoverError } from '../../errors.js';
import type { Plan } from '../../types.js';
import type { BotDeps } from '../context.js';
import { escapeMrkdwn } from '../views/common.js';
import { notice } from '../views/help.js';

const historyResult = z.object({
  mode: z.literal('history'),
  points: z.array(z.object({ at: z.string(), ok: z.boolean(), rtoSeconds: z.number().nullable() })).min(1),
});

/** The drills of a drill-history job's result, or null for any other job. */
export function drillPointsOf(plan: Plan | null, result: unknown): DrillPoint[] | null {
  if (plan?.command !== 'drill') return null;
  const parsed = historyResult.safeParse(result);
  return parsed.success ? parsed.data.points : null;
}

export async function postDrillChart(deps: Pick<BotDeps, 'config' | 'out' | 'log' | 'control'>, job: { jobId: string; channel: string; threadTs: string; plan: Plan | null; result: unknown }): Promise<void> {
  const points = drillPointsOf(job.plan, job.result);
  if (!points) return;
  const objective = { rtoSeconds: deps.config.objectives.rtoSeconds, warnShare: deps.config.drill.warnShare };
  const numbers = rtoChartText(points, objective);
  let failure: string | null = null;
  let head = '*RTO trend* (chart above, the numbers for screen readers):';
  const key = `job:${job.jobId}:chart-file`;
  try {
    const earlier = await recordSlackPostIntent(deps.control, { key, kind: 'file', channel: job.channel, threadTs: job.threadTs });
    if (earlier.ts === null && earlier.attempts > 0) {
      // An earlier try started the upload and did not live to record it: it may be in the thread.
      head = '*RTO trend* (the chart was being attached when the bot was interrupted: it may be above; the numbers for screen readers):';
    } else if (earlier.ts === null) {
      const png = await renderPng(rtoChartSpec(points, objective));
      await markSlackPostAttempt(deps.control, key);
      const fileId = await deps.out.shareFile({ channel: job.channel, threadTs: job.threadTs, filename: 'drill-rto.png', title: 'Restore drill RTO trend', bytes: png.bytes, altText: numbers });
      await saveSlackPostTs(deps.control, key, fileId);
    }
  } catch (error) {
    const reason = toRecoverError(error);
    deps.log.warn({ err: reason, cause: reason.cause, jobId: job.jobId }, 'could not attach the drill RTO chart');
    failure = reason.message;
  }
  if (failure !== null) head = `:warning: The RTO chart could not be attached (${escapeMrkdwn(failure)}). The numbers:`;
  await deps.out.post(job.channel, notice(`${head}\n${escapeMrkdwn(numbers)}`), job.threadTs, { key: `job:${job.jobId}:chart`, kind: 'chart' });
}
