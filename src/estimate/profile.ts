/**
 * The time profile of a phase (pure): when, as a share of the phase's time, each tenth of its
 * bytes was done. A replay does not move its bytes at one rate: in bench:pitr the first tenth
 * ran ~2x slower than the rest, round after round, so a rate observed early is too pessimistic
 * and the runner's historical rate alone misses how fast this machine is today. With the
 * history's profile, the time this run took to reach a fraction says how fast it is, and the
 * profile says how much of the phase is still ahead:
 *
 *     remaining transfer = elapsed × (1 / share(fraction) − 1)
 *
 * Profiles are measured from the step's start to its last advancing progress event (the tail
 * after it, checkpoint and promotion, is estimated apart) and kept as `PROFILE_TENTHS` shares,
 * at 10 %, 20 % … 90 % of the bytes; a tenth that was passed before the first progress event
 * (replay reports only once the server accepts connections) is unknown (null).
 *
 * A profile is a property of the WAL and the restore's size as much as of the machine, so it is
 * applied only to a phase of comparable size (`PROFILE_SIZE_RATIO`); otherwise estimates use
 * rates alone (src/estimate/eta.ts).
 */

/** Tenths of the bytes a profile records: 10 % … 90 % (100 % is the end, share 1). */
export const PROFILE_TENTHS = 9;
/** A profile applies to phases of between 1/ratio and ratio times its bytes. */
export const PROFILE_SIZE_RATIO = 1.5;

export type Profile = readonly (number | null)[];

interface Point {
  at: number;
  done: number;
}

/**
 * The crossing times (ms) known so far, extended by the progress from `previous` to `point`: each
 * tenth of `total` passed in between, at the time interpolated on that line. Without a previous
 * point the tenths already passed are unknown (null).
 */
export function extendCrossings(crossings: readonly (number | null)[], previous: Point | null, point: Point, total: number | null): (number | null)[] {
  if (total === null || !(total > 0)) return [...crossings];
  const next = [...crossings];
  while (next.length < PROFILE_TENTHS) {
    const bytes = ((next.length + 1) / 10) * total;
    if (point.done < bytes) break;
    if (!previous || previous.done >= bytes) next.push(previous ? previous.at : null);
    else next.push(previous.at + ((point.at - previous.at) * (bytes - previous.done)) / (point.done - previous.done));
  }
  return next;
}

const round3 = (value: number) => Number(value.toFixed(3));

/** The shares of a finished phase (rounded, as plans carry them); null when nothing is known or it ran no time. */
export function profileOf(crossings: readonly (number | null)[], startedAt: number, endedAt: number): Profile | null {
  const span = endedAt - startedAt;
  if (!(span > 0) || crossings.length < PROFILE_TENTHS || crossings.every((c) => c === null)) return null;
  return crossings.slice(0, PROFILE_TENTHS).map((at) => (at === null ? null : round3(Math.min(1, Math.max(0, (at - startedAt) / span)))));
}

/**
 * The share of the phase's time by which `fraction` of its bytes is done, interpolated between
 * the two known tenths around it (100 % is share 1); null below the first known tenth, where a
 * gap is unknown, or when the profile is not increasing there.
 */
export function shareAt(profile: Profile, fraction: number): number | null {
  if (!(fraction >= 0.1) || fraction > 1 || profile.length !== PROFILE_TENTHS) return null;
  const points = [...profile, 1];
  const lower = Math.min(PROFILE_TENTHS - 1, Math.floor(fraction * 10 + 1e-9) - 1);
  const at = points[lower];
  const after = points[lower + 1];
  if (typeof at !== 'number' || typeof after !== 'number' || !(after >= at) || !(at > 0)) return null;
  return at + (after - at) * (fraction * 10 - (lower + 1));
}

/** Whether a profile measured over phases of `profileBytes` applies to one of `bytes`. */
export function profileApplies(bytes: number, profileBytes: number): boolean {
  return bytes > 0 && profileBytes > 0 && bytes <= profileBytes * PROFILE_SIZE_RATIO && bytes * PROFILE_SIZE_RATIO >= profileBytes;
}
