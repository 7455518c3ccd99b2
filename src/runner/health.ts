/**
 * What `recover runner` answers on GET /readyz (RECOVER_HEALTH_PORT; /healthz is only "alive"):
 * ready once started and until it stops, while the control DB answers and every job this runner
 * holds had its lease renewed within half the lease. It is renewed every third of the lease (at
 * most every 5 s), so a longer silence means the job is heading for RUNNER_LOST.
 */
import type pg from 'pg';
import { runnerHeartbeatSilence } from '../control/index.js';
import { allReady, controlDbProbe, type Readiness, type ReadinessProbe } from '../util/health.js';

export function runnerReadiness(control: pg.Pool, runnerId: string, running: () => boolean): ReadinessProbe {
  const heartbeatFresh = async (): Promise<Readiness> => {
    const silence = await runnerHeartbeatSilence(control, runnerId);
    if (!silence || silence.silentSeconds <= silence.leaseSeconds / 2) return { ready: true };
    return { ready: false, reason: `job lease not renewed for ${Math.round(silence.silentSeconds)} s (lease ${Math.round(silence.leaseSeconds)} s)` };
  };
  return allReady(async () => (running() ? { ready: true } : { ready: false, reason: 'not running' }), controlDbProbe(control, undefined, heartbeatFresh));
}
