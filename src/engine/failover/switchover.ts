/**
 * The executors of /recover switchover (planned, both servers alive), in the order of the plan:
 * a replication slot on the standby for the old primary and a catch-up; a clean shutdown of the
 * primary (its walsenders send everything, the shutdown checkpoint last) and its checkpoint read
 * from pg_control; a wait until the standby replayed that checkpoint (else the old primary is
 * started again as it was, nothing promoted); promotion and a write; the old primary started as a
 * standby of the new one through the slot, checked streaming; the application switch and reconnect.
 * Zero transactions lost: everything the old primary committed precedes its shutdown checkpoint.
 */
import type { Config } from '../../config.js';
import { LOCAL_DIR_HINT, localDirMismatch, readServerIdentity } from '../local-identity.js';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { waitStreaming } from '../crash/replica.js';
import { withTargetClient } from '../pg-client.js';
import { step } from '../restore-to-target.js';
import { labelOf } from './facts.js';
import { localServer, primaryConninfo, type ServerControl } from './server-control.js';
import { promoteAndCheck, reconnected, sleep, switchApplication } from './steps.js';
import { sideConnection, sideUrl, type Side } from './switchover-facts.js';

export const SWITCHOVER_STEPS = [
  { kind: 'prepare', title: 'Create a replication slot on the standby for the old primary; wait until the standby replayed what the primary wrote', destructive: false },
  { kind: 'stop-primary', title: 'Stop the primary cleanly (pg_ctl stop -m fast): writes stop, its last WAL and shutdown checkpoint go to the standby', destructive: true },
  { kind: 'replay-checkpoint', title: "Wait until the standby replayed the old primary's shutdown checkpoint (pg_controldata)", destructive: false },
  { kind: 'promote', title: 'Promote the standby (pg_promote, wait), check it accepts writes', destructive: true },
  { kind: 'rejoin', title: 'Start the old primary as a standby of the new one (standby.signal, primary_conninfo, the slot), check it streams', destructive: true },
  { kind: 'switch', title: 'Switch the application to the new primary (RECOVER_FAILOVER_SWITCH_COMMAND)', destructive: true },
  { kind: 'reconnect', title: 'Wait until the application reconnects', destructive: false },
] as const;
export type SwitchoverStepKind = (typeof SWITCHOVER_STEPS)[number]['kind'];

export interface SwitchoverRunParams {
  /** The primary now (stopped and rejoined as a standby) and the standby (promoted). */
  from: { side: Side; label: string; dataDir: string; configFile: string | null };
  to: { side: Side; label: string };
  slot: string;
  steps: SwitchoverStepKind[];
  catchUpTimeoutSeconds: number;
  reconnectTimeoutSeconds: number;
  requestedAt: string;
}

export interface SwitchoverResult {
  from: string;
  to: string;
  /** The old primary's shutdown checkpoint, replayed by the new one before promotion. */
  checkpointLsn: string;
  promotedAt: string;
  timeline: number;
  writesAccepted: boolean;
  /** From the request to writes accepted on the new primary. */
  rtoSeconds: number;
  /** From the old primary's shutdown to writes accepted on the new one: how long writes were refused. */
  writesPausedSeconds: number;
  rejoined: { streaming: boolean; slot: string; detail: string };
  switched: boolean;
  reconnect: { ok: boolean; detail: string } | null;
}

export const SLOT_SQL = 'SELECT pg_create_physical_replication_slot($1, true) FROM (SELECT 1) one WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)';

/** Polls `sql` (one row, column ok) on the standby until true, the step's progress from `detail`; false at the deadline. */
async function waitFor(ctx: EngineContext, client: import('pg').Client, sql: string, values: unknown[], seconds: number, stepName: string): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const row = (await client.query(sql, values)).rows[0];
    if (row.ok) return true;
    ctx.events.emit({ type: 'step.progress', at: new Date().toISOString(), step: stepName, done: 0, total: Number(row.behind ?? 0), unit: 'bytes', detail: `${row.behind ?? '?'} byte(s) to replay` });
    if (Date.now() >= deadline) return false;
    await sleep(200, ctx.signal);
  }
}

