/**
 * The executors of /recover failover, in the order of the plan: catch up (resume a paused replay,
 * wait, the lag shown as step progress), fence the old primary (and check it no longer answers),
 * promote, check writes and record the timeline, verify, switch the application (an argv hook),
 * wait until the application reconnects. Never two writable primaries: the primary is re-probed
 * right before pg_promote, and a primary that answers and was not fenced stops everything.
 */
import type pg from 'pg';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { pgCtlStopArgs } from '../pg-args.js';
import { withTargetClient } from '../pg-client.js';
import { step } from '../restore-to-target.js';
import { verifyRestored, type IntegrityReport } from '../verify.js';
import { failoverConfig, fencedDirProblem, labelOf, probePrimary, readStandby, standbyConnection } from './facts.js';
import { LOCAL_DIR_HINT } from '../local-identity.js';
import { bytesBehind, lagDecision, type LagRule } from './lag.js';
import { promoteAndCheck, reconnected, sleep, switchApplication, untilGone } from './steps.js';

export const FAILOVER_STEPS = [
  { kind: 'catch-up', title: 'Replay everything the standby received (resume replay if paused), the lag shown', destructive: false },
  { kind: 'fence', title: 'Fence the old primary: stop it accepting writes, and check it no longer answers', destructive: true },
  { kind: 'promote', title: 'Promote the standby (pg_promote, wait)', destructive: true },
  { kind: 'check-writes', title: 'Check the new primary accepts writes; record its timeline', destructive: false },
  { kind: 'verify', title: 'Integrity checks on the new primary', destructive: false },
  { kind: 'switch', title: 'Switch the application to the new primary (RECOVER_FAILOVER_SWITCH_COMMAND)', destructive: true },
  { kind: 'reconnect', title: 'Wait until the application reconnects', destructive: false },
] as const;
export type FailoverStepKind = (typeof FAILOVER_STEPS)[number]['kind'];

export interface FailoverRunParams extends LagRule {
  standby: string;
  fence: 'hook' | 'pg_ctl' | 'none';
  fenceDataDir: string | null;
  steps: FailoverStepKind[];
  catchUpTimeoutSeconds: number;
  reconnectTimeoutSeconds: number;
  requestedAt: string;
}

export interface FailoverResult {
  standby: string;
  catchUp: { resumed: boolean; waitedSeconds: number; decision: string; bytesLeft: number };
  fence: { method: 'hook' | 'pg_ctl' | 'none'; detail: string };
  promotedAt: string;
  timeline: number;
  writesAccepted: boolean;
  integrity: { ok: boolean; failed: string[] };
  switched: boolean;
  reconnect: { ok: boolean; detail: string } | null;
  /** From the request to writes accepted on the new primary. */
  rtoSeconds: number;
  lastReplayedCommit: string | null;
}

async function catchUp(ctx: EngineContext, client: pg.Client, params: FailoverRunParams) {
  const started = Date.now();
  let resumed = false;
  let first: number | null = null;
  for (;;) {
    const sample = await readStandby(client, params.standby);
    if (!sample.inRecovery) throw new RecoverError('FAILOVER_REFUSED', `${params.standby} is no longer in recovery: it was promoted by someone else. Nothing was done by this job.`);
    const behind = bytesBehind(sample);
    first ??= behind;
    const decision = lagDecision(sample, params, Date.now() - started >= params.catchUpTimeoutSeconds * 1000);
    ctx.events.emit({ type: 'step.progress', at: new Date().toISOString(), step: 'catch-up', done: Math.max(0, first - behind), total: first, unit: 'bytes', detail: decision.why });
    if (decision.action === 'promote') return { resumed, waitedSeconds: (Date.now() - started) / 1000, decision: decision.why, bytesLeft: behind };
    if (decision.action === 'refuse') {
      throw new RecoverError('FAILOVER_REFUSED', `Not promoted: ${decision.why}. The old primary was not touched and the standby still replays.`, {
        hint: 'Wait and run /recover failover again, or promote accepting that lag: /recover failover --accept-data-loss <duration> (its own confirmation and approval).',
      });
    }
    if (decision.action === 'resume') {
      await client.query('SELECT pg_wal_replay_resume()');
      resumed = true;
      continue;
    }
    await sleep(500, ctx.signal);
  }
}

