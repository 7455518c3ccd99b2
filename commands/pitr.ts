import { z } from 'zod';
import { describeTarget, selectRestore } from '../src/catalog/select-restore.js';
import { selectPitr } from '../src/engine/pitr-plan.js';
import { exactTargetTime, parseTarget, parseTargetTime, timeTarget } from '../src/catalog/targets.js';
import { RecoverError } from '../src/errors.js';
import { formatLsn, parseLsn } from '../src/catalog/segments.js';
import type { Plan, RecoveryTarget, Step } from '../src/types.js';
import { parseFlags, type RecoverCommand } from './types.js';

/** A time target's exact text (microseconds and offset kept); parsed again wherever it is used. */
const exactTime = z.string().max(64).refine((text) => {
  try {
    parseTargetTime(text);
    return true;
  } catch {
    return false;
  }
}, 'a time with an explicit offset and at most 6 fractional digits');

/** A recovery target in JSON form (plans are stored and hashed as JSON). */
const targetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('time'), time: exactTime }),
  z.object({ kind: z.literal('xid'), xid: z.string().regex(/^\d{1,20}$/) }),
  z.object({ kind: z.literal('lsn'), lsn: z.string().regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/) }),
  z.object({ kind: z.literal('name'), name: z.string().regex(/^[\w.:@-]{1,63}$/) }),
  z.object({ kind: z.literal('immediate') }),
  z.object({ kind: z.literal('latest') }),
]);

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a database name: letters, digits, _ or $, up to 63');

/**
 * A side instance name: one path component under the restore root. No `.`/`..`, nothing
 * hidden, no separators: it starts with a letter or digit, then letters, digits, - or _.
 */
export const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const instanceName = z.string().regex(INSTANCE_NAME, 'an instance name: a letter or digit, then letters, digits, - or _, up to 63 (no dots or slashes)');

const PORT_RULE = 'a TCP port number from 1024 to 65535';
const port = z.number({ error: PORT_RULE }).int(PORT_RULE).min(1024, PORT_RULE).max(65535, PORT_RULE);

const schema = z.object({
  target: targetSchema,
  inclusive: z.boolean(),
  action: z.enum(['promote', 'pause']),
  to: z.enum(['side', 'in-place']),
  /** Databases to verify; stored requests from before lists were allowed hold one string. */
  db: z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(identifier).min(1).max(32)).optional(),
  backupId: z.string().regex(/^[\w.-]{1,64}$/).optional(),
  /** Side instance name; generated (unique per request) when not given. */
  instance: instanceName.optional(),
});
export type PitrArgs = z.infer<typeof schema>;

/** What only the CLI adds: where the side instance listens, and how to print. */
const cliSchema = schema.extend({ port: port.optional(), json: z.boolean(), dryRun: z.boolean() });
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

const VALUE_FLAGS = ['to', 'xid', 'lsn', 'name', 'action', 'backup', 'at', 'instance', 'port'] as const;
const LIST_FLAGS = ['db'] as const;
/** Flags that only make sense in a terminal on the runner's host. */
const CLI_ONLY_FLAGS = new Set<string>(['port', 'json', 'dry-run']);
const KNOWN_FLAGS = new Set<string>([...VALUE_FLAGS, ...LIST_FLAGS, 'immediate', 'latest', 'inclusive', 'exclusive'].filter((flag) => !CLI_ONLY_FLAGS.has(flag)));
const EXAMPLE = '/recover pitr 2025-01-15T14:29:59+00:00 --db aiagent_prod';
const FLAG_OF: Record<string, string> = { db: '--db', backupId: '--backup', instance: '--instance', port: '--port', to: '--to', action: '--action', target: 'target' };

/** Side instance names: `pitr-<UTC second>-<id>`; the id makes two jobs in the same second differ. */
export function sideInstanceName(now: Date, id: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `pitr-${stamp}-${id.replace(/[^A-Za-z0-9]/g, '').slice(0, 8).toLowerCase()}`;
}

/**
 * The words after `pitr`, the same in Slack (`/recover pitr …`) and the CLI (`recover pitr …`),
 * validated by one schema. The CLI also takes --port, --json and --dry-run.
 */
