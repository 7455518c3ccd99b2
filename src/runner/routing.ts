/**
 * Which runner may plan and run what. A command that acts on production's data directory (an
 * in-place restore) declares `runsOn: 'database-host'`: such a request is planned only by a
 * runner with RECOVER_SOURCE_DATA_DIR, the plan records that runner's host and data directory
 * (`plan.runsOn`, part of the digest people approve), and only a runner on that host with that
 * data directory claims the job (control/queue.ts) and runs it (checked again here).
 */
import type { Config } from '../config.js';
import { RecoverError } from '../errors.js';
import type { Plan } from '../types.js';

/** What this runner can take on: its host, and production's data directory when it is on the database host. */
export interface RunnerReach {
  host: string;
  dataDir: string | null;
}

export const reachOf = (config: Pick<Config, 'runnerHost' | 'source'>): RunnerReach => ({ host: config.runnerHost, dataDir: config.source.dataDir ?? null });

/** The plan, bound to this runner's host when the command needs the database host. Pure. */
export function routePlan(plan: Plan, needs: 'database-host' | 'anywhere', reach: RunnerReach): Plan {
  if (needs !== 'database-host') return plan;
  if (!reach.dataDir) {
    throw new RecoverError('CONFIG_INVALID', `"${plan.command}" here acts on production's data directory, and this runner (host ${reach.host}) is not set up on production's database host (no RECOVER_SOURCE_DATA_DIR).`, {
      hint: 'Run a runner of this pool on the database host with RECOVER_SOURCE_DATA_DIR set (see Deploying in the README); runners elsewhere leave such requests to it. A side restore (--to side) runs anywhere.',
    });
  }
  const runsOn = { host: reach.host, dataDir: reach.dataDir };
  return { ...plan, runsOn, facts: { ...plan.facts, 'Runs on': `the runner on host ${runsOn.host} (data directory ${runsOn.dataDir})` } };
}

/** Why this runner must not run the plan (claimed by mistake, or a plan from before routing), or null. Pure. */
export function routeRefusal(plan: Pick<Plan, 'runsOn' | 'command'>, reach: RunnerReach): string | null {
  if (!plan.runsOn) return null;
  if (plan.runsOn.host !== reach.host) return `the plan runs on host ${plan.runsOn.host}, and this runner is on ${reach.host}`;
  if (plan.runsOn.dataDir !== reach.dataDir) return `the plan acts on ${plan.runsOn.dataDir}, and this runner's RECOVER_SOURCE_DATA_DIR is ${reach.dataDir ?? 'not set'}`;
  return null;
}

export function assertRunsHere(plan: Pick<Plan, 'runsOn' | 'command'>, reach: RunnerReach): void {
  const refused = routeRefusal(plan, reach);
  if (refused) {
    throw new RecoverError('CONFIG_INVALID', `This runner does not run this "${plan.command}" job: ${refused}. Nothing was done.`, {
      hint: 'Only the runner on the plan\'s database host runs it. Check RECOVER_RUNNER_HOST and RECOVER_SOURCE_DATA_DIR of the runners of this pool.',
    });
  }
}