async function fence(ctx: EngineContext, config: Config, params: FailoverRunParams, standby: pg.Client): Promise<string> {
  const settings = failoverConfig(config);
  if (params.fence === 'hook') {
    const [file, ...args] = settings.fenceCommand!;
    await ctx.exec.run(file!, args, { timeoutMs: 300_000, signal: ctx.signal });
  } else if (params.fence === 'pg_ctl') {
    const problem = await fencedDirProblem(config, params.fenceDataDir!, ctx.log);
    if (problem) throw new RecoverError('FAILOVER_REFUSED', `The old primary was not fenced and the standby was NOT promoted: ${problem}.`, { hint: LOCAL_DIR_HINT });
    const [file, args] = pgCtlStopArgs(config.pg.bin, params.fenceDataDir!, 'fast', 120);
    // Already stopped since the plan: pg_ctl fails, and the check below is what decides.
    await ctx.exec.run(file, args, { asUser: config.pg.osUser, timeoutMs: 130_000, signal: ctx.signal, allowFailure: true });
  }
  const gone = await untilGone(ctx, async () => (await probePrimary(config, 3000)).reachable, 60);
  if (!gone) throw new RecoverError('COMMAND_FAILED', 'The old primary still answers after fencing: the standby was NOT promoted (never two writable primaries).', { hint: 'Stop the old primary by hand (or fix RECOVER_FAILOVER_FENCE_COMMAND), then run /recover failover again.' });
  // A fast shutdown sends its last WAL to the connected standby; its receiver ends once it read all of it.
  const drained = await untilGone(ctx, async () => (await readStandby(standby, params.standby)).receiver?.status === 'streaming', 30);
  const how = params.fence === 'hook' ? 'the fence hook ran' : params.fence === 'pg_ctl' ? `pg_ctl stop -m fast on ${params.fenceDataDir}` : 'not fenced (--primary-unreachable)';
  return `${how}; the old primary no longer answers${drained ? '' : '; the standby still showed a streaming connection after 30 s'}`;
}

export async function runFailover(ctx: EngineContext, config: Config, params: FailoverRunParams, beforeDestructiveStep: (step: string) => Promise<void>): Promise<FailoverResult> {
  const connection = standbyConnection(config);
  if (labelOf(connection) !== params.standby) throw new RecoverError('CONFIG_INVALID', `This plan promotes ${params.standby}, and this runner's RECOVER_STANDBY_URL is ${labelOf(connection)}. Nothing was done.`);
  if (params.fence === 'pg_ctl' && config.source.dataDir !== params.fenceDataDir) throw new RecoverError('CONFIG_INVALID', `This plan fences the old primary with pg_ctl on ${params.fenceDataDir}, which is not this runner's RECOVER_SOURCE_DATA_DIR. Nothing was done.`);
  const has = (kind: FailoverStepKind) => params.steps.includes(kind);
  return withTargetClient(connection, async (client) => {
    let finish = step(ctx, 'catch-up', FAILOVER_STEPS[0].title);
    const caught = await catchUp(ctx, client, params);
    finish(caught.decision);
    let fenced = 'not fenced (--primary-unreachable)';
    if (has('fence')) {
      await beforeDestructiveStep('fence');
      finish = step(ctx, 'fence', FAILOVER_STEPS[1].title);
      fenced = await fence(ctx, config, params, client);
      finish(fenced);
    }
    await beforeDestructiveStep('promote');
    finish = step(ctx, 'promote', FAILOVER_STEPS[2].title);
    const primary = await probePrimary(config, 3000);
    if (primary.reachable) throw new RecoverError('FAILOVER_REFUSED', `The old primary ${primary.label} answers again and was not fenced: the standby was NOT promoted (never two writable primaries).`, { hint: 'Fence it (RECOVER_FAILOVER_FENCE_COMMAND) or stop it, then run /recover failover again.' });
    const before = await readStandby(client, params.standby);
    const { promotedAt, timeline, writesAccepted } = await promoteAndCheck(client, params.standby);
    finish();
    finish = step(ctx, 'check-writes', FAILOVER_STEPS[3].title);
    const rtoSeconds = (Date.now() - new Date(params.requestedAt).getTime()) / 1000;
    finish(`timeline ${timeline}`);
    let integrity: IntegrityReport | null = null;
    if (has('verify')) {
      finish = step(ctx, 'verify', FAILOVER_STEPS[4].title);
      integrity = await verifyRestored(connection, { subject: `the promoted standby ${params.standby}`, tables: config.verifyTables, ...(config.verifyConfigFile ? { configFile: config.verifyConfigFile } : {}), amcheck: 'existing' });
      finish(integrity.ok ? 'passed' : 'FAILED');
    }
    let switched = false;
    const switchedAt: Date = (await client.query('SELECT now() AS at')).rows[0].at;
    if (has('switch')) {
      await beforeDestructiveStep('switch');
      finish = step(ctx, 'switch', FAILOVER_STEPS[5].title);
      await switchApplication(ctx, config);
      switched = true;
      finish();
    }
    let reconnect: FailoverResult['reconnect'] = null;
    if (has('reconnect')) {
      finish = step(ctx, 'reconnect', FAILOVER_STEPS[6].title);
      reconnect = await reconnected(ctx, config, connection, params.reconnectTimeoutSeconds, switchedAt);
      finish(reconnect.detail);
    }
    return {
      standby: params.standby,
      catchUp: caught,
      fence: { method: params.fence, detail: fenced },
      promotedAt: promotedAt.toISOString(),
      timeline,
      writesAccepted,
      integrity: { ok: integrity?.ok ?? true, failed: (integrity?.checks ?? []).filter((c) => !c.ok).map((c) => c.name) },
      switched,
      reconnect,
      rtoSeconds,
      lastReplayedCommit: before.lastReplayedCommit ? before.lastReplayedCommit.toISOString() : null,
    };
  }, ctx.log);
}
