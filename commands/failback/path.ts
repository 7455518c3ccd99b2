/**
 * Which way /recover failback goes (pure, runbook §5.3), and the dump path's plan: the old
 * primary's data directory did not survive (missing here) or RECOVER_SOURCE_DATA_DIR holds another
 * cluster (a rebuilt primary): DR's database is dumped, restored into a NEW database on the
 * rebuilt primary (RECOVER_SOURCE_URL), compared table by table, and swapped in by the rename
 * swap of /recover database --swap (the old database kept as `<db>_before_<stamp>`).
 */
import { z } from 'zod';
import { FAILBACK_STEPS, type FailbackFacts } from '../../src/engine/failover/failback.js';
import type { FailbackDumpParams } from '../../src/engine/failover/failback-dump.js';
import { dumpStamp } from '../../src/engine/dumps/manifest.js';
import { rolesMissingError } from '../../src/engine/dumps/dump-roles.js';
import { RecoverError } from '../../src/errors.js';
import type { Plan } from '../../src/types.js';
import { unusedNames } from '../database-args.js';
import { declaredStep, type BaseFacts } from '../types.js';

export type FailbackPath = { path: 'rewind' | 'dump'; why: string };

/** Rewind when the old data directory is here and is DR's cluster; otherwise the dump path, saying why. */
export function failbackPath(old: FailbackFacts['old'], drSystemId: string | null): FailbackPath {
  if (old.control && old.control.systemIdentifier === drSystemId) return { path: 'rewind', why: `the data directory ${old.dataDir} survived (the same cluster as DR, system identifier ${drSystemId})` };
  if (old.control) return { path: 'dump', why: `not this cluster: ${old.dataDir} has system identifier ${old.control.systemIdentifier}, DR ${drSystemId ?? '?'} (a rebuilt primary): nothing to rewind` };
  return { path: 'dump', why: `directory missing: ${old.controlError ?? 'no pg_control'}` };
}

export const failbackDumpParamsSchema = z.object({
  method: z.literal('dump'),
  dr: z.object({ label: z.string().min(1) }),
  database: z.string().min(1),
  newName: z.string().min(1),
  beforeName: z.string().min(1),
  databaseOid: z.string().regex(/^\d+$/).nullable(),
  jobs: z.number().int().min(1).max(16),
  noOwner: z.boolean().optional(),
  requestedAt: z.string().min(1),
}) satisfies z.ZodType<FailbackDumpParams>;

const refuse = (message: string, hint: string) => new RecoverError('FAILOVER_REFUSED', `${message} Nothing was done.`, { hint });

