/**
 * Thin Bolt listeners. Each one acks at once (empty ack; nothing slow before it) and hands
 * the work to a background task whose failure is shown to the person who acted. A global
 * middleware drops repeated deliveries of the same slash command or click (same trigger_id):
 * an in-memory set answers repeats seen by this process at once, and the control DB
 * (firstSeenRequest) decides for everything else, so a restarted bot or a second instance
 * does not act on a replayed signed request either.
 */
import type { App, BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import { firstSeenRequest, getRequest } from '../../control/index.js';
import { RecoverError } from '../../errors.js';
import { ACTIONS, CONFIRM_BLOCK, CONFIRM_INPUT, CONFIRM_VIEW, shownDigest, type SlackMessage } from '../views/common.js';
import { confirmationError, parseConfirmMetadata } from '../views/approval.js';
import { failureMessage } from '../views/help.js';
import { confirmed, requestApproval, vote, type Reply } from '../flows/approval-flow.js';
import { cancelJob, runSlashCommand, type CommandDeps } from './commands.js';
import { RecentKeys, requestKey } from './guards.js';

/**
 * A private answer to whoever acted. Slash commands answer through their response_url (which
 * works even where the bot is not a member), clicks with chat.postEphemeral; each falls back
 * to the other.
 */
function privateReply(deps: CommandDeps, respond: RespondFn, channel: string, userId: string, viaResponseUrl: boolean): Reply {
  const viaUrl = async (message: SlackMessage): Promise<boolean> => {
    try {
      await respond({ response_type: 'ephemeral', replace_original: false, text: message.text, blocks: message.blocks as never });
      return true;
    } catch (error) {
      deps.log.warn({ err: error }, 'could not answer through response_url');
      return false;
    }
  };
  const viaApi = (message: SlackMessage): Promise<boolean> => deps.out.ephemeral(channel, userId, message);
  return async (message) => {
    const [first, second] = viaResponseUrl ? [viaUrl, viaApi] : [viaApi, viaUrl];
    if (!(await first(message)) && !(await second(message))) deps.log.error({ channel, userId }, `no way to tell ${userId}: ${message.text}`);
  };
}

/** For failures before any listener runs: an ephemeral where there is a channel, a modal error otherwise. */
async function tellWhoActed(
  deps: CommandDeps,
  body: unknown,
  ack: ((response?: unknown) => Promise<void>) | undefined,
  error: RecoverError,
): Promise<void> {
  const b = body as { type?: string; user_id?: string; channel_id?: string; user?: { id?: string }; channel?: { id?: string } };
  if (b.type === 'view_submission') {
    if (ack) await ack({ response_action: 'errors', errors: { [CONFIRM_BLOCK]: `${error.message} ${error.hint ?? ''}`.trim() } });
    return;
  }
  if (ack) await ack();
  const userId = b.user_id ?? b.user?.id;
  const channel = b.channel_id ?? b.channel?.id;
  if (!userId || !channel || !(await deps.out.ephemeral(channel, userId, failureMessage('Your request', error)))) {
    deps.log.error({ userId, channel }, `no way to tell who acted: ${error.message}`);
  }
}

/** The slash command the bot answers (manifest.yml's `- command:` must match it). */
export const SLASH_COMMAND = /^\/recover/;

const failed = (reply: Reply, what: string) => (error: RecoverError): Promise<void> => reply(failureMessage(what, error));

export function registerHandlers(app: App, deps: CommandDeps): void {
  const recent = new RecentKeys();
  app.use(async (args) => {
    const key = requestKey(args.body);
    if (key) {
      const { ack } = args as unknown as { ack?: (response?: unknown) => Promise<void> };
      let first: boolean;
      try {
        first = recent.firstTime(key) && (await firstSeenRequest(deps.control, key));
      } catch (error) {
        // Fail closed: without the shared record a replayed request could act twice.
        const failure = new RecoverError('INTERNAL', 'recover-bot could not reach its control DB to check this request, so it did nothing.', {
          hint: 'Try again in a minute. If it keeps failing, check the control DB (RECOVER_CONTROL_URL) and the bot log.',
          cause: error,
        });
        deps.log.error({ err: error }, failure.message);
        await tellWhoActed(deps, args.body, ack, failure);
        return;
      }
      if (!first) {
        deps.log.warn({ type: (args.body as { type?: string }).type }, 'ignored a repeated Slack request (same trigger_id)');
        if (ack) await ack();
        return;
      }
    }
    await args.next();
  });

  app.command(SLASH_COMMAND, async ({ ack, command, respond }) => {
    await ack();
    const reply = privateReply(deps, respond, command.channel_id, command.user_id, true);
    const input = {
      teamId: command.team_id,
      channelId: command.channel_id,
      channelName: command.channel_name,
      userId: command.user_id,
      text: command.text ?? '',
      reply,
    };
    deps.tasks.run('/recover', () => runSlashCommand(deps, input), failed(reply, `\`/recover ${input.text.slice(0, 100)}\``));
  });

  /** Registers a button: ack, then `work` with the clicked value, user and a way to answer them. */
  type Click = { value: string; userId: string; channel: string; triggerId: string; reply: Reply; shownDigest: string | undefined };
  const button = (actionId: string, what: string, work: (click: Click) => Promise<void>) => {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      const channel = body.channel?.id ?? body.container?.channel_id ?? '';
      const userId = body.user.id;
      const reply = privateReply(deps, respond, channel, userId, false);
      const input: Click = { value: action.value ?? '', userId, channel, triggerId: body.trigger_id, reply, shownDigest: shownDigest(action.block_id) };
      deps.tasks.run(what, () => work(input), failed(reply, what));
    });
  };

  const request = (v: Click) => ({ requestId: v.value, userId: v.userId, reply: v.reply, shownDigest: v.shownDigest });
  button(ACTIONS.requestApproval, 'Requesting approval', (v) => requestApproval(deps, { ...request(v), triggerId: v.triggerId }));
  button(ACTIONS.cancelRequest, 'Cancelling the request', (v) => vote(deps, { ...request(v), decision: 'reject', cancel: true }));
  button(ACTIONS.approve, 'Approving', (v) => vote(deps, { ...request(v), decision: 'approve' }));
  button(ACTIONS.reject, 'Rejecting', (v) => vote(deps, { ...request(v), decision: 'reject' }));
  button(ACTIONS.cancelJob, 'Cancelling the job', (v) => cancelJob(deps, { jobId: v.value, userId: v.userId, channel: v.channel, reply: v.reply }));

  app.view(CONFIRM_VIEW, async ({ ack, view, body }) => {
    const meta = parseConfirmMetadata(view.private_metadata);
    const typed = view.state.values[CONFIRM_BLOCK]?.[CONFIRM_INPUT]?.value ?? '';
    if (!meta) return ack({ response_action: 'errors', errors: { [CONFIRM_BLOCK]: 'This dialog is out of date; close it and click Request approval again.' } });
    if (typed.trim() !== meta.expect) return ack({ response_action: 'errors', errors: { [CONFIRM_BLOCK]: confirmationError(meta.expect) } });
    await ack();
    const userId = body.user.id;
    const reply: Reply = async (message) => {
      const request = await getRequest(deps.control, meta.requestId);
      const channel = request?.slackRefs.channel ?? request?.channelId;
      if (!channel || !(await deps.out.ephemeral(channel, userId, message))) deps.log.error({ requestId: meta.requestId }, `no way to tell ${userId}: ${message.text}`);
    };
    deps.tasks.run('Requesting approval', () => confirmed(deps, { requestId: meta.requestId, digest: meta.digest, userId, reply }), failed(reply, 'Requesting approval'));
  });
}
