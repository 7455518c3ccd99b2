/**
 * The plan of `/recover failover` (pure): the facts read from the standby and the old primary,
 * the data-loss window they imply, and the steps. Refused (FAILOVER_REFUSED, exit 3, nothing
 * done) when the standby is not one, when the old primary answers and nothing can fence it, and
 * when it can be neither reached nor fenced and people did not acknowledge it.
 */
import { z } from 'zod';
import { parseLsn, parseSegmentName } from '../../src/catalog/segments.js';
import type { ArchiveFacts, FailoverFacts, PrimaryProbe, StandbyFacts } from '../../src/engine/failover/facts.js';
import { applyLagSeconds, bytesBehind } from '../../src/engine/failover/lag.js';
import { FAILOVER_STEPS, type FailoverStepKind } from '../../src/engine/failover/run.js';
import { LOCAL_DIR_HINT } from '../../src/engine/local-identity.js';
import { RecoverError } from '../../src/errors.js';
import type { Plan } from '../../src/types.js';
import { declaredStep, type BaseFacts } from '../types.js';
import type { FailoverArgs } from './args.js';

export const failoverParamsSchema = z.object({
  standby: z.string().min(1),
  fence: z.enum(['hook', 'pg_ctl', 'none']),
  fenceDataDir: z.string().min(1).nullable(),
  steps: z.array(z.enum(FAILOVER_STEPS.map((s) => s.kind) as [FailoverStepKind, ...FailoverStepKind[]])).min(1),
  maxLagSeconds: z.number().int().positive(),
  acceptedLossSeconds: z.number().int().positive().nullable(),
  catchUpTimeoutSeconds: z.number().int().positive(),
  reconnectTimeoutSeconds: z.number().int().positive(),
  requestedAt: z.string().min(1),
});
export type FailoverParams = z.infer<typeof failoverParamsSchema>;

const iso = (date: Date | null) => (date ? date.toISOString() : 'none');

function replicationText(standby: StandbyFacts): string {
  const r = standby.receiver;
  if (!r) return 'no WAL receiver: not connected to any primary';
  const from = r.senderHost ? ` from ${r.senderHost}${r.senderPort ? `:${r.senderPort}` : ''}` : '';
  return `${r.status}${from}; last message ${iso(r.lastMessage)}`;
}

/** How the archive compares with what the standby received: its newest segment may hold commits the standby never got. */
export function archiveText(standby: StandbyFacts, archive: ArchiveFacts): string {
  if (archive.error) return `the WAL archive could not be read (${archive.error})`;
  if (!archive.newest) return 'the WAL archive holds no segment';
  const segment = parseSegmentName(archive.newest.name, standby.segmentSize);
  const received = standby.receivedLsn ?? standby.replayedLsn;
  const shown = `${archive.newest.name}, archived ${iso(archive.newest.archivedAt)}`;
  if (!segment || !received) return `newest archived segment ${shown}`;
  const beyond = (segment.segno + 1n) * BigInt(standby.segmentSize) - parseLsn(received);
  return beyond > 0n
    ? `the archive reaches ${beyond} byte(s) past what the standby received (newest segment ${shown}): commits there are not on the standby — /recover pitr from the archive would keep them`
    : `nothing archived beyond what the standby received (newest segment ${shown})`;
}

/** What a failover now would lose, in words: pure, from what was read. */
export function lossWindow(standby: StandbyFacts, primary: PrimaryProbe, archive: ArchiveFacts = { newest: null, error: null }): string {
  const behind = bytesBehind(standby);
  const replay = behind > 0 ? ` ${behind} byte(s) received are not replayed yet: they are replayed before promotion, not lost.` : '';
  if (primary.reachable && primary.currentLsn) {
    return `None expected: the old primary answers (WAL at ${primary.currentLsn}; the standby received up to ${standby.receivedLsn ?? 'nothing by streaming'}) and is fenced first; a clean shutdown sends the standby its last WAL.${replay}`;
  }
  const heard = standby.receiver?.lastMessage ?? null;
  return `Unknown, bounded by the last contact: transactions the old primary committed after it last sent WAL (last message ${iso(heard)}; last replayed commit ${iso(standby.lastReplayedCommit)}) are lost; it does not answer, so its newest commit cannot be read; ${archiveText(standby, archive)}.${replay}`;
}

const refuse = (message: string, hint: string) => new RecoverError('FAILOVER_REFUSED', `${message} Nothing was done.`, { hint });

