/** Shared by the Slack end-to-end tests: wait for a command's job to end, read its summary thread. */
import { INCIDENT_CHANNEL, type World } from '../../../devkit/world.js';
import { Transcript } from '../../../devkit/slack-standin/index.js';

export interface EndedJob {
  id: string;
  status: string;
  result: Record<string, unknown>;
}

/** The jobs each world's tests were already given: a later call waits for a job of its own. */
const handedOut = new WeakMap<World, Set<string>>();

/**
 * The newest job of `command` whose request matches `where` (SQL over `r`, the request row,
 * written by the test itself) that no earlier call returned, once it is no longer queued or
 * running (up to 3 minutes).
 * Never an older one: right after a click the new job may not exist yet, and the newest match
 * is then the previous test's (it once handed a dropped-table test the instance of the test before).
 */
export async function newestEndedJob(world: World, command: string, where: string): Promise<EndedJob> {
  const seen = handedOut.get(world) ?? new Set<string>();
  handedOut.set(world, seen);
  let job: EndedJob | undefined;
  for (let i = 0; i < 900 && (!job || ['queued', 'running'].includes(job.status)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    job = (
      await world.control.pool.query<EndedJob>(
        `SELECT j.id, j.status, j.result FROM jobs j JOIN requests r ON r.id = j.request_id WHERE r.command = $1 AND ${where} AND NOT (j.id::text = ANY($2::text[])) ORDER BY j.created_at DESC LIMIT 1`,
        [command, [...seen]],
      )
    ).rows[0];
  }
  if (!job) throw new Error(`no new ${command} job (${where}) appeared`);
  seen.add(job.id);
  return job;
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
