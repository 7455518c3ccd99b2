/**
 * The words and the plan of `/recover switchover` (pure): which of production and DR is the
 * primary, that the other streams from it and is the same cluster, and that this runner holds the
 * primary's data directory (it stops it cleanly and restarts it as a standby). Refused
 * (FAILOVER_REFUSED, exit 3, nothing done) otherwise: two primaries, no primary, one side down
 * (that is /recover failover), a standby that does not stream.
 */
import { z } from 'zod';
import type { ServerFacts, SwitchoverFacts } from '../../src/engine/failover/switchover-facts.js';
import { SWITCHOVER_STEPS, type SwitchoverStepKind } from '../../src/engine/failover/switchover.js';
import { configFileOutside } from '../../src/engine/source-layout.js';
import { LOCAL_DIR_HINT } from '../../src/engine/local-identity.js';
import { RecoverError } from '../../src/errors.js';
import type { Plan } from '../../src/types.js';
import { declaredStep, type BaseFacts } from '../types.js';
import { parseFlags } from '../words.js';

export const SWITCHOVER_USAGE = 'switchover';
export const switchoverSchema = z.object({});
export type SwitchoverArgs = z.infer<typeof switchoverSchema>;

export function switchoverArgs(tokens: string[]): SwitchoverArgs {
  const { positional, flags } = parseFlags(tokens, []);
  const extra = [...positional, ...Object.keys(flags).map((f) => `--${f}`)];
  if (extra.length > 0) throw new RecoverError('BAD_INPUT', `\`switchover\` takes no words (got "${extra[0]}").`, { hint: 'Usage: /recover switchover — production and DR swap roles: the primary is stopped cleanly, the standby promoted, the old primary rejoins as its standby.' });
  return {};
}

/** The slot on the new primary that keeps WAL for the old one while it rejoins. */
export const REJOIN_SLOT = 'recover_rejoin';

const sideName = (s: ServerFacts) => (s.side === 'dr' ? 'DR (RECOVER_STANDBY_URL)' : 'production (RECOVER_SOURCE_URL)');
const refuse = (message: string, hint: string) => new RecoverError('FAILOVER_REFUSED', `${message} Nothing was done.`, { hint });

export const switchoverParamsSchema = z.object({
  from: z.object({ side: z.enum(['production', 'dr']), label: z.string().min(1), dataDir: z.string().min(1), configFile: z.string().min(1).nullable() }),
  to: z.object({ side: z.enum(['production', 'dr']), label: z.string().min(1) }),
  slot: z.string().min(1),
  steps: z.array(z.enum(SWITCHOVER_STEPS.map((s) => s.kind) as [SwitchoverStepKind, ...SwitchoverStepKind[]])).min(1),
  catchUpTimeoutSeconds: z.number().int().positive(),
  reconnectTimeoutSeconds: z.number().int().positive(),
  requestedAt: z.string().min(1),
});
export type SwitchoverParams = z.infer<typeof switchoverParamsSchema>;

/** Which server is the primary and which the standby, or why a switchover cannot run (pure). */
export function switchoverRoles(servers: SwitchoverFacts['servers']): { from: ServerFacts; to: ServerFacts } {
  const { production, dr } = servers;
  for (const s of [production, dr]) {
    if (!s.reachable) throw refuse(`${sideName(s)} ${s.label} ${s.detail}: a switchover needs both servers up.`, 'If the primary is gone, that is /recover failover; if the old primary is down after a failover, that is /recover failback.');
  }
  if (!production.inRecovery && !dr.inRecovery) throw refuse(`Both ${production.label} and ${dr.label} accept writes: TWO PRIMARIES.`, 'Fence one of them now (the one the application does not use), then rebuild it as a standby: /recover failback.');
  if (production.inRecovery && dr.inRecovery) throw refuse(`Neither ${production.label} nor ${dr.label} is a primary (both in recovery).`, 'Promote the right one with /recover failover.');
  const from = production.inRecovery ? dr : production;
  const to = production.inRecovery ? production : dr;
  if (from.systemId !== to.systemId) throw refuse(`${to.label} is not a copy of ${from.label} (system identifier ${to.systemId} vs ${from.systemId}).`, 'Check RECOVER_SOURCE_URL and RECOVER_STANDBY_URL name the primary and its standby.');
  const status = to.replication?.receiver?.status;
  if (status !== 'streaming') throw refuse(`The standby ${to.label} does not stream (WAL receiver ${status ?? 'not running'}).`, 'Fix its replication first (primary_conninfo, pg_hba.conf), or rebuild it: /recover crash --recover on its host.');
  if (!from.localDataDir) throw refuse(`This runner cannot stop the primary ${from.label} cleanly: its data directory is not on this host (${from.side === 'dr' ? 'RECOVER_STANDBY_DATA_DIR' : 'RECOVER_SOURCE_DATA_DIR'} is not set).`, 'Run the switchover from the runner on the primary\'s host.');
  if (from.localDirProblem) throw refuse(`This runner will not stop the primary ${from.label}: ${from.localDirProblem}.`, LOCAL_DIR_HINT);
  return { from, to };
}

