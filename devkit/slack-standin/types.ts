/**
 * Shared shapes of the Slack stand-in. Times come from an injectable Clock so trigger expiry,
 * response_url expiry and rate budgets can be tested without sleeping.
 */
import type { Clock } from '../../src/types.js';

export type { Clock };

export type Json = Record<string, unknown>;
export type Block = Json;

export interface StandInUser {
  id: string;
  name: string;
  realName?: string;
  isAdmin?: boolean;
  isOwner?: boolean;
  isBot?: boolean;
  deleted?: boolean;
  tz?: string;
}

export interface StandInChannel {
  id: string;
  name: string;
  isPrivate?: boolean;
  isArchived?: boolean;
  /** Defaults to true; false makes chat.postMessage answer `not_in_channel`. */
  botIsMember?: boolean;
}

/** A sliding-window budget: more than `limit` calls within `windowSeconds` answer HTTP 429. */
export interface RateBudget {
  limit: number;
  windowSeconds: number;
  /** Slack keys most limits per workspace; chat.postMessage is keyed per channel. */
  per: 'workspace' | 'channel';
}

/** Minimal logger so tests need nothing and the demo can pass pino. */
export interface StandInLog {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface SlackStandInOptions {
  /** 0 (default) picks a free port. The server only ever listens on 127.0.0.1. */
  port?: number;
  botToken: string;
  signingSecret: string;
  /** App-level token (xapp-); setting it enables Socket Mode. */
  appToken?: string;
  /** Where slash commands and interactions are POSTed (Bolt's `/slack/events`). */
  botUrl?: string;
  teamId?: string;
  teamDomain?: string;
  appId?: string;
  botUserId?: string;
  botId?: string;
  botName?: string;
  users?: StandInUser[];
  /** Usergroup id → member user ids. */
  usergroups?: Record<string, string[]>;
  channels?: StandInChannel[];
  /** Granted bot scopes; defaults to every scope the supported methods need. */
  scopes?: string[];
  /** Automatic per-method budgets (see `REALISTIC_BUDGETS`); none by default. */
  budgets?: Record<string, RateBudget>;
  clock?: Clock;
  log?: StandInLog;
  /** Largest file files.getUploadURLExternal takes (Slack: 1 GB). */
  maxUploadBytes?: number;
  /** Slack gives up on an ack after 3 s; only raise this to debug a slow machine. */
  ackTimeoutMs?: number;
}

export interface WebApiResult {
  status: number;
  headers: Record<string, string>;
  body: Json;
}

export interface RecordedCall {
  at: Date;
  method: string;
  /** Every parameter received except the token. */
  params: Json;
  status: number;
  ok: boolean;
  error?: string;
}

export interface UnknownCall {
  call: RecordedCall;
  reason: 'unknown_method' | 'unknown_params';
  unknownParams: string[];
}

export const DEFAULT_ACK_TIMEOUT_MS = 3000;
