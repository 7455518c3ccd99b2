/**
 * The words of `/recover pitr …` and `recover pitr …`: one schema, one parser; the CLI also
 * takes --port, --json and --dry-run, which Slack refuses as CLI-only.
 */
import { z } from 'zod';
import { describeTarget } from '../src/catalog/select-restore.js';
import { exactTargetTime, isTargetXid, parseTarget, timeTarget } from '../src/catalog/targets.js';
import { RecoverError } from '../src/errors.js';
import { compactUtcStamp } from '../src/util/time.js';
import { formatLsn, parseLsn } from '../src/catalog/segments.js';
import type { RecoveryTarget } from '../src/types.js';
import type { CliOptions } from './types.js';
import { parseFlags } from './words.js';
import { databaseName, exactTime } from './schemas.js';


/** A recovery target in JSON form (plans are stored and hashed as JSON). */
export const targetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('time'), time: exactTime }),
  z.object({ kind: z.literal('xid'), xid: z.string().regex(/^\d{1,20}$/).refine(isTargetXid, 'a transaction ID recovery can stop at') }),
  z.object({ kind: z.literal('lsn'), lsn: z.string().regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/) }),
  z.object({ kind: z.literal('name'), name: z.string().regex(/^[\w.:@-]{1,63}$/) }),
  z.object({ kind: z.literal('immediate') }),
  z.object({ kind: z.literal('latest') }),
]);


/**
 * A side instance name: one path component under the restore root. No `.`/`..`, nothing
 * hidden, no separators: it starts with a letter or digit, then letters, digits, - or _.
 */
export const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const instanceName = z.string().regex(INSTANCE_NAME, 'an instance name: a letter or digit, then letters, digits, - or _, up to 63 (no dots or slashes)');

const PORT_RULE = 'a TCP port number from 1024 to 65535';
const port = z.number({ error: PORT_RULE }).int(PORT_RULE).min(1024, PORT_RULE).max(65535, PORT_RULE);

export const pitrSchema = z.object({
  target: targetSchema,
  inclusive: z.boolean(),
  action: z.enum(['promote', 'pause']),
  to: z.enum(['side', 'in-place']),
  /** Databases to verify; stored requests from before lists were allowed hold one string. */
  db: z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(databaseName).min(1).max(32)).optional(),
  backupId: z.string().regex(/^[\w.-]{1,64}$/).optional(),
  /** Side instance name; generated (unique per request) when not given. */
  instance: instanceName.optional(),
});
export type PitrArgs = z.infer<typeof pitrSchema>;

/** What only the CLI adds: where the side instance listens, and how to print. */
const cliSchema = pitrSchema.extend({ port: port.optional(), json: z.boolean(), dryRun: z.boolean(), confirm: z.string().min(1).max(200).optional() });
export type PitrCliArgs = z.infer<typeof cliSchema>;

export function targetFromArgs(target: PitrArgs['target']): RecoveryTarget {
  switch (target.kind) {
    case 'time':
      return timeTarget(target.time);
    case 'lsn':
      return { kind: 'lsn', lsn: parseLsn(target.lsn) };
    default:
      return target;
  }
}

function targetToArgs(target: RecoveryTarget): PitrArgs['target'] {
  switch (target.kind) {
    case 'time':
      return { kind: 'time', time: exactTargetTime(target).text };
    case 'lsn':
      return { kind: 'lsn', lsn: formatLsn(target.lsn) };
    default:
      return target;
  }
}

const VALUE_FLAGS = ['to', 'xid', 'before-xid', 'lsn', 'name', 'action', 'backup', 'at', 'instance', 'port', 'confirm'] as const;
const LIST_FLAGS = ['db'] as const;
/** Flags that only make sense in a terminal on the runner's host. */
const CLI_ONLY_FLAGS = new Set<string>(['port', 'json', 'dry-run', 'confirm']);
const KNOWN_FLAGS = new Set<string>([...VALUE_FLAGS, ...LIST_FLAGS, 'immediate', 'latest', 'inclusive', 'exclusive'].filter((flag) => !CLI_ONLY_FLAGS.has(flag)));
export const PITR_USAGE = 'pitr <time with offset> [--db NAME…] [--to side|in-place] [--instance NAME]   (or --before-xid N | --xid N | --lsn X/Y | --name POINT | --immediate | --latest)';
export const PITR_EXAMPLE = '/recover pitr 2025-01-15T14:29:59+00:00 --db aiagent_prod';
const FLAG_OF: Record<string, string> = { db: '--db', backupId: '--backup', instance: '--instance', port: '--port', confirm: '--confirm', to: '--to', action: '--action', target: 'target' };