export function switchoverPlan(_args: SwitchoverArgs, facts: SwitchoverFacts & BaseFacts): Plan {
  const { from, to } = switchoverRoles(facts.servers);
  const kinds: SwitchoverStepKind[] = ['prepare', 'stop-primary', 'replay-checkpoint', 'promote', 'rejoin', ...(facts.switchArgv ? (['switch'] as const) : []), ...(facts.reconnect ? (['reconnect'] as const) : [])];
  const configFile = configFileOutside({ configFile: from.configFile ?? undefined }, from.localDataDir!) ?? null;
  const behind = to.replication && from.currentLsn ? `received ${to.replication.receivedLsn ?? '?'}, replayed ${to.replication.replayedLsn ?? '?'} (primary at ${from.currentLsn})` : 'unknown';
  // Stopping production's data directory binds the plan to this runner (routing, as in-place restores).
  const runsOn = from.side === 'production' || facts.sourceDataDir ? { host: facts.runnerHost, dataDir: facts.sourceDataDir ?? from.localDataDir! } : null;
  const shown: Record<string, string> = {
    'Primary now': `${sideName(from)} ${from.label}, WAL at ${from.currentLsn ?? '?'}; data directory ${from.localDataDir} on this host`,
    'Standby now': `${sideName(to)} ${to.label}, streaming; ${behind}`,
    'Data loss': 'none: the primary is stopped cleanly first and the standby is promoted only after it replayed its shutdown checkpoint; if it does not within the deadline, the old primary is started again and nothing is promoted',
    'Writes refused': 'from the clean shutdown until the promotion (seconds; the summary gives the measure)',
    'Never two primaries': 'the old primary is down from its shutdown until it starts again with standby.signal',
    'WAL kept': `a physical replication slot ${REJOIN_SLOT} on ${to.label}, created before the switch, used by the old primary when it rejoins`,
    'Application switch': facts.switchArgv ? facts.switchArgv.join(' ') : 'not configured (RECOVER_FAILOVER_SWITCH_COMMAND): point the application at the new primary yourself',
    Afterwards: `RECOVER_SOURCE_URL and RECOVER_STANDBY_URL still name the same servers; ${to.label} is the primary. /recover switchover again swaps them back.`,
  };
  if (runsOn) shown['Runs on'] = `the runner on host ${runsOn.host}`;
  return {
    command: 'switchover',
    summary: `Switch over: stop ${from.label} cleanly, promote ${to.label} once it replayed everything, and restart ${from.label} as its standby${facts.switchArgv ? ', switch the application' : ''}`,
    risk: 'destructive',
    ...(runsOn ? { runsOn } : {}),
    steps: kinds.map((kind) => declaredStep(SWITCHOVER_STEPS, kind)),
    facts: shown,
    params: {
      from: { side: from.side, label: from.label, dataDir: from.localDataDir!, configFile },
      to: { side: to.side, label: to.label },
      slot: REJOIN_SLOT,
      steps: kinds,
      catchUpTimeoutSeconds: facts.settings.catchUpTimeoutSeconds,
      reconnectTimeoutSeconds: facts.settings.reconnectTimeoutSeconds,
      requestedAt: facts.now.toISOString(),
    } satisfies SwitchoverParams,
  };
}
