/**
 * Planning on the runner: for each new request of this pool, gather the facts its command
 * needs (the backup catalog, the WAL, a server to check…) and compute the command's plan,
 * or record a refusal the bot will show as is.
 */
import type pg from 'pg';
import { findCommand } from '../../commands/index.js';
import type { CommandContext } from '../../commands/types.js';
import { reachOf, routePlan } from './routing.js';
import { planPendingRequests, policyStamp, recentRateSamples, savePlan, savePlanningError } from '../control/index.js';
import { aggregateRates, isMeasuredPhase, RATE_HISTORY, type MeasuredRates } from '../estimate/rates.js';
import { withCalibration } from '../estimate/calibrate.js';
import { RecoverError, toRecoverError } from '../errors.js';
import type { Clock, Logger } from '../types.js';

export interface PlannerDeps {
  control: pg.Pool;
  pool: string;
  productionName: string;
  clock: Clock;
  log: Logger;
  /** What commands' gather() uses: the engine's context (storage, exec, pg_waldump) and the configuration. */
  gather: CommandContext;
  /** Rates from this runner's start-up probe (./calibration.ts) for phases the pool has not measured yet. */
  calibration?: () => MeasuredRates | undefined;
}

export { listInstances } from '../engine/instances.js';

/**
 * The pool's measured restore rates (medians of its last RATE_HISTORY samples per phase). Read
 * once per plan and saved inside it: a measurement after planning changes the next plan, never
 * this one's digest or its approvals.
 */
export async function measuredRates(deps: Pick<PlannerDeps, 'control' | 'pool' | 'log' | 'calibration'>): Promise<MeasuredRates> {
  const calibrated = deps.calibration?.();
  try {
    const samples = await recentRateSamples(deps.control, deps.pool, RATE_HISTORY);
    return withCalibration(aggregateRates(samples.flatMap((s) => (isMeasuredPhase(s.phase) ? [{ ...s, phase: s.phase }] : []))), calibrated);
  } catch (error) {
    // An estimate must never stand in the way of a recovery: plan with the probe's or the default rates.
    deps.log.warn({ err: error, pool: deps.pool }, 'could not read measured rates; estimating with the defaults');
    return withCalibration({}, calibrated);
  }
}

export async function planPending(deps: PlannerDeps): Promise<number> {
  // Requests that need the database host are left to a runner there.
  const databaseHost = Boolean(deps.gather.config.source.dataDir);
  return planPendingRequests(deps.control, deps.pool, { databaseHost }, async (tx, request) => {
    try {
      const command = findCommand(request.command);
      if (!command?.plan) {
        throw new RecoverError('BAD_INPUT', `This runner cannot plan "${request.command}".`, { hint: 'Run /recover help for the commands that exist.' });
      }
      // The args were validated by the bot; the runner validates again, trusting nothing it did not check.
      const parsed = command.schema.safeParse(request.args);
      if (!parsed.success) throw new RecoverError('BAD_INPUT', `The request's arguments are not valid: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
      const now = deps.clock.now();
      const gathered = (await command.gather?.(deps.gather, parsed.data)) ?? {};
      const rates = await measuredRates(deps);
      const planned = command.plan(parsed.data, { ...gathered, now, production: { name: deps.productionName }, requestId: request.id, rates });
      // Stamped with this runner's approval settings: the bot refuses to collect approvals under other ones.
      const plan = routePlan({ ...planned, approvalPolicy: policyStamp(deps.gather.config.approval) }, command.runsOn?.(parsed.data) ?? 'anywhere', reachOf(deps.gather.config));
      await savePlan(tx, { requestId: request.id, plan, actor: 'runner' });
      deps.log.info({ requestId: request.id, command: request.command }, 'planned');
    } catch (error) {
      const refusal = toRecoverError(error);
      deps.log.info({ requestId: request.id, code: refusal.code }, `planning refused: ${refusal.message}`);
      await savePlanningError(tx, request.id, refusal);
    }
  });
}
