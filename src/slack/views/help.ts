/** Help, refusals and error answers to `/recover` (all ephemeral). Pure. */
import type { RecoverCommand } from '../../../commands/index.js';
import { redactText } from '../../log.js';
import type { RecoverError } from '../../errors.js';
import { likelyLine, matchScenario } from '../../../commands/scenarios/table.js';
import { channelLink, code, context, escapeMrkdwn, fitMessage, header, section, sectionsFromLines, truncate, type SlackMessage } from './common.js';

export function helpMessage(commands: readonly RecoverCommand<unknown>[], about?: string): SlackMessage {
  const lines = commands.map(
    (c) => `*${code(`/recover ${c.usage}`)}*\n${c.description}\nExample: ${code(c.example)}`,
  );
  const likely = about ? matchScenario(about) : null;
  const first = likely ? [escapeMrkdwn(likelyLine(about!, likely)), ''] : about ? [`No scenario matches “${escapeMrkdwn(truncate(about, 200))}”; ${code('/recover scenarios')} lists them all.`, ''] : [];
  return fitMessage({
    text: likely ? likelyLine(about!, likely) : `/recover commands: ${commands.map((c) => c.name).join(', ')}`,
    blocks: [
      header('/recover — PostgreSQL disaster recovery'),
      ...sectionsFromLines(first),
      ...sectionsFromLines(lines.flatMap((line) => [line, ''])),
      context('Every run shows its plan first; commands that change anything need an approver other than the requester.'),
    ],
  });
}

/** Usage and a correct example, so a mistyped command can be fixed by copying. */
export function usageHint(command: RecoverCommand<unknown>): string {
  return `Usage: ${code(`/recover ${command.usage}`)}\nExample: ${code(command.example)}`;
}

/**
 * The answer to a command that could not run: the error's message and hint (which tell what
 * to do), plus usage and an example when the hint does not already show them.
 */
export function commandErrorMessage(error: RecoverError, command?: RecoverCommand<unknown>): SlackMessage {
  const message = redactText(error.message);
  const hint = error.hint ? redactText(error.hint) : '';
  const usage = command && !hint.includes(command.example) ? usageHint(command) : '';
  const lines = [`:x: ${message}`, hint, usage].filter(Boolean);
  return fitMessage({ text: `${error.message}${error.hint ? ` ${error.hint}` : ''}`, blocks: sectionsFromLines(lines, 3) });
}

export function unknownCommandMessage(name: string, commands: readonly RecoverCommand<unknown>[]): SlackMessage {
  const known = commands.map((c) => code(c.name)).join(', ');
  const text = `:x: There is no \`/recover\` subcommand ${code(truncate(name, 50))}.\nAvailable: ${known}.\nExample: ${code('/recover help')}`;
  return fitMessage({ text: `Unknown subcommand ${name}. Try /recover help.`, blocks: [section(text)] });
}

/** Why a channel was refused, and where the command works. */
export function channelRefusalMessage(channelName: string, patterns: readonly string[]): SlackMessage {
  const where = patterns.length
    ? patterns.map((p) => (/^[CGD][A-Z0-9]+$/.test(p) ? channelLink(p) : code(`#${p.replace(/^#/, '')}`))).join(', ')
    : 'nowhere (RECOVER_ALLOWED_CHANNELS is empty)';
  const text =
    `:no_entry: \`/recover\` is not enabled in ${code(`#${channelName}`)}.\n` +
    `It works only in: ${where}. Run it from the incident channel, e.g. one named ${code('inc-…')}.`;
  return fitMessage({ text: `/recover is not enabled in #${channelName}; allowed: ${patterns.join(', ')}`, blocks: [section(text)] });
}

/**
 * A private channel whose name Slack would not give the bot (conversations.info failed): its
 * name patterns cannot be checked, so the command is refused, saying how to fix it.
 */
export function privateChannelUnreadableMessage(channelId: string, slackCode: string | undefined): SlackMessage {
  const why = slackCode === 'missing_scope'
    ? 'the app lacks the `groups:read` scope: reinstall it from `manifest.yml`'
    : `Slack answered ${code(slackCode ?? 'no answer')} to conversations.info: invite the bot to this channel (${code('/invite @recover-bot')}) and run the command again`;
  const text =
    ':no_entry: `/recover` cannot tell whether this private channel is allowed: Slack names it only by its id here, and its name could not be read.\n' +
    `Fix: ${why}; or allow the channel by its id in RECOVER_ALLOWED_CHANNELS (${code(channelId)}).`;
  return fitMessage({ text: `/recover: cannot read this private channel's name (${slackCode ?? 'no answer'})`, blocks: [section(text)] });
}

/** A failure in the bot itself, shown to whoever triggered it. */
export function failureMessage(what: string, error: RecoverError): SlackMessage {
  const detail = redactText(error.forChannel());
  return fitMessage({
    text: `${what} failed: ${redactText(error.message)}`,
    blocks: [section(`:warning: ${what} failed.\n${detail}`)],
  });
}

/** A short message: mrkdwn formatting is kept, anything quoted is escaped by section() like every text (mentions only from user()). */
export function notice(text: string): SlackMessage {
  return fitMessage({ text: text.replace(/[*_`]/g, ''), blocks: [section(text)] });
}
