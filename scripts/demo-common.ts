/**
 * What the demo stories share: printing, the world (started once, its Slack transcript printed
 * as it happens, its channel served as a web page), Slack helpers (buttons, summary threads),
 * waiting for a job of a command, and the cleanup that stops every side instance and then the
 * world — on success, on failure and on Ctrl-C. With --web the world stays up after the story
 * until Ctrl-C, for a person to use the web view.
 */
import { listSideInstances, openSideInstance, stopSideInstance } from '../src/engine/instances.js';
import { INCIDENT_CHANNEL, startWorld, type World } from '../devkit/world.js';
import { Transcript, type TranscriptMessage } from '../devkit/slack-standin/index.js';

export const say = (text: string) => process.stdout.write(`${text}\n`);
export const step = (text: string) => say(`\n\x1b[1m== ${text}\x1b[0m`);
export const good = (text: string) => say(`   \x1b[32m${text}\x1b[0m`);
export const bad = (text: string) => say(`   \x1b[31m${text}\x1b[0m`);
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const hasButton = (message: TranscriptMessage, actionId: string) => JSON.stringify(message.blocks ?? []).includes(`"${actionId}"`);
export const textOf = (message: TranscriptMessage) => Transcript.textOf(message);
export const channel = INCIDENT_CHANNEL.id;

let world: World | undefined;
let interrupted = false;
let muted = false;
let lastChange = Date.now();
let cleaning: Promise<void> | undefined;
/** Set while the world is kept up for the web view: Ctrl-C ends the wait instead of the process. */
let stopWaiting: (() => void) | undefined;

/** Stops every side instance a job left running, then the bot, the runner, every cluster, Azurite, the stand-in. */
export function cleanup(): Promise<void> {
  if (!world) return Promise.resolve();
  const w = world;
  cleaning ??= (async () => {
    muted = true;
    say('\n== cleaning up: stopping side instances, the bot, the runner, every cluster, Azurite, the stand-in …');
    // Only side instances this tool created (checked), never whatever else sits in the root.
    for (const name of await listSideInstances(w.config).catch(() => [] as string[])) {
      await openSideInstance(w.config, name).then((instance) => stopSideInstance(instance, 'immediate')).catch(() => undefined);
    }
    await w.cleanup();
    say('   done; nothing is left running.');
  })();
  return cleaning;
}

// `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by tsx),
// and a second SIGINT must not kill it half-way through the cleanup.
process.on('SIGINT', () => {
  if (interrupted) return;
  interrupted = true;
  if (stopWaiting) return stopWaiting();
  say('\ninterrupted');
  // While the world is still starting, main() cleans up as soon as it is there.
  if (world) void cleanup().finally(() => process.exit(130));
});

/** Starts the world and prints every Slack change as it happens. */
export async function openWorld(verifyTables: string): Promise<World> {
  step('starting PostgreSQL clusters, Azurite, the Slack stand-in, the bot and a runner');
  world = await startWorld({ verifyTables });
  if (interrupted) {
    await cleanup();
    process.exit(130);
  }
  const { slack } = world;
  say(`   the channel as a web page: ${webViewUrl(world)}`);
  slack.transcript.onChange((event) => {
    lastChange = Date.now();
    if (muted) return;
    const text = slack.transcript.describe(event);
    if (text) say(`   slack │ ${text.split('\n').join('\n   slack │ ')}`);
  });
  return world;
}

export interface JobRow {
  id: string;
  status: string;
  result: Record<string, unknown> | null;
}

/** Ids of the jobs so far, to tell the next one apart. */
export async function jobIds(w: World): Promise<Set<string>> {
  return new Set((await w.control.pool.query<{ id: string }>('SELECT id FROM jobs')).rows.map((r) => r.id));
}

/** Waits for a job of `command` not in `known` to end (succeeded, failed, cancelled …). */
export async function nextJob(w: World, command: string, known: Set<string>, timeoutMs = 300_000): Promise<JobRow> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const { rows } = await w.control.pool.query<JobRow>(
      `SELECT j.id, j.status, j.result FROM jobs j JOIN requests r ON r.id = j.request_id WHERE r.command = $1 ORDER BY j.created_at DESC`,
      [command],
    );
    const job = rows.find((row) => !known.has(row.id));
    if (job && !['queued', 'running'].includes(job.status)) return job;
    await pause(300);
  }
  throw new Error(`no ${command} job ended within ${timeoutMs / 1000} s`);
}

/** The thread (as text) under a message posted after `after` once it holds the command's summary. */
export async function summaryThread(w: World, command: string, after: string): Promise<string> {
  const { slack } = w;
  const heading = `Summary: /recover ${command}`;
  const thread = await slack.transcript.waitFor(() => {
    for (const message of slack.transcript.messages(channel).filter((m) => m.ts > after)) {
      const replies = slack.transcript.thread(channel, message.ts);
      if (replies.some((m) => textOf(m).includes(heading))) return replies;
    }
    return undefined;
  }, 60_000);
  return thread.map(textOf).join('\n');
}

/** The newest message of the channel's timeline (its ts), to wait for what comes after it. */
export const lastTs = (w: World): string => w.slack.transcript.messages(channel).at(-1)?.ts ?? '0';

/** Waits until the channel has been quiet for `quietMs` (the bot's last updates delivered), at most 15 s. */
export async function settle(quietMs = 1500): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() - lastChange < quietMs && Date.now() < until) await pause(100);
}

/** The channel as people saw it, at the end (once the bot's last updates are in). */
export async function renderChannel(w: World): Promise<void> {
  await settle();
  step('the channel, as people saw it');
  say(w.slack.transcript.render(channel));
}

/** The web view, opened as alice in the incident channel. */
export const webViewUrl = (w: World): string => `${w.slack.webUrl}?user=U0ALICE&channel=${channel}`;

/** Keeps the world up until Ctrl-C (then play() cleans up and the exit code stays the story's). */
async function keepOpen(w: World): Promise<void> {
  step(`the world stays up: ${webViewUrl(w)}`);
  say('   act as anyone in the workspace (top of the page); the bot and a runner answer as before.');
  say('   Ctrl-C stops everything and removes every cluster and file.');
  await new Promise<void>((resolve) => {
    stopWaiting = resolve;
    if (interrupted) resolve();
  });
}

/**
 * Runs a story in a fresh world; exit code 1 if it throws or its proof fails; always cleans up
 * (with `web`, only after Ctrl-C).
 */
export async function play(story: () => Promise<boolean>, options: { web?: boolean } = {}): Promise<void> {
  try {
    if (!(await story())) process.exitCode = 1;
  } catch (error) {
    process.exitCode = 1;
    say(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    if (options.web && world && !interrupted) await keepOpen(world);
    await cleanup();
  }
}