export function failoverPlan(args: FailoverArgs, facts: FailoverFacts & BaseFacts): Plan {
  const { standby, primary, fence, settings } = facts;
  if (!standby.inRecovery) throw refuse(`${standby.label} (RECOVER_STANDBY_URL) is not in recovery: it is already a primary.`, 'Point RECOVER_STANDBY_URL at the DR standby; if it was already promoted, switch the application to it.');
  const method = fence.method === 'pg_ctl' && !primary.reachable ? 'none' : fence.method;
  if (primary.reachable && method === 'none') {
    throw refuse(`The old primary ${primary.label} still answers and cannot be fenced: promoting the standby now would leave two writable primaries.`, 'Set RECOVER_FAILOVER_FENCE_COMMAND (a JSON argv that stops it, e.g. ["kubectl","scale","statefulset/postgres","--replicas=0"]) or run on its host with RECOVER_SOURCE_DATA_DIR, or stop it yourself and run /recover failover again.');
  }
  if (method === 'pg_ctl' && fence.localDirProblem) {
    throw refuse(`The old primary ${primary.label} answers, and this runner will not fence it with pg_ctl: ${fence.localDirProblem}.`, `${LOCAL_DIR_HINT} Or set RECOVER_FAILOVER_FENCE_COMMAND, or stop the old primary yourself and run /recover failover again.`);
  }
  if (!primary.reachable && method === 'none' && !args.primaryUnreachable) {
    throw refuse(`The old primary${primary.label ? ` ${primary.label}` : ''} cannot be reached (${primary.detail}) and cannot be fenced (no RECOVER_FAILOVER_FENCE_COMMAND). If it comes back it would accept writes beside the promoted standby.`, 'Make sure it is gone and will not come back writable (power it off, cut its network), then run /recover failover --primary-unreachable.');
  }
  const kinds: FailoverStepKind[] = ['catch-up', ...(method !== 'none' ? (['fence'] as const) : []), 'promote', 'check-writes', 'verify', ...(facts.switchArgv ? (['switch'] as const) : []), ...(facts.reconnect ? (['reconnect'] as const) : [])];
  const fenceTitle = method === 'hook' ? `Fence the old primary with RECOVER_FAILOVER_FENCE_COMMAND (${fence.argv!.join(' ')}), then check it no longer answers` : `Fence the old primary: pg_ctl stop -m fast on ${fence.dataDir}, then check it no longer answers`;
  const titles: Partial<Record<FailoverStepKind, string>> = {
    fence: fenceTitle,
    promote: `Promote ${standby.label} (pg_promote, wait), after checking the old primary does not answer`,
    ...(facts.switchArgv ? { switch: `Switch the application: ${facts.switchArgv.join(' ')}` } : {}),
    ...(facts.reconnect ? { reconnect: facts.reconnect === 'health-url' ? `Wait until RECOVER_FAILOVER_HEALTH_URL answers (at most ${settings.reconnectTimeoutSeconds} s)` : `Wait until a client connects to the new primary (at most ${settings.reconnectTimeoutSeconds} s)` } : {}),
  };
  const lag = applyLagSeconds(standby);
  const accepted = args.acceptDataLossSeconds ?? null;
  const shown: Record<string, string> = {
    Standby: `${standby.label}, in recovery${standby.paused ? ', replay PAUSED (resumed first)' : ''}`,
    Replication: replicationText(standby),
    'Received / replayed': `${standby.receivedLsn ?? 'nothing by streaming'} / ${standby.replayedLsn ?? 'none'} (${bytesBehind(standby)} byte(s) behind)`,
    'Last replayed commit': `${iso(standby.lastReplayedCommit)} (apply lag ${lag === null ? 'unknown' : `${Math.round(lag)} s`})`,
    'Old primary': `${primary.label ?? 'not configured'}: ${primary.detail}`,
    'Data-loss window': lossWindow(standby, primary, facts.archive),
    'WAL archive': archiveText(standby, facts.archive),
    Fencing:
      method !== 'none'
        ? `${method === 'hook' ? 'the fence hook' : 'pg_ctl stop -m fast'} before promotion; the standby is promoted only once the old primary no longer answers`
        : 'NONE: the old primary can be neither reached nor fenced — acknowledged with --primary-unreachable; it is probed again right before promotion',
    'Lag rule': `wait until everything received is replayed; at ${settings.catchUpTimeoutSeconds} s, refuse if the apply lag is above ${settings.maxLagSeconds} s${accepted !== null ? ` unless within the ${accepted} s accepted with --accept-data-loss` : ''}`,
    'Application switch': facts.switchArgv ? facts.switchArgv.join(' ') : 'not configured (RECOVER_FAILOVER_SWITCH_COMMAND): point the application at the new primary yourself',
  };
  // pg_ctl fences the old primary's data directory on this host: only the runner there may run the plan (runner/routing.ts).
  const runsOn = method === 'pg_ctl' ? { host: facts.runnerHost, dataDir: fence.dataDir! } : null;
  if (runsOn) shown['Runs on'] = `the runner on host ${runsOn.host} (it fences ${runsOn.dataDir})`;
  return {
    command: 'failover',
    summary: `Fail over to the standby ${standby.label}: ${method !== 'none' ? 'fence the old primary, ' : ''}promote it once it replayed what it received${accepted !== null ? ` (accepting up to ${accepted} s of apply lag)` : ''}, check writes and integrity${facts.switchArgv ? ', switch the application' : ''}`,
    risk: 'destructive',
    ...(runsOn ? { runsOn } : {}),
    steps: kinds.map((kind) => declaredStep(FAILOVER_STEPS, kind, { ...(titles[kind] ? { title: titles[kind] } : {}) })),
    facts: shown,
    params: {
      standby: standby.label,
      fence: method,
      fenceDataDir: method === 'pg_ctl' ? fence.dataDir : null,
      steps: kinds,
      maxLagSeconds: settings.maxLagSeconds,
      acceptedLossSeconds: accepted,
      catchUpTimeoutSeconds: settings.catchUpTimeoutSeconds,
      reconnectTimeoutSeconds: settings.reconnectTimeoutSeconds,
      requestedAt: facts.now.toISOString(),
    } satisfies FailoverParams,
  };
}