function parseWords(tokens: string[], surface: 'slack' | 'cli'): PitrCliArgs {
  const usage = `Usage: ${surface === 'cli' ? 'recover' : '/recover'} ${pitr.usage}\nExample: ${surface === 'cli' ? EXAMPLE.slice(1) : EXAMPLE}`;
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
  const target = parseTarget({
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
    inclusive: !flags.exclusive,
    action: flags.action ?? 'promote',
    to: flags.to ?? 'side',
    ...(lists.db !== undefined ? { db: lists.db } : {}),
    ...(flags.backup !== undefined ? { backupId: flags.backup } : {}),
    ...(flags.instance !== undefined ? { instance: flags.instance } : {}),
    // Digits only: "1e4", " 80" or "0x50" are not ports, and Number() would accept them.
    ...(typeof portText === 'string' ? { port: /^\d{1,5}$/.test(portText) ? Number(portText) : portText } : {}),
    json: flags.json === true,
    dryRun: flags['dry-run'] === true,
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

/** `recover pitr …` in a terminal: the Slack words plus --port, --json and --dry-run. */
export function parsePitrCli(tokens: string[]): PitrCliArgs {
  return parseWords(tokens, 'cli');
}

/** Seconds, roughly: download at ~80 MB/s, replay at ~100 MB/s of WAL, plus start-up. */
export function estimateSeconds(baseBytes: number, walBytes: number): { base: number; replay: number } {
  return { base: Math.ceil(baseBytes / 80e6) + 2, replay: Math.ceil(walBytes / 100e6) + 5 };
}

export const pitr: RecoverCommand<PitrArgs> = {
  name: 'pitr',
  usage: 'pitr <time with offset> [--db NAME…] [--to side|in-place] [--instance NAME]   (or --xid N | --lsn X/Y | --name POINT | --immediate | --latest)',
  example: EXAMPLE,
  description: 'Point-in-time recovery from the base backup and WAL archive; to a side instance unless --to in-place.',
  home: 'runner',
  schema,
  parse(tokens) {
    const { port: _port, json: _json, dryRun: _dryRun, ...args } = parseWords(tokens, 'slack');
    return args;
  },
  async precheck(ctx, args, facts) {
    // A time target needing the very end of the usable WAL (or cut off by a gap) restores only
    // if a transaction ends after it there; archive times cannot tell, the WAL itself can
    // (engine/pitr-plan.ts), and the refusal then names a time that really restores.
    await selectPitr(ctx.engine, facts.catalog, { target: targetFromArgs(args.target), inclusive: args.inclusive, ...(args.backupId ? { backupId: args.backupId } : {}) }, ctx.pg);
  },
  risk: (args) => (args.to === 'in-place' ? 'destructive' : 'side-copy'),
  confirmation: (args, facts) => (args.to === 'in-place' ? facts.production.name : null),
  plan(args, facts): Plan {
    const target = targetFromArgs(args.target);
    const selection = selectRestore(facts.catalog, target, args.backupId ? { backupId: args.backupId } : {});
    const baseBytes = selection.backup.files.reduce((sum, file) => sum + file.bytes, 0);
    const estimate = estimateSeconds(baseBytes, selection.walBytes);
    const inPlace = args.to === 'in-place';
    const instanceName = args.instance ?? sideInstanceName(facts.now, facts.requestId);
    if (!inPlace && facts.instancesInUse.includes(instanceName)) {
      throw new RecoverError('INSTANCE_EXISTS', `A side instance named ${instanceName} already exists under the restore root.`, {
        hint: args.instance ? 'Choose another --instance name, or leave it out to get a new unique one.' : 'Run the command again for a new name.',
      });
    }
    const where = inPlace ? `production ${facts.production.name} (in place; old data directory kept)` : `new side instance ${instanceName}`;
    const steps: Step[] = [
      { kind: 'select', title: `Check backup ${selection.backup.id} and ${selection.requiredSegments.length} WAL segments in storage`, params: {}, destructive: false, estimateSeconds: 2 },
      ...(inPlace
        ? [
            { kind: 'stop-production', title: `Stop production ${facts.production.name}`, params: {}, destructive: true, estimateSeconds: 10 },
            { kind: 'move-aside', title: 'Move the current data directory aside (kept, not deleted)', params: {}, destructive: true, estimateSeconds: 1 },
          ]
        : []),
      { kind: 'restore-base-backup', title: `Restore base backup ${selection.backup.id} into ${inPlace ? 'the production data directory' : instanceName}`, params: {}, destructive: inPlace, estimateSeconds: estimate.base },
      { kind: 'configure-recovery', title: `Configure recovery to ${describeTarget(target)}`, params: {}, destructive: false, estimateSeconds: 1 },
      { kind: 'replay-wal', title: `Replay ${selection.requiredSegments.length} WAL segments, then ${args.action}`, params: {}, destructive: inPlace, estimateSeconds: estimate.replay },
      { kind: 'verify', title: `Verify ${args.db?.join(', ') ?? 'all databases'}: connection, row counts, newest rows`, params: {}, destructive: false, estimateSeconds: 5 },
    ];
    return {
      command: 'pitr',
      summary: `Point-in-time recovery to ${describeTarget(target)} into ${where}`,
      risk: this.risk(args),
      steps,
      facts: {
        Target: describeTarget(target),
        'Base backup': `${selection.backup.id} (consistent at ${selection.backup.stopTime}, timeline ${selection.backup.timeline}, ${(baseBytes / 1e6).toFixed(1)} MB)`,
        WAL: `${selection.requiredSegments.length} segments ${selection.requiredSegments[0]} … ${selection.requiredSegments.at(-1)} (${(selection.walBytes / 1e6).toFixed(0)} MB), timeline ${selection.timeline}`,
        'Restorable window': `${selection.window.earliest ?? '?'} … ${selection.window.latest ?? '?'}`,
        'Restores to': where,
      },
      params: {
        backupId: selection.backup.id,
        target: args.target,
        inclusive: args.inclusive,
        action: args.action,
        to: args.to,
        instanceName: inPlace ? null : instanceName,
        databases: args.db ?? null,
      },
    };
  },
};
