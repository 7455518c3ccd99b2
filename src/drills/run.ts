/**
 * One restore drill, end to end (scheduled by drill-schedule.ts, or asked for): restore the
 * newest base backup plus all archived WAL to a scratch side instance (runPitr, target latest),
 * verify it (runPitr's integrity checks), measure the real RTO (from the request, or the slot,
 * to verified), remove the instance whatever happened, and record the drill with its result
 * notice in the control DB (control/drills.ts; the bot posts it to RECOVER_ALERT_CHANNEL).
 */
import { recordDrill, type DrillRecord } from '../control/drills.js';
import { retryTransient } from '../control/retry.js';
import type { EngineContext } from '../engine/context.js';
import { openSideInstance, removeSideInstance } from '../engine/instances.js';
import { runPitr } from '../engine/pitr.js';
import { step, type RestoreConfig } from '../engine/restore-to-target.js';
import type { Db } from '../control/db.js';
import { toRecoverError } from '../errors.js';
import { compactUtcStamp } from '../util/time.js';
import { drillNoticeText, type DrillObjective } from './report.js';

export interface DrillRequest {
  pool: string;
  production: string;
  trigger: DrillRecord['trigger'];
  /** When the drill was asked for (the slot's time for a scheduled one): where the RTO starts. */
  requestedAt: Date;
  objective: DrillObjective;
}

export interface DrillOutcome extends DrillRecord {
  /** The history row's id; null when no control DB records it (the CLI without RECOVER_CONTROL_URL). */
  id: string | null;
  instanceName: string;
  removed: boolean;
}

export function drillInstanceName(at: Date): string {
  return `drill-${compactUtcStamp(at)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Runs the drill; never throws for the drill's own failure (that is its result), only when it cannot be recorded. */
export async function runDrill(ctx: EngineContext, config: RestoreConfig, control: Db | null, request: DrillRequest): Promise<DrillOutcome> {
  const instanceName = drillInstanceName(ctx.clock.now());
  let drill: DrillRecord = { pool: request.pool, trigger: request.trigger, requestedAt: request.requestedAt, ok: false, backupId: null, target: null, rtoSeconds: null, error: null };
  try {
    const result = await runPitr(ctx, config, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side', instanceName });
    const rtoSeconds = (ctx.clock.now().getTime() - request.requestedAt.getTime()) / 1000;
    const failed = result.report.checks.filter((c) => !c.ok);
    drill = {
      ...drill,
      ok: result.report.ok,
      backupId: result.backupId,
      target: result.reachedTime ? `${result.target} (reached ${result.reachedTime}, LSN ${result.replayLsn})` : `${result.target} (LSN ${result.replayLsn})`,
      rtoSeconds,
      error: result.report.ok ? null : { code: 'VERIFY_FAILED', message: `The restored data failed verification: ${failed.map((c) => c.message).join('; ')}` },
    };
  } catch (error) {
    const failure = toRecoverError(error, 'RESTORE_FAILED');
    ctx.log.error({ err: failure.cause ?? failure, code: failure.code }, `restore drill failed: ${failure.message}`);
    drill = { ...drill, error: { code: failure.code, message: failure.forChannel() } };
  }
  const removed = await removeDrillInstance(ctx, config, instanceName);
  const text = drillNoticeText(drill, request.objective) + (removed ? '' : `\n:warning: The drill's side instance ${instanceName} could not be removed; remove it with \`recover instances remove ${instanceName} --stop\`.`);
  const id = control ? await retryTransient(() => recordDrill(control, drill, { production: request.production, text }), { what: 'record the restore drill', log: ctx.log }) : null;
  return { ...drill, id, instanceName, removed };
}

/** Removes the drill's instance if it was created (a drill refused before restoring has none); false when it is still there. */
async function removeDrillInstance(ctx: EngineContext, config: RestoreConfig, name: string): Promise<boolean> {
  let finish: ((detail?: string) => number) | undefined;
  try {
    const instance = await openSideInstance(config, name);
    finish = step(ctx, 'remove-instance', `Remove the drill's side instance ${name}`);
    await removeSideInstance(ctx.exec, instance, 'immediate');
    finish('removed');
    return true;
  } catch (error) {
    const failure = toRecoverError(error);
    if (!finish && failure.code === 'BAD_INPUT' && failure.message.startsWith('There is no side instance')) return true;
    finish?.('could not be removed');
    ctx.log.error({ err: failure, instance: name }, 'could not remove the restore drill side instance');
    return false;
  }
}
