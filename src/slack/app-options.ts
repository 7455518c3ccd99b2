/**
 * Bolt `App` options from the Slack config: signed HTTP requests, or Socket Mode with an
 * app-level token; Web API calls to `apiUrl` when set (the stand-in); bounded retries, and
 * 429s handed back to us (`rejectRateLimitedCalls`) so the update scheduler can wait them
 * out without stalling every other call in the client's queue. Pure apart from the logger.
 */
import { LogLevel, type AppOptions, type Logger as BoltLogger } from '@slack/bolt';
import type { SlackConfig } from '../config.js';
import { RecoverError } from '../errors.js';
import type { Logger } from '../types.js';
import { FastAckReceiver } from './io/fast-ack-receiver.js';

/** Web API retries: a few quick ones for network blips, never Slack's default half hour. */
export const RETRY_CONFIG = { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 4000, randomize: true };
/**
 * chat.postMessage goes through a client without retries: after a timeout the client would
 * send the same post again although Slack may have made it (a late answer), which is how one
 * step reply was posted three times. io/posts-once.ts retries instead, looking first.
 */
export const NO_RETRY_CONFIG = { retries: 0 };
export const CALL_TIMEOUT_MS = 15_000;

const LEVELS: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

/** Bolt's logger interface over pino (whose hooks redact tokens in free text). */
export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  const text = (parts: unknown[]): string => parts.map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  let level = LEVELS[log.level] ?? LogLevel.INFO;
  return {
    debug: (...parts: unknown[]) => child.debug(text(parts)),
    info: (...parts: unknown[]) => child.info(text(parts)),
    warn: (...parts: unknown[]) => child.warn(text(parts)),
    error: (...parts: unknown[]) => child.error(text(parts)),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

function missing(name: string, why: string): RecoverError {
  return new RecoverError('CONFIG_INVALID', `Configuration is invalid: ${name} is required ${why}.`, {
    hint: 'Set it from the Slack app settings (Basic Information / OAuth & Permissions) and start again.',
  });
}

/** Web API client options; `callTimeoutMs` (default CALL_TIMEOUT_MS) is lowered by tests. */
export function clientOptionsOf(slack: SlackConfig, callTimeoutMs = CALL_TIMEOUT_MS) {
  return {
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl.endsWith('/') ? slack.apiUrl : `${slack.apiUrl}/` } : {}),
    retryConfig: RETRY_CONFIG,
    rejectRateLimitedCalls: true,
    timeout: callTimeoutMs,
  };
}

/** The client that posts messages: the same options, but no retries of its own. */
export function postingClientOptions(slack: SlackConfig, log: Logger, callTimeoutMs = CALL_TIMEOUT_MS) {
  return { ...clientOptionsOf(slack, callTimeoutMs), retryConfig: NO_RETRY_CONFIG, logger: boltLogger(log), logLevel: LEVELS[log.level] ?? LogLevel.INFO };
}

export function appOptions(slack: SlackConfig, log: Logger, callTimeoutMs = CALL_TIMEOUT_MS): AppOptions {
  if (!slack.botToken) throw missing('SLACK_BOT_TOKEN', 'to run the bot');
  const clientOptions = clientOptionsOf(slack, callTimeoutMs);
  const common: AppOptions = {
    token: slack.botToken,
    // auth.test runs in app.init(), awaited by the bot's start(): a bad token is a start-up
    // error, and the first request does not wait for it (Bolt would otherwise fire it
    // unawaited from the constructor and make the first event's authorize wait on it).
    deferInitialization: true,
    logger: boltLogger(log),
    logLevel: LEVELS[log.level] ?? LogLevel.INFO,
    clientOptions,
  };
  if (slack.socketMode) {
    if (!slack.appToken) throw missing('SLACK_APP_TOKEN', 'in Socket Mode (SLACK_SOCKET_MODE=true)');
    return { ...common, socketMode: true, appToken: slack.appToken, installerOptions: { clientOptions: { ...clientOptions } } };
  }
  if (!slack.signingSecret) throw missing('SLACK_SIGNING_SECRET', 'to verify requests over HTTP');
  return { ...common, receiver: new FastAckReceiver({ signingSecret: slack.signingSecret, log }) };
}
