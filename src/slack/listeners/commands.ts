/**
 * What `/recover <sub> …` does after the ack, free of Bolt types: the channel check, the
 * subcommand lookup and argument parsing (errors answered with usage and an example), the
 * bot's own commands (help, status, cancel: each answers through `answer()` with the actions
 * lent here) and, for runner-planned commands, filing the
 * request and posting "Planning…" for the plan watcher to turn into the preview.
 */
import { randomUUID } from 'node:crypto';
import { COMMANDS, findCommand, tokenize, type RecoverCommand } from '../../../commands/index.js';
import type { BotActions } from '../../../commands/types.js';
import { createRequest, getJob, getRequest, listJobs, requestCancel, setRequestSlackRefs } from '../../control/index.js';
import { isRecoverError, RecoverError, toRecoverError } from '../../errors.js';
import { code, shortId, user } from '../views/common.js';
import { channelRefusalMessage, commandErrorMessage, helpMessage, notice, privateChannelUnreadableMessage, unknownCommandMessage } from '../views/help.js';
import { planningMessage } from '../views/plan.js';
import { jobsListMessage, statusMessage, type JobListRow, type StatusMeta } from '../views/status.js';
import { loadJobSnapshot } from '../flows/job-snapshot.js';
import type { FlowDeps, Reply } from '../flows/approval-flow.js';
import { slackErrorCode } from '../io/slack-errors.js';
import { isChannelAllowed, needsNameLookup } from './guards.js';
import type { PlanWatcher } from '../flows/plan-watcher.js';

export interface CommandDeps extends FlowDeps {
  plans: PlanWatcher;
}

export interface CommandInput {
  teamId: string;
  channelId: string;
  channelName: string;
  userId: string;
  text: string;
  reply: Reply;
}

/**
 * The command's text as the person typed it: Slack sends `&`, `<` and `>` as entities (a filter's
 * `>=` arrives as `&gt;=`). Curly quotes and the like are read by tokenize() (commands/words.ts).
 */
export function slackCommandText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').trim();
}

export async function runSlashCommand(deps: CommandDeps, slashInput: CommandInput): Promise<void> {
  const input = { ...slashInput, text: slackCommandText(slashInput.text) };
  const patterns = deps.config.slack.allowedChannels;
  let channelName = input.channelName;
  if (needsNameLookup({ id: input.channelId, name: channelName }, patterns)) {
    // A private channel arrives as `privategroup`: its real name, from Slack itself.
    try {
      channelName = (await deps.out.channels.facts(input.channelId)).name ?? '';
    } catch (error) {
      deps.log.warn({ err: error, channel: input.channelId }, "could not read a private channel's name (conversations.info)");
      return input.reply(privateChannelUnreadableMessage(input.channelId, slackErrorCode(error)));
    }
  }
  if (!isChannelAllowed({ id: input.channelId, name: channelName }, patterns)) {
    return input.reply(channelRefusalMessage(channelName || input.channelId, patterns));
  }
  const tokens = tokenize(input.text);
  const name = (tokens[0] ?? 'help').toLowerCase();
  const command = findCommand(name);
  if (!command) return input.reply(unknownCommandMessage(name, COMMANDS));
  let args: unknown;
  try {
    args = command.parse(tokens.slice(1));
  } catch (error) {
    if (isRecoverError(error)) return input.reply(commandErrorMessage(error, command));
    throw error;
  }
  if (command.answer) {
    // The bot's own commands (help, status, cancel): answered here, from the control DB.
    return command.answer(botActions(deps, input), args);
  }
  if (command.home === 'runner') return startPlanning(deps, input, command, args as Record<string, unknown>);
  return input.reply(commandErrorMessage(new RecoverError('BAD_INPUT', `\`${command.name}\` is not available from Slack.`, { hint: 'Use the recover CLI for it.' })));
}

/** What the bot lends its own commands, for this slash command. */
function botActions(deps: CommandDeps, input: CommandInput): BotActions {
  return {
    showHelp: (about) => input.reply(helpMessage(COMMANDS, about)),
    listJobs: (options) => showJobs(deps, input, options),
    showJob: (jobId) => showJob(deps, input, jobId),
    cancelJob: (jobId) => cancelJob(deps, { jobId, userId: input.userId, channel: input.channelId, reply: input.reply }),
  };
}

