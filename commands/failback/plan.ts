/**
 * The words and the plan of `/recover failback` (pure, runbook §5.3): after a failover, bring the
 * old primary back. Its data directory survived: pg_rewind it against the DR primary (it needs
 * wal_log_hints or data checksums, read from its pg_control), attach it as a standby, then the
 * switchover that makes it the primary again when this runner also holds DR's data directory.
 * Refused (FAILOVER_REFUSED, exit 3, nothing done), precisely, when that path cannot work.
 */
import { z } from 'zod';
import { FAILBACK_STEPS, type FailbackFacts, type FailbackStepKind } from '../../src/engine/failover/failback.js';
import type { SwitchoverStepKind } from '../../src/engine/failover/switchover.js';
import { configFileOutside } from '../../src/engine/source-layout.js';
import { LOCAL_DIR_HINT } from '../../src/engine/local-identity.js';
import { RecoverError } from '../../src/errors.js';
import type { Plan } from '../../src/types.js';
import { REJOIN_SLOT, switchoverParamsSchema } from '../switchover/plan.js';
import { declaredStep, type BaseFacts } from '../types.js';
import { parseFlags } from '../words.js';
import { failbackDumpParamsSchema, failbackDumpPlan, failbackPath } from './path.js';

export const FAILBACK_USAGE = 'failback [<db>] [--jobs N] [--no-owner]';
export const failbackSchema = z.object({ db: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'not a database name').nullable(), jobs: z.number().int().min(1).max(16), noOwner: z.boolean() });
export type FailbackArgs = z.infer<typeof failbackSchema>;

const ARGS_HINT = 'Usage: /recover failback [<db>] [--jobs N] [--no-owner] — the old data directory survived: rewind it (no words); it did not (a rebuilt primary): <db> is dumped from DR, restored and swapped in (--no-owner: without owners and grants, when the rebuilt primary lacks roles).';

export function failbackArgs(tokens: string[]): FailbackArgs {
  const { positional, flags } = parseFlags(tokens, ['jobs']);
  const extra = [...positional.slice(1), ...Object.keys(flags).filter((f) => f !== 'jobs' && !(f === 'no-owner' && flags[f] === true)).map((f) => `--${f}`)];
  if (extra.length > 0) throw new RecoverError('BAD_INPUT', `\`failback\` takes one database name, --jobs N and --no-owner (got "${extra[0]}").`, { hint: ARGS_HINT });
  const jobs = flags.jobs === undefined ? 2 : typeof flags.jobs === 'string' && /^\d{1,2}$/.test(flags.jobs) ? Number(flags.jobs) : NaN;
  const parsed = failbackSchema.safeParse({ db: positional[0] ?? null, jobs, noOwner: flags['no-owner'] === true });
  if (!parsed.success) throw new RecoverError('BAD_INPUT', `Cannot use these words: ${parsed.error.issues.map((i) => `${i.path[0] === 'db' ? 'database' : '--jobs'}: ${i.message}`).join('; ')}.`, { hint: ARGS_HINT });
  return parsed.data;
}

export const failbackRewindParamsSchema = z.object({
  dr: z.object({ label: z.string().min(1) }),
  dataDir: z.string().min(1),
  fence: z.boolean(),
  slot: z.string().min(1),
  steps: z.array(z.enum(FAILBACK_STEPS.map((s) => s.kind) as [FailbackStepKind, ...FailbackStepKind[]])).min(1),
  switchover: switchoverParamsSchema.nullable(),
  catchUpTimeoutSeconds: z.number().int().positive(),
  requestedAt: z.string().min(1),
});
export const failbackParamsSchema = z.union([failbackDumpParamsSchema, failbackRewindParamsSchema]);
export type FailbackParams = z.infer<typeof failbackParamsSchema>;

const refuse = (message: string, hint: string) => new RecoverError('FAILOVER_REFUSED', `${message} Nothing was done.`, { hint });
const REBUILD = 'Rebuild it instead: move the old data directory aside and make a new standby of DR with pg_basebackup -R (or restore a dump into a new server).';

