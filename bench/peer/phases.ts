/**
 * Where a restore's time went, phase by phase, the same way for both tools (pure):
 *   select   choosing the backup and checking the WAL chain (ours: CLI start, planning and the
 *            select step; pgBackRest does it inside its restore, so null);
 *   base     base backup download and extract (ours: restore-base-backup; theirs: `restore`);
 *   replay   server start and WAL replay up to "redo done";
 *   promote  "redo done" in the server log to the promoted server being handed over: the
 *            end-of-recovery checkpoint and the promotion (pgBackRest: to "ready to accept
 *            connections"; ours: to the CLI's "✓ replay-wal" line, so the sync of what an
 *            fsync=off replay wrote, done while the server already accepts connections, is in it);
 *   verify   ours' verify step (theirs has none: null).
 */

export interface Phases {
  select: number | null;
  base: number;
  replay: number;
  promote: number | null;
  verify: number | null;
}

export const PHASE_NAMES = ['select', 'base', 'replay', 'promote', 'verify'] as const;

/** Seconds between "redo done" and the last "ready to accept connections" of a server log (log_line_prefix '%m …'); null if either is missing. */
export function promoteSeconds(serverLog: string): number | null {
  let redoDone: number | null = null;
  let ready: number | null = null;
  for (const line of serverLog.split('\n')) {
    const stamp = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(line);
    if (!stamp) continue;
    // Only differences matter: every stamp read as UTC whatever the zone it names.
    const at = Date.parse(`${stamp[1]}T${stamp[2]}Z`);
    if (/redo done at/.test(line)) redoDone = at;
    else if (/database system is ready to accept connections/.test(line)) ready = at;
  }
  return redoDone !== null && ready !== null && ready >= redoDone ? (ready - redoDone) / 1000 : null;
}

/**
 * Seconds between "redo done" (a server log stamped in UTC) and `handedOverAtMs` (epoch ms,
 * when the CLI said the replay step was over); null if the log has no UTC "redo done".
 */
export function promoteSecondsUntil(serverLog: string, handedOverAtMs: number): number | null {
  let redoDone: number | null = null;
  for (const line of serverLog.split('\n')) {
    const stamp = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) UTC /.exec(line);
    if (stamp && /redo done at/.test(line)) redoDone = Date.parse(`${stamp[1]}T${stamp[2]}Z`);
  }
  return redoDone !== null && handedOverAtMs >= redoDone ? (handedOverAtMs - redoDone) / 1000 : null;
}

/** The CLI's "✓ step (12.3 s)" lines as seconds per step. */
export function stepSeconds(stderr: string): Record<string, number> {
  return Object.fromEntries([...stderr.matchAll(/✓ ([\w-]+) \(([\d.]+) s\)/g)].map((m) => [m[1]!, Number(m[2])]));
}

/** Ours: from the CLI's steps (and the time from spawn to the job's start) and the server log's promotion. */
export function oursPhases(steps: Record<string, number>, startedS: number | null, promote: number | null): Phases {
  const replayStep = (steps['configure-recovery'] ?? 0) + (steps['replay-wal'] ?? 0);
  return {
    select: (startedS ?? 0) + (steps.select ?? 0),
    base: steps['restore-base-backup'] ?? Number.NaN,
    replay: replayStep - (promote ?? 0),
    promote,
    verify: steps.verify ?? null,
  };
}

/** pgBackRest: its restore command, then start to promoted split by the server log. */
export function pgbrPhases(restoreS: number, totalS: number, promote: number | null): Phases {
  return { select: null, base: restoreS, replay: totalS - restoreS - (promote ?? 0), promote, verify: null };
}