async function startPlanning(deps: CommandDeps, input: CommandInput, command: RecoverCommand<unknown>, args: Record<string, unknown>): Promise<void> {
  const text = input.text.trim();
  const pool = deps.config.pool;
  // Post first: if Slack refuses (bot not in the channel), no orphan request is left behind.
  // Recorded and marked with a key of its own: a post Slack answers late is found, not made twice.
  const about = { key: `planning:${randomUUID()}`, kind: 'planning' };
  const ts = await deps.out.post(input.channelId, planningMessage({ commandText: text, requesterId: input.userId, pool }), undefined, about);
  try {
    const request = await createRequest(deps.control, { teamId: input.teamId, channelId: input.channelId, requesterId: input.userId, command: command.name, args, pool, needsDatabaseHost: command.runsOn?.(args) === 'database-host' });
    deps.typedText.set(request.id, text);
    await setRequestSlackRefs(deps.control, request.id, { channel: input.channelId, planTs: ts });
    deps.plans.watch({ requestId: request.id, channel: input.channelId, ts, commandText: text, requesterId: input.userId, pool, since: deps.clock.now().getTime() });
  } catch (error) {
    const failure = toRecoverError(error);
    deps.out.update(input.channelId, ts, notice(`:x: Could not file ${code(`/recover ${text}`)} for ${user(input.userId)}: ${failure.message}`));
    throw failure;
  }
}

async function showJobs(deps: CommandDeps, input: CommandInput, options: { all: boolean }): Promise<void> {
  const jobs = await listJobs(deps.control, { recentLimit: 10, ...(options.all ? {} : { pool: deps.config.pool }) });
  const rows: JobListRow[] = await Promise.all(
    jobs.map(async (job) => {
      const request = await getRequest(deps.control, job.requestId);
      return {
        jobId: job.id,
        status: job.status,
        createdAt: job.createdAt,
        finishedAt: job.finishedAt,
        command: request ? (deps.typedText.get(request.id) ?? request.command) : null,
        requesterId: request?.requesterId ?? null,
        view: deps.jobs.view(job.id),
      };
    }),
  );
  await input.reply(jobsListMessage(rows, options.all ? null : deps.config.pool));
}

/** `/recover status <job>`: the job's status message, for whoever asks (the one in the channel keeps updating). */
async function showJob(deps: CommandDeps, input: CommandInput, jobId: string): Promise<void> {
  const snapshot = await loadJobSnapshot(deps.control, jobId);
  if (!snapshot) return input.reply(notice(`There is no job ${code(jobId)}. \`/recover jobs\` lists job ids.`));
  const { job, request, plan, approvedBy, view, silence } = snapshot;
  const command = request ? (deps.typedText.get(request.id) ?? request.command) : '?';
  const meta: StatusMeta = { requestId: job.requestId, requesterId: request?.requesterId ?? '?', approvedBy, summary: plan?.summary ?? command, command, cancelRequestedBy: job.cancelRequestedBy, silence };
  await input.reply(statusMessage(view, meta, deps.clock.now()));
}

/** `/recover cancel <job>` and the status message's Cancel button: requester or an approver. */
export async function cancelJob(deps: FlowDeps, input: { jobId: string; userId: string; channel: string; reply: Reply }): Promise<void> {
  const job = await getJob(deps.control, input.jobId);
  if (!job) return input.reply(notice(`There is no job ${code(input.jobId)}. \`/recover jobs\` lists job ids.`));
  const request = await getRequest(deps.control, job.requestId);
  const allowed = request !== null && (input.userId === request.requesterId || (await deps.approvers.isApprover(request.teamId, input.userId)));
  if (!allowed) {
    const who = request ? `${user(request.requesterId)}, who asked for it,` : 'the requester';
    return input.reply(notice(`Only ${who} or a configured approver can cancel job ${code(shortId(job.id))}.`));
  }
  const { effect } = await requestCancel(deps.control, job.id, input.userId);
  if (effect === 'already-finished') return input.reply(notice(`Job ${code(shortId(job.id))} already ended (${job.status}); nothing to cancel.`));
  if (effect === 'already-requested') {
    return input.reply(notice(`Cancelling job ${code(shortId(job.id))} was already requested; the runner stops at the next safe point.`));
  }
  deps.jobs.cancelRequested(job.id, input.userId);
  const what = effect === 'cancelled'
    ? `cancelled job ${code(job.id)} before it started; nothing ran.`
    : `asked job ${code(job.id)} to stop; the runner stops at the next safe point and the status message will say when.`;
  await deps.out.post(job.slackRefs.channel ?? input.channel, notice(`:octagonal_sign: ${user(input.userId)} ${what}`));
}