/** A target as plans show it: an exclusive xid target is "just before transaction N", so nobody approves the opposite. */
export function describeArgsTarget(target: RecoveryTarget, inclusive: boolean): string {
  const text = describeTarget(target);
  if (inclusive || target.kind === 'immediate' || target.kind === 'name' || target.kind === 'latest') return text;
  return target.kind === 'xid' ? `just before ${text} (its changes not replayed)` : `${text} (exclusive)`;
}

/** The target words --before-xid cannot be combined with (each is a target of its own). */
const OTHER_TARGET_FLAGS = ['xid', 'lsn', 'name', 'immediate', 'latest'] as const;

/**
 * `--before-xid N`: restore to just before transaction N, i.e. `recovery_target_xid = N` with
 * `recovery_target_inclusive = false` (N's changes are not replayed; transactions that
 * committed before N's commit are). N is a top-level xid as `/recover locate` prints it. Shared
 * by every command that restores to a target: give it the parsed flags, whether a positional
 * time was given, and the usage hint; null when --before-xid is absent. Refuses another target
 * beside it and --inclusive (which would replay N, the opposite of "before").
 */
export function parseBeforeXid(flags: Record<string, string | true>, positionalTime: boolean, hint: string): { target: RecoveryTarget & { kind: 'xid' }; inclusive: false } | null {
  const value = flags['before-xid'];
  if (value === undefined) return null;
  if (value === true) throw new RecoverError('BAD_INPUT', '--before-xid needs a transaction ID.', { hint });
  const others = [...(positionalTime ? ['a time'] : []), ...OTHER_TARGET_FLAGS.filter((flag) => flags[flag] !== undefined).map((flag) => `--${flag}`)];
  if (others.length > 0) {
    throw new RecoverError('TARGET_CONFLICT', `--before-xid is a recovery target of its own; it cannot be combined with ${others.join(' and ')}.`, { hint });
  }
  if (flags.inclusive !== undefined) {
    throw new RecoverError('TARGET_CONFLICT', '--before-xid restores to just before the transaction (exclusive); it cannot be combined with --inclusive.', { hint: `Use --xid ${/^\d+$/.test(value) ? value : 'N'} --inclusive to restore just after it instead.` });
  }
  // 0-2 are PostgreSQL's invalid, bootstrap and frozen xids: never a transaction to stop before (isTargetXid).
  if (!isTargetXid(value)) {
    throw new RecoverError('BAD_INPUT', `"${value}" is not a transaction ID.`, { hint: 'Give the numeric xid that /recover locate printed, e.g. --before-xid 73519.' });
  }
  return { target: { kind: 'xid', xid: value }, inclusive: false };
}

/**
 * The target of the commands that restore a side copy (rows, table, database): `--at TIME`
 * (inclusive) or `--before-xid N` (exclusive), exactly one; `missing` says what to give instead.
 */
export function parseAtOrBeforeXid(
  flags: Record<string, string | true>,
  atWords: string[],
  hint: string,
  missing: string,
): { target: { kind: 'time'; time: string } | { kind: 'xid'; xid: string }; inclusive: boolean } {
  const before = parseBeforeXid(flags, atWords.length > 0, hint);
  if (before) return { target: { kind: 'xid', xid: before.target.xid }, inclusive: false };
  if (atWords.length === 0) throw new RecoverError('BAD_INPUT', missing, { hint });
  const parsed = parseTarget({ at: atWords.join(' ') });
  if (parsed.kind !== 'time') throw new RecoverError('BAD_INPUT', '--at takes a time with an offset.', { hint });
  return { target: { kind: 'time', time: exactTargetTime(parsed).text }, inclusive: true };
}

/** Side instance names: `pitr-<UTC second>-<id>`; the id makes two jobs in the same second differ. */
export function sideInstanceName(now: Date, id: string): string {
  return `pitr-${compactUtcStamp(now)}-${id.replace(/[^A-Za-z0-9]/g, '').slice(0, 8).toLowerCase()}`;
}

/**
 * The words after `pitr`, the same in Slack (`/recover pitr …`) and the CLI (`recover pitr …`),
 * validated by one schema. The CLI also takes --port, --json, --dry-run and --confirm.
 */
