/**
 * Fault-injection points for the reliability tests: `RECOVER_FAILPOINTS=in-place:verify` makes
 * the process kill itself (SIGKILL, as an OOM kill or a power cut would) the moment a restore
 * reaches that point. A kill through a signal sent from outside cannot land between two
 * lines of a restore reliably on a loaded machine; these points make every "killed at step X"
 * case of the runner deterministic. Never set in production: the runner logs loudly when it is.
 */
import type { Failpoint } from '../config/failpoints.js';
import type { Logger } from '../types.js';

export { FAILPOINTS, parseFailpoints, type Failpoint } from '../config/failpoints.js';

/** The context's `failpoint` function for these names, or undefined when none is set (the usual case). */
export function failpointTrigger(names: readonly Failpoint[], log: Logger): ((name: Failpoint) => void) | undefined {
  if (names.length === 0) return undefined;
  log.warn({ failpoints: names }, 'RECOVER_FAILPOINTS is set: this process kills itself at these points (fault testing only; never in production)');
  const armed = new Set<string>(names);
  return (name) => {
    if (!armed.has(name)) return;
    log.error({ failpoint: name }, 'failpoint reached: killing this process (SIGKILL)');
    process.kill(process.pid, 'SIGKILL');
  };
}