export function failbackDumpPlan(args: { db: string | null; jobs: number; noOwner?: boolean }, facts: FailbackFacts & BaseFacts, why: string): Plan {
  const { dr, rebuilt, dump } = facts;
  const rebuiltLabel = rebuilt?.label ?? facts.sourceLabel;
  if (!rebuilt) throw refuse(`No rewind (${why}) and no rebuilt primary to restore into: RECOVER_SOURCE_URL is not set.`, 'Set RECOVER_SOURCE_URL to the rebuilt primary.');
  if (!rebuilt.reachable) throw refuse(`No rewind (${why}), and the rebuilt primary ${rebuiltLabel} (RECOVER_SOURCE_URL) ${rebuilt.detail}.`, 'Start the rebuilt primary, then run /recover failback <db> again.');
  if (rebuilt.inRecovery) throw refuse(`The rebuilt primary ${rebuiltLabel} is in recovery (a standby): the dump path restores into a writable primary.`, 'Promote it or point RECOVER_SOURCE_URL at the rebuilt primary.');
  if (rebuilt.systemId === dr.systemId) throw refuse(`${rebuiltLabel} (RECOVER_SOURCE_URL) is DR's own cluster (system identifier ${dr.systemId}), not a rebuilt primary.`, 'If it is the old primary, run /recover failback on its host (RECOVER_SOURCE_DATA_DIR) to rewind it.');
  if (!args.db || !dump) throw refuse(`No rewind (${why}): the dump path restores one database from DR, and none was named.`, 'Name it: /recover failback <db> [--jobs N].');
  if (!dump.onDr) throw refuse(`${dump.database} does not exist on the DR primary ${dr.label}.`, 'Name a database of the DR primary.');
  const stamp = dumpStamp(facts.now);
  // Never over an existing database: a failback again in the same second (or a person's database) gets _2, _3 …
  const [newName, beforeName] = unusedNames([`${dump.database}_restored_${stamp}`, `${dump.database}_before_${stamp}`], dump.names) as [string, string];
  if (Buffer.byteLength(newName) > 63) throw refuse(`${newName} is longer than PostgreSQL's 63 bytes for a name.`, 'Restore it by hand under a shorter name.');
  const noOwner = args.noOwner ?? false;
  if (!noOwner && dump.missingRoles.length > 0) throw rolesMissingError(dump.missingRoles, `the rebuilt primary ${rebuiltLabel}`, `/recover failback ${dump.database}${args.jobs !== 2 ? ` --jobs ${args.jobs}` : ''} --no-owner`);
  const kinds = ['dump-dr', 'create-database', 'restore-schema', 'restore-data', 'verify', 'check-swap', 'swap'] as const;
  return {
    command: 'failback',
    summary: dump.rebuiltOid
      ? `Fail back by dump: ${dump.database} from ${dr.label} restored as ${newName} on ${rebuiltLabel}, compared, then swapped in (the old one kept as ${beforeName})`
      : `Fail back by dump: ${dump.database} from ${dr.label} restored as ${newName} on ${rebuiltLabel} (which has no ${dump.database}), compared, then renamed to ${dump.database}`,
    risk: 'destructive',
    // No <db> on the rebuilt primary: the last two steps check it is still absent and rename the copy (database/place.ts).
    steps: kinds.map((kind) =>
      dump.rebuiltOid || (kind !== 'check-swap' && kind !== 'swap')
        ? declaredStep(FAILBACK_STEPS, kind)
        : declaredStep(FAILBACK_STEPS, kind, { title: kind === 'swap' ? `Rename ${newName} → ${dump.database} (connections to it drained)` : `Check ${dump.database} is still absent and ${newName} is the approved, verified copy` }),
    ),
    facts: {
      Path: `dump (${why})`,
      'DR primary': `${dr.label}, WAL at ${dr.currentLsn ?? '?'}: ${dump.database} (${(dump.onDr.bytes / 1e6).toFixed(1)} MB, owner ${dump.onDr.owner})`,
      'Rebuilt primary': dump.rebuiltOid
        ? `${rebuiltLabel} (system identifier ${rebuilt.systemId ?? '?'}): ${dump.database} (oid ${dump.rebuiltOid}) is replaced`
        : `${rebuiltLabel} (system identifier ${rebuilt.systemId ?? '?'}): has no ${dump.database}; the verified copy becomes it (if ${dump.database} appears there meanwhile, nothing is renamed)`,
      Restore: `pg_dump -Fd -j ${args.jobs} in one snapshot of DR, into a NEW database ${newName}; every table's row count and content hash compared with that snapshot before anything is swapped`,
      Owners: noOwner
        ? `--no-owner: the copy's objects belong to the restoring role and NO grants are restored (--no-owner --no-acl); once swapped in, ${dump.database} has none of DR's owners and grants`
        : `kept, with grants: every role ${dump.database} names on DR (owners, grantees) exists on ${rebuiltLabel}`,
      Swap: dump.rebuiltOid
        ? `connections to both refused and drained, then in one transaction ${dump.database} → ${beforeName} (kept, never dropped) and ${newName} → ${dump.database}`
        : `connections to ${newName} refused and drained, then ${newName} → ${dump.database} (nothing to keep aside)`,
      'Runs on': `the runner on host ${facts.runnerHost}`,
    },
    params: { method: 'dump', dr: { label: dr.label }, database: dump.database, newName, beforeName, databaseOid: dump.rebuiltOid, jobs: args.jobs, ...(noOwner ? { noOwner } : {}), requestedAt: facts.now.toISOString() } satisfies FailbackDumpParams,
  };
}
