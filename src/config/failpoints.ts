/**
 * The names of the fault-injection points (RECOVER_FAILPOINTS; engine/failpoints.ts kills the
 * process at them). Here, beside the configuration that parses them, so config does not
 * depend on the engine.
 */
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
