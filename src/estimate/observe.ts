/**
 * Measuring a phase from the engine's own events (pure): a reducer over `step.started`,
 * `step.progress` and `step.finished`, keeping O(1) state per phase however long it runs.
 *
 * The rate is taken over the window in which bytes moved: from the first progress event to the
 * last one that advanced. Time before the first byte (server start-up; for replay, minus the
 * bytes already replayed by the first event at that rate) is `startupSeconds`; time after the
 * last advance (end-of-recovery checkpoint, promotion) is `tailSeconds`. A phase too short to
 * have a window (under a second, or a single event) counts all of its time as transfer. The
 * times at which each tenth of the bytes was passed make the phase's profile (./profile.ts).
 */
import type { EngineEvent } from '../types.js';
import { extendCrossings, profileOf } from './profile.js';
import { isMeasuredPhase, type MeasuredPhase, type PhaseSample } from './rates.js';

interface Point {
  at: number;
  done: number;
}

export interface PhaseTrack {
  startedAt: number;
  first: Point | null;
  /** The last progress event whose `done` grew (or the first). */
  lastAdvance: Point | null;
  total: number | null;
  /** When (ms) each tenth of the total was passed, in order; null: before the first progress. */
  crossings: (number | null)[];
}

export type PhaseObservation = Partial<Record<MeasuredPhase, PhaseTrack>>;

/** Shortest window (seconds) a rate is taken over. */
export const MIN_RATE_WINDOW_SECONDS = 1;

const ms = (iso: string): number => new Date(iso).getTime();

/** The sample of a finished phase; null when it moved no bytes or its times are unreadable. */
export function sampleOf(phase: MeasuredPhase, track: PhaseTrack, finishedAt: number, seconds: number): PhaseSample | null {
  const bytes = track.lastAdvance?.done ?? track.total ?? 0;
  if (!(bytes > 0) || !(seconds > 0) || !Number.isFinite(finishedAt)) return null;
  const { first, lastAdvance } = track;
  if (first && lastAdvance && Number.isFinite(first.at) && Number.isFinite(track.startedAt)) {
    const window = (lastAdvance.at - first.at) / 1000;
    const moved = lastAdvance.done - first.done;
    if (window >= MIN_RATE_WINDOW_SECONDS && moved > 0) {
      const bytesPerSecond = moved / window;
      return {
        phase,
        bytes,
        seconds,
        bytesPerSecond,
        startupSeconds: Math.max(0, (first.at - track.startedAt) / 1000 - first.done / bytesPerSecond),
        tailSeconds: Math.max(0, (finishedAt - lastAdvance.at) / 1000),
        profile: profileOf(track.crossings, track.startedAt, lastAdvance.at),
      };
    }
  }
  return { phase, bytes, seconds, bytesPerSecond: bytes / seconds, startupSeconds: 0, tailSeconds: 0, profile: null };
}

/** Folds one event in; returns the sample of a phase that just finished. */
export function observeEvent(state: PhaseObservation, event: EngineEvent): { state: PhaseObservation; sample: PhaseSample | null } {
  if (!('step' in event) || !isMeasuredPhase(event.step)) return { state, sample: null };
  const phase = event.step;
  const track = state[phase];
  switch (event.type) {
    case 'step.started':
      return { state: { ...state, [phase]: { startedAt: ms(event.at), first: null, lastAdvance: null, total: null, crossings: [] } }, sample: null };
    case 'step.progress': {
      if (!track) return { state, sample: null };
      const point = { at: ms(event.at), done: event.done };
      const advanced = !track.lastAdvance || event.done > track.lastAdvance.done;
      const total = event.total ?? track.total;
      const next: PhaseTrack = {
        ...track,
        first: track.first ?? point,
        lastAdvance: advanced ? point : track.lastAdvance,
        total,
        crossings: advanced ? extendCrossings(track.crossings, track.lastAdvance, point, total) : track.crossings,
      };
      return { state: { ...state, [phase]: next }, sample: null };
    }
    case 'step.finished': {
      if (!track) return { state, sample: null };
      const { [phase]: _finished, ...rest } = state;
      return { state: rest, sample: sampleOf(phase, track, ms(event.at), event.seconds) };
    }
    default:
      return { state, sample: null };
  }
}

/** Every phase sample in a list of events (benchmarks, tests). */
export function samplesOf(events: readonly EngineEvent[]): PhaseSample[] {
  let state: PhaseObservation = {};
  const samples: PhaseSample[] = [];
  for (const event of events) {
    const folded = observeEvent(state, event);
    state = folded.state;
    if (folded.sample) samples.push(folded.sample);
  }
  return samples;
}
