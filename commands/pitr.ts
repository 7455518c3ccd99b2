import { z } from 'zod';
import { describeTarget, selectRestore } from '../src/engine/select-restore.js';
import { parseTarget } from '../src/engine/targets.js';
import { RecoverError } from '../src/errors.js';
import { formatLsn, parseLsn } from '../src/wal/segments.js';
import type { Plan, RecoveryTarget, Step } from '../src/types.js';
import { parseFlags, type RecoverCommand } from './types.js';

/** A recovery target in JSON form (plans are stored and hashed as JSON). */
const targetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('time'), time: z.iso.datetime({ offset: true }) }),
  z.object({ kind: z.literal('xid'), xid: z.string().regex(/^\d{1,20}$/) }),
  z.object({ kind: z.literal('lsn'), lsn: z.string().regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/) }),
  z.object({ kind: z.literal('name'), name: z.string().regex(/^[\w.:@-]{1,63}$/) }),
  z.object({ kind: z.literal('immediate') }),
  z.object({ kind: z.literal('latest') }),
]);

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a database name: letters, digits, _ or $, up to 63');

const schema = z.object({
  target: targetSchema,
  inclusive: z.boolean(),
  action: z.enum(['promote', 'pause']),
  to: z.enum(['side', 'in-place']),
  db: identifier.optional(),
  backupId: z.string().regex(/^[\w.-]{1,64}$/).optional(),
});
export type PitrArgs = z.infer<typeof schema>;

export function targetFromArgs(target: PitrArgs['target']): RecoveryTarget {
  switch (target.kind) {
    case 'time':
      return { kind: 'time', time: new Date(target.time), raw: target.time };
    case 'lsn':
      return { kind: 'lsn', lsn: parseLsn(target.lsn) };
    default:
      return target;
  }
}

function targetToArgs(target: RecoveryTarget): PitrArgs['target'] {
  switch (target.kind) {
    case 'time':
      return { kind: 'time', time: target.time.toISOString() };
    case 'lsn':
      return { kind: 'lsn', lsn: formatLsn(target.lsn) };
    default:
      return target;
  }
}

const VALUE_FLAGS = ['db', 'to', 'xid', 'lsn', 'name', 'action', 'backup', 'at'] as const;
const KNOWN_FLAGS = new Set<string>([...VALUE_FLAGS, 'immediate', 'latest', 'inclusive', 'exclusive']);
const EXAMPLE = '/recover pitr 2025-01-15T14:29:59+00:00 --db aiagent_prod';

/** Seconds, roughly: download at ~80 MB/s, replay at ~100 MB/s of WAL, plus start-up. */
export function estimateSeconds(baseBytes: number, walBytes: number): { base: number; replay: number } {
  return { base: Math.ceil(baseBytes / 80e6) + 2, replay: Math.ceil(walBytes / 100e6) + 5 };
}

export const pitr: RecoverCommand<PitrArgs> = {
  name: 'pitr',
  usage: 'pitr <time with offset> [--db NAME] [--to side|in-place]   (or --xid N | --lsn X/Y | --name POINT | --immediate | --latest)',
  example: EXAMPLE,
  description: 'Point-in-time recovery from the base backup and WAL archive; to a side instance unless --to in-place.',
  home: 'runner',
  schema,
  parse(tokens) {
    const { positional, flags } = parseFlags(tokens, VALUE_FLAGS);
    const unknown = Object.keys(flags).filter((flag) => !KNOWN_FLAGS.has(flag));
    if (unknown.length > 0) {
      throw new RecoverError('BAD_INPUT', `Unknown option ${unknown.map((f) => `--${f}`).join(', ')}.`, { hint: `Usage: /recover ${this.usage}\nExample: ${EXAMPLE}` });
    }
    // "2025-01-15 14:29:59+00:00" arrives as two words: join a date with the time after it.
    const at = flags.at ?? (positional.length > 0 ? positional.join(' ') : undefined);
    const target = parseTarget({
      ...(typeof at === 'string' ? { at } : {}),
      ...(typeof flags.xid === 'string' ? { xid: flags.xid } : {}),
      ...(typeof flags.lsn === 'string' ? { lsn: flags.lsn } : {}),
      ...(typeof flags.name === 'string' ? { name: flags.name } : {}),
      ...(flags.immediate ? { immediate: true } : {}),
      ...(flags.latest ? { latest: true } : {}),
    });
    if (flags.inclusive && flags.exclusive) throw new RecoverError('TARGET_CONFLICT', 'Give --inclusive or --exclusive, not both.', { hint: `Example: ${EXAMPLE}` });
    const parsed = schema.safeParse({
      target: targetToArgs(target),
      inclusive: !flags.exclusive,
      action: flags.action ?? 'promote',
      to: flags.to ?? 'side',
      ...(flags.db !== undefined ? { db: flags.db } : {}),
      ...(flags.backup !== undefined ? { backupId: flags.backup } : {}),
    });
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') === 'to' ? '--to' : issue.path.join('.')}: ${issue.message}`).join('; ');
      throw new RecoverError('BAD_INPUT', `Cannot use these options: ${problems}.`, { hint: `Usage: /recover ${this.usage}\nExample: ${EXAMPLE}` });
    }
    return parsed.data;
  },
  risk: (args) => (args.to === 'in-place' ? 'destructive' : 'side-copy'),
  confirmation: (args, facts) => (args.to === 'in-place' ? facts.production.name : null),
  plan(args, facts): Plan {
    const target = targetFromArgs(args.target);
    const selection = selectRestore(facts.catalog, target, args.backupId ? { backupId: args.backupId } : {});
    const baseBytes = selection.backup.files.reduce((sum, file) => sum + file.bytes, 0);
    const estimate = estimateSeconds(baseBytes, selection.walBytes);
    const inPlace = args.to === 'in-place';
    const instanceName = `pitr-${facts.now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
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
      { kind: 'verify', title: `Verify ${args.db ?? 'all databases'}: connection, row counts, newest rows`, params: {}, destructive: false, estimateSeconds: 5 },
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
        'Expected duration': `about ${Math.ceil((estimate.base + estimate.replay + 10) / 60)} min`,
      },
      params: {
        backupId: selection.backup.id,
        target: args.target,
        inclusive: args.inclusive,
        action: args.action,
        to: args.to,
        instanceName: inPlace ? null : instanceName,
        databases: args.db ? [args.db] : null,
      },
    };
  },
};