export async function runSwitchover(ctx: EngineContext, config: Config, params: SwitchoverRunParams, beforeDestructiveStep: (step: string) => Promise<void>, control?: ServerControl): Promise<SwitchoverResult> {
  const fromConnection = sideConnection(config, params.from.side);
  const toConnection = sideConnection(config, params.to.side);
  const localDir = params.from.side === 'dr' ? config.failover?.standbyDataDir : config.source.dataDir;
  if (labelOf(fromConnection) !== params.from.label || labelOf(toConnection) !== params.to.label) throw new RecoverError('CONFIG_INVALID', `This plan switches ${params.from.label} → ${params.to.label}, and this runner's settings name ${labelOf(fromConnection)} → ${labelOf(toConnection)}. Nothing was done.`);
  if (!control && localDir !== params.from.dataDir) throw new RecoverError('CONFIG_INVALID', `This plan stops the primary's data directory ${params.from.dataDir}, which is not on this runner (${params.from.side === 'dr' ? 'RECOVER_STANDBY_DATA_DIR' : 'RECOVER_SOURCE_DATA_DIR'} is ${localDir ?? 'not set'}). Nothing was done.`);
  const server = control ?? localServer(ctx, config.pg, { dataDir: params.from.dataDir, port: Number(fromConnection.port), socketDir: String(fromConnection.host), ...(params.from.configFile ? { configFile: params.from.configFile } : {}), timeoutSeconds: config.recoveryTimeoutSeconds });
  const has = (kind: SwitchoverStepKind) => params.steps.includes(kind);
  return withTargetClient(toConnection, async (standby) => {
    let finish = step(ctx, 'prepare', SWITCHOVER_STEPS[0].title);
    const state = (await standby.query('SELECT pg_is_in_recovery() AS rec')).rows[0];
    if (!state.rec) throw new RecoverError('FAILOVER_REFUSED', `${params.to.label} is no longer in recovery: it was promoted since the plan. Nothing was done.`, { hint: 'Look at both servers (/recover status); never start a second primary.' });
    if (!control) {
      // Checked again at run time, before anything is changed: the server may run from elsewhere since the plan.
      const setting = params.from.side === 'dr' ? 'RECOVER_STANDBY_DATA_DIR' : 'RECOVER_SOURCE_DATA_DIR';
      const problem = await withTargetClient(fromConnection, async (c) => localDirMismatch(params.from.dataDir, setting, await readServerIdentity(c)));
      if (problem) throw new RecoverError('FAILOVER_REFUSED', `The primary ${params.from.label} was not stopped: ${problem}. Nothing was done.`, { hint: LOCAL_DIR_HINT });
    }
    await standby.query(SLOT_SQL, [params.slot]);
    const primaryLsn = await withTargetClient(fromConnection, async (c) => String((await c.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn));
    const caughtUp = await waitFor(ctx, standby, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok, pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::bigint AS behind", [primaryLsn], params.catchUpTimeoutSeconds, 'prepare');
    if (!caughtUp) throw new RecoverError('FAILOVER_REFUSED', `${params.to.label} did not replay up to the primary's ${primaryLsn} within ${params.catchUpTimeoutSeconds} s: the primary was not stopped.`, { hint: 'Look at the standby\'s replication (lag, a paused replay), then run /recover switchover again.' });
    finish(`slot ${params.slot}; the standby replayed up to ${primaryLsn}`);

    await beforeDestructiveStep('stop-primary');
    finish = step(ctx, 'stop-primary', SWITCHOVER_STEPS[1].title);
    const stopped = await server.stopClean();
    const stoppedAt = Date.now();
    finish(`shut down; checkpoint at ${stopped.checkpointLsn} (timeline ${stopped.timeline})`);

    finish = step(ctx, 'replay-checkpoint', SWITCHOVER_STEPS[2].title);
    const replayed = await waitFor(ctx, standby, "SELECT pg_last_wal_replay_lsn() > $1::pg_lsn AS ok, pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::bigint + 1 AS behind", [stopped.checkpointLsn], params.catchUpTimeoutSeconds, 'replay-checkpoint');
    if (!replayed) {
      await server.start();
      throw new RecoverError('COMMAND_FAILED', `${params.to.label} did not replay the old primary's shutdown checkpoint (${stopped.checkpointLsn}) within ${params.catchUpTimeoutSeconds} s: nothing was promoted, and ${params.from.label} was started again as the primary.`, { hint: "Look at the standby's WAL receiver and log, then run /recover switchover again." });
    }
    finish(`replayed past ${stopped.checkpointLsn}`);

    await beforeDestructiveStep('promote');
    finish = step(ctx, 'promote', SWITCHOVER_STEPS[3].title);
    const promoted = await promoteAndCheck(standby, params.to.label);
    const writesAt = Date.now();
    finish(`timeline ${promoted.timeline}`);

    await beforeDestructiveStep('rejoin');
    finish = step(ctx, 'rejoin', SWITCHOVER_STEPS[4].title);
    await server.startAsStandby(primaryConninfo(sideUrl(config, params.to.side), 'recover_rejoined'), params.slot);
    const streaming = await waitStreaming(ctx, fromConnection, params.catchUpTimeoutSeconds);
    // Its own slot of that name (it was a primary with a standby on it) would hold WAL on it for nobody.
    await withTargetClient(fromConnection, (c) => c.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [params.slot]), ctx.log);
    const slot = (await standby.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [params.slot])).rows[0];
    const rejoined = { streaming: Boolean(slot?.active), slot: params.slot, detail: `in recovery, streaming from ${params.to.label} through slot ${params.slot} (received ${streaming.receivedLsn ?? '?'})` };
    finish(rejoined.detail);

    let switched = false;
    const switchedAt: Date = (await standby.query('SELECT now() AS at')).rows[0].at;
    if (has('switch')) {
      await beforeDestructiveStep('switch');
      finish = step(ctx, 'switch', SWITCHOVER_STEPS[5].title);
      await switchApplication(ctx, config);
      switched = true;
      finish();
    }
    let reconnect: SwitchoverResult['reconnect'] = null;
    if (has('reconnect')) {
      finish = step(ctx, 'reconnect', SWITCHOVER_STEPS[6].title);
      reconnect = await reconnected(ctx, config, toConnection, params.reconnectTimeoutSeconds, switchedAt);
      finish(reconnect.detail);
    }
    return {
      from: params.from.label,
      to: params.to.label,
      checkpointLsn: stopped.checkpointLsn,
      promotedAt: promoted.promotedAt.toISOString(),
      timeline: promoted.timeline,
      writesAccepted: promoted.writesAccepted,
      rtoSeconds: (writesAt - new Date(params.requestedAt).getTime()) / 1000,
      writesPausedSeconds: (writesAt - stoppedAt) / 1000,
      rejoined,
      switched,
      reconnect,
    };
  }, ctx.log);
}
