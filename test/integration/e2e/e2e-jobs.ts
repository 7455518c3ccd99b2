/** Shared by the Slack end-to-end tests: wait for a command's job to end, read its summary thread. */
import { INCIDENT_CHANNEL, type World } from '../../../devkit/world.js';
import { Transcript } from '../../../devkit/slack-standin/index.js';

export interface EndedJob {
  id: string;
  status: string;
  result: Record<string, unknown>;
}

/**
 * The newest job of `command` whose request matches `where` (SQL over `r`, the request row,
 * written by the test itself), once it is no longer queued or running (up to 3 minutes).
 */
export async function newestEndedJob(world: World, command: string, where: string): Promise<EndedJob> {
  let job: EndedJob | undefined;
  for (let i = 0; i < 900 && (!job || ['queued', 'running'].includes(job.status)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    job = (
      await world.control.pool.query<EndedJob>(
        `SELECT j.id, j.status, j.result FROM jobs j JOIN requests r ON r.id = j.request_id WHERE r.command = $1 AND ${where} ORDER BY j.created_at DESC LIMIT 1`,
        [command],
      )
    ).rows[0];
  }
  return job!;
}

/** The thread under the job's status message (posted after `after`) once it holds the command's summary. */
export async function summaryThread(world: World, command: string, after: string): Promise<string> {
  const { slack } = world;
  const channel = INCIDENT_CHANNEL.id;
  const summary = new RegExp(`Summary: /recover ${command}`);
  const thread = await slack.transcript.waitFor(() => {
    for (const message of slack.transcript.messages(channel).filter((m) => m.ts > after)) {
      const replies = slack.transcript.thread(channel, message.ts);
      if (replies.some((m) => summary.test(Transcript.textOf(m)))) return replies;
    }
    return undefined;
  }, 60_000);
  return thread.map((m) => Transcript.textOf(m)).join('\n');
}