export function parseWords(tokens: string[], surface: 'slack' | 'cli'): PitrCliArgs {
  const usage = `Usage: ${surface === 'cli' ? 'recover' : '/recover'} ${PITR_USAGE}\nExample: ${surface === 'cli' ? PITR_EXAMPLE.slice(1) : PITR_EXAMPLE}`;
  const { positional, flags, lists } = parseFlags(tokens, VALUE_FLAGS, LIST_FLAGS);
  const known = (flag: string) => KNOWN_FLAGS.has(flag) || (surface === 'cli' && CLI_ONLY_FLAGS.has(flag));
  const unknown = Object.keys(flags).filter((flag) => !known(flag));
  if (unknown.length > 0) {
    const cliOnly = unknown.filter((flag) => CLI_ONLY_FLAGS.has(flag));
    throw new RecoverError('BAD_INPUT', `Unknown option ${unknown.map((f) => `--${f}`).join(', ')}${cliOnly.length === unknown.length ? ' (only the recover CLI takes it)' : ''}.`, { hint: usage });
  }
  // A value flag with no value (`--port` at the end) is refused, never read as "not given".
  const valueless = VALUE_FLAGS.filter((flag) => flags[flag] === true);
  if (valueless.length > 0) throw new RecoverError('BAD_INPUT', `${valueless.map((f) => `--${f}`).join(', ')} needs a value.`, { hint: usage });
  // "2025-01-15 14:29:59+00:00" arrives as two words: join a date with the time after it.
  const words = [...(typeof flags.at === 'string' ? [flags.at] : []), ...positional];
  const at = words.length > 0 ? words.join(' ') : undefined;
  const before = parseBeforeXid(flags, at !== undefined, usage);
  const target = before ? before.target : parseTarget({
    ...(at !== undefined ? { at } : {}),
    ...(typeof flags.xid === 'string' ? { xid: flags.xid } : {}),
    ...(typeof flags.lsn === 'string' ? { lsn: flags.lsn } : {}),
    ...(typeof flags.name === 'string' ? { name: flags.name } : {}),
    ...(flags.immediate ? { immediate: true } : {}),
    ...(flags.latest ? { latest: true } : {}),
  });
  if (flags.inclusive && flags.exclusive) throw new RecoverError('TARGET_CONFLICT', 'Give --inclusive or --exclusive, not both.', { hint: usage });
  const portText = flags.port;
  const parsed = cliSchema.safeParse({
    target: targetToArgs(target),
    inclusive: before ? false : !flags.exclusive,
    action: flags.action ?? 'promote',
    to: flags.to ?? 'side',
    ...(lists.db !== undefined ? { db: lists.db } : {}),
    ...(flags.backup !== undefined ? { backupId: flags.backup } : {}),
    ...(flags.instance !== undefined ? { instance: flags.instance } : {}),
    // Digits only: "1e4", " 80" or "0x50" are not ports, and Number() would accept them.
    ...(typeof portText === 'string' ? { port: /^\d{1,5}$/.test(portText) ? Number(portText) : portText } : {}),
    json: flags.json === true,
    dryRun: flags['dry-run'] === true,
    ...(typeof flags.confirm === 'string' ? { confirm: flags.confirm } : {}),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${FLAG_OF[String(issue.path[0])] ?? issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new RecoverError('BAD_INPUT', `Cannot use these options: ${problems}.`, { hint: usage });
  }
  if (parsed.data.instance !== undefined && parsed.data.to === 'in-place') {
    throw new RecoverError('BAD_INPUT', '--instance names a side instance; it does not go with --to in-place.', { hint: usage });
  }
  if (parsed.data.port !== undefined && parsed.data.to === 'in-place') {
    throw new RecoverError('BAD_INPUT', '--port is for a side instance; in place, production keeps its own port.', { hint: usage });
  }
  return parsed.data;
}

/** `recover pitr …` in a terminal: the Slack words plus --port, --json, --dry-run and --confirm. */
export function parsePitrCli(tokens: string[]): PitrCliArgs {
  return parseWords(tokens, 'cli');
}

/** The Slack words alone, or the CLI's split into args and CLI-only options. */
export function pitrArgs(tokens: string[]): PitrArgs {
  const { port: _port, json: _json, dryRun: _dryRun, confirm: _confirm, ...args } = parseWords(tokens, 'slack');
  return args;
}

export function pitrCliArgs(tokens: string[]): { args: PitrArgs; cli: CliOptions } {
  const { port, json, dryRun, confirm, ...args } = parseWords(tokens, 'cli');
  return { args, cli: { json, dryRun, ...(port !== undefined ? { port } : {}), ...(confirm !== undefined ? { confirm } : {}) } };
}

