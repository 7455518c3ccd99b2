/**
 * Fault-injection points for the reliability tests: `RECOVER_FAILPOINTS=in-place:verify` makes
 * the process kill itself (SIGKILL, as an OOM kill or a power cut would) the moment a restore
 * reaches that point. A kill through a signal sent from outside cannot land between two
 * lines of a restore reliably on a loaded machine; these points make every "killed at step X"
 * case of the runner deterministic. Never set in production: the runner logs loudly when it is.
 */
import type { Logger } from '../types.js';

export const FAILPOINTS = [
  /** Production's data directory was renamed aside; the empty new one not yet made. */
  'in-place:moved-aside',
  /** One part of the base backup is extracted (side or in place). */
  'restore:part-extracted',
  /** Recovery is configured (in place: archiving paused); the server not yet started. */
  'restore:configured',
  /** The server was started in recovery (replay under way). */
  'restore:server-started',
  /** In place: replay finished and the server promoted; verification not yet begun. */
  'in-place:verify',
  /** In place: the journal says verified; archiving not yet resumed. */
  'in-place:verified',
] as const;

export type Failpoint = (typeof FAILPOINTS)[number];

/** Parses RECOVER_FAILPOINTS (comma-separated names); an unknown name is an error, so a typo never silently tests nothing. */
export function parseFailpoints(text: string): Failpoint[] | string {
  const names = text.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(FAILPOINTS as readonly string[]).includes(name));
  if (unknown.length > 0) return `unknown failpoint ${unknown.join(', ')}; known: ${FAILPOINTS.join(', ')}`;
  return names as Failpoint[];
}

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