/** Whether the rewind path can run, and if not exactly why (pure). */
export function rewindRefusal(facts: Pick<FailbackFacts, 'dr' | 'old'>): RecoverError | null {
  const { dr, old } = facts;
  if (!dr.reachable) return refuse(`The DR primary ${dr.label} (RECOVER_STANDBY_URL) ${dr.detail}.`, 'Failback rewinds against the DR primary: it must be up.');
  if (dr.inRecovery) return refuse(`${dr.label} (RECOVER_STANDBY_URL) is in recovery: no failover to come back from.`, 'For a planned swap of two live servers use /recover switchover.');
  if (!old.control) return refuse(`The old primary's data directory cannot be rewound: ${old.controlError ?? 'pg_control unreadable'}.`, `Run on the old primary's host with RECOVER_SOURCE_DATA_DIR. If its data directory is lost: ${REBUILD}`);
  if (old.control.systemIdentifier !== dr.systemId) return refuse(`${old.dataDir} is another cluster than ${dr.label} (system identifier ${old.control.systemIdentifier} vs ${dr.systemId}).`, 'Check RECOVER_SOURCE_DATA_DIR and RECOVER_STANDBY_URL.');
  if (!old.control.walLogHints && old.control.dataChecksumVersion === 0) {
    return refuse(`pg_rewind cannot rewind ${old.dataDir}: it needs wal_log_hints = on or data checksums, and its pg_control says wal_log_hints off and data page checksum version 0.`, `${REBUILD} Then set wal_log_hints = on on both servers so the next failback can rewind.`);
  }
  if (old.server?.inRecovery) return refuse(`The old primary already runs as a standby (in recovery).`, 'If it streams from DR, switch back with /recover switchover.');
  // pg_ctl stop -D stops whatever runs there: only a server proven to be RECOVER_SOURCE_URL's is fenced.
  if (old.running && !old.server?.reachable) return refuse(`A server runs from ${old.dataDir}, and RECOVER_SOURCE_URL ${old.server ? `${old.server.label} ${old.server.detail}` : 'is not set'}: the runner cannot tell it is the old primary, so it will not stop it.`, 'Stop the old primary by hand (pg_ctl stop -m fast), then run /recover failback again; or fix RECOVER_SOURCE_URL.');
  if (old.running && old.server?.localDirProblem) return refuse(`The runner will not stop the server running from ${old.dataDir}: ${old.server.localDirProblem}.`, LOCAL_DIR_HINT);
  if (dr.localDirProblem) return refuse(`The closing switchover would stop DR through a directory that is not its own: ${dr.localDirProblem}.`, `${LOCAL_DIR_HINT} Or unset RECOVER_STANDBY_DATA_DIR: failback then ends with DR the primary, and /recover switchover from DR's host swaps back.`);
  return null;
}

export function failbackPlan(args: FailbackArgs, facts: FailbackFacts & BaseFacts): Plan {
  if (!facts.dr.reachable || facts.dr.inRecovery) throw rewindRefusal(facts)!;
  const chosen = failbackPath(facts.old, facts.dr.systemId);
  if (chosen.path === 'dump') return failbackDumpPlan(args, facts, chosen.why);
  const refused = rewindRefusal(facts);
  if (refused) throw refused;
  const { dr, old } = facts;
  const control = old.control!;
  const fence = old.running;
  const switchKinds: SwitchoverStepKind[] = facts.drDataDir ? ['prepare', 'stop-primary', 'replay-checkpoint', 'promote', 'rejoin', ...(facts.switchArgv ? (['switch', 'reconnect'] as const) : [])] : [];
  const kinds: FailbackStepKind[] = [...(fence ? (['fence-old'] as const) : []), 'rewind', 'attach', ...switchKinds];
  const oldLabel = old.server?.label ?? old.dataDir!;
  const switchover = facts.drDataDir
    ? {
        from: { side: 'dr' as const, label: dr.label, dataDir: facts.drDataDir, configFile: configFileOutside({ configFile: dr.configFile ?? undefined }, facts.drDataDir) ?? null },
        to: { side: 'production' as const, label: facts.sourceLabel },
        slot: REJOIN_SLOT,
        steps: switchKinds,
        catchUpTimeoutSeconds: facts.settings.catchUpTimeoutSeconds,
        reconnectTimeoutSeconds: facts.settings.reconnectTimeoutSeconds,
        requestedAt: facts.now.toISOString(),
      }
    : null;
  return {
    command: 'failback',
    summary: `Fail back: ${fence ? 'stop the old primary, ' : ''}rewind ${old.dataDir} against ${dr.label}, attach it as a standby${switchover ? ', then switch over to it' : ''}`,
    risk: 'destructive',
    runsOn: { host: facts.runnerHost, dataDir: old.dataDir! },
    steps: kinds.map((kind) => declaredStep(FAILBACK_STEPS, kind)),
    facts: {
      'DR primary': `${dr.label}, WAL at ${dr.currentLsn ?? '?'}`,
      'Old primary': `${old.dataDir}: ${control.state} at ${control.checkpointLsn} (timeline ${control.timeline}); ${old.running ? `RUNNING${old.server && !old.server.inRecovery ? ' as a primary — two primaries: it is stopped first' : ''}` : 'not running'}`,
      Path: `rewind (the data directory survived; ${control.walLogHints ? 'wal_log_hints on' : 'data checksums on'}); what it wrote after DR was promoted is discarded`,
      'WAL needed': `pg_rewind reads ${old.dataDir}'s own WAL back to the last checkpoint before the servers diverged (its pg_wal must still hold it) and copies what changed from ${dr.label}`,
      'WAL kept': `a replication slot ${REJOIN_SLOT} on ${dr.label} for the rewound server`,
      Afterwards: switchover ? `switchover: ${dr.label} stopped cleanly, ${oldLabel} promoted once it replayed everything, ${dr.label} back as its standby` : `${oldLabel} stays a standby of ${dr.label}: run /recover switchover from the runner on DR's host (RECOVER_STANDBY_DATA_DIR) to make it the primary again`,
      'Runs on': `the runner on host ${facts.runnerHost}`,
    },
    params: { dr: { label: dr.label }, dataDir: old.dataDir!, fence, slot: REJOIN_SLOT, steps: kinds, switchover, catchUpTimeoutSeconds: facts.settings.catchUpTimeoutSeconds, requestedAt: facts.now.toISOString() } satisfies z.infer<typeof failbackRewindParamsSchema>,
  };
}
