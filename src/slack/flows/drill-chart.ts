/**
 * After the summary of a `/recover drill history` job: the RTO trend as a chart in the job's
 * thread (an image drawn here, uploaded through the Web API with the numbers as its alt text),
 * then the same numbers as a message beside it. The runner only read the history (its job
 * result has the drills); the bot draws and uploads, since it holds the Slack token. When the
 * chart cannot be drawn or attached, the message says so and still carries the numbers.
 * The message is keyed (job:<id>:chart), so a retried event does not post it twice.
 */
import { z } from 'zod';
import { rtoChartSpec, rtoChartText, type DrillPoint } from '../../drills/chart.js';
import { renderPng } from '../../drills/chart-png.js';
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

export async function postDrillChart(deps: Pick<BotDeps, 'config' | 'out' | 'log'>, job: { jobId: string; channel: string; threadTs: string; plan: Plan | null; result: unknown }): Promise<void> {
  const points = drillPointsOf(job.plan, job.result);
  if (!points) return;
  const objective = { rtoSeconds: deps.config.objectives.rtoSeconds, warnShare: deps.config.drill.warnShare };
  const numbers = rtoChartText(points, objective);
  let failure: string | null = null;
  try {
    const png = await renderPng(rtoChartSpec(points, objective));
    await deps.out.shareFile({ channel: job.channel, threadTs: job.threadTs, filename: 'drill-rto.png', title: 'Restore drill RTO trend', bytes: png.bytes, altText: numbers });
  } catch (error) {
    const reason = toRecoverError(error);
    deps.log.warn({ err: reason, cause: reason.cause, jobId: job.jobId }, 'could not attach the drill RTO chart');
    failure = reason.message;
  }
  const head = failure === null ? '*RTO trend* (chart above, the numbers for screen readers):' : `:warning: The RTO chart could not be attached (${escapeMrkdwn(failure)}). The numbers:`;
  await deps.out.post(job.channel, notice(`${head}\n${escapeMrkdwn(numbers)}`), job.threadTs, { key: `job:${job.jobId}:chart`, kind: 'chart' });
}
