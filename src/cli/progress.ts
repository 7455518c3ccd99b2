/** Renders engine events on the terminal: one line per step, a progress bar while it runs. */
import { forSurface } from '../../commands/surface.js';
import { phaseEta, type ProgressPoint } from '../estimate/eta.js';
import { phaseEstimate } from '../estimate/rates.js';
import type { EngineEvent, EventSink } from '../types.js';
import { formatAmount, formatDuration, progressBar } from '../util/format.js';

export function terminalProgress(stream: NodeJS.WritableStream, isTty: boolean): EventSink {
  let lastDraw = 0;
  let drawn = false;
  // Per running step: when it started and its first progress, for the ETA (src/estimate/eta.ts,
  // the same function as Slack's status message; here from this run's own rate only, for replay
  // with its slow start allowed for, REPLAY_WARMUP).
  const running = new Map<string, { startedAt: number; first: ProgressPoint | null }>();
  const clear = () => {
    if (drawn && isTty) stream.write('\r\x1b[2K');
    drawn = false;
  };
  const line = (event: EngineEvent): string | null => {
    switch (event.type) {
      case 'job.started':
        return `▶ ${event.command}`;
      case 'step.started':
        return `  … ${event.title}`;
      case 'step.finished':
        return `  ✓ ${event.step} (${event.seconds.toFixed(1)} s)${event.detail ? ` — ${event.detail}` : ''}`;
      case 'job.failed':
        return `✗ ${event.message}`;
      default:
        return null;
    }
  };
  const etaText = (event: Extract<EngineEvent, { type: 'step.progress' }>): string => {
    const step = running.get(event.step);
    if (!step) return '';
    const last = { at: Date.parse(event.at), done: event.done };
    step.first ??= last;
    const progress = { total: event.total, startedAt: step.startedAt, first: step.first, last };
    // Replay's slow start allowed for as on a pool's first restore (the CLI has no measured history).
    const warming = event.step === 'replay-wal' && event.total ? phaseEta(progress, phaseEstimate('replay-wal', event.total, undefined)) : null;
    const eta = warming?.basis === 'warmup' ? warming : phaseEta(progress, null);
    return eta ? `, ~${formatDuration(eta.remainingSeconds)} left` : '';
  };
  return {
    emit(event) {
      if (event.type === 'step.started') running.set(event.step, { startedAt: Date.parse(event.at), first: null });
      if (event.type === 'step.finished') running.delete(event.step);
      if (event.type === 'step.progress') {
        const eta = etaText(event); // every event counts for the rate, drawn or not
        const now = Date.now();
        // Non-terminals (CI logs) get a line every 2 s at most; a terminal redraws 10x a second.
        if (now - lastDraw < (isTty ? 100 : 2000)) return;
        lastDraw = now;
        clear();
        const text = `    ${event.step} ${progressBar(event.done, event.total, 30, true)} ${formatAmount(event.done, event.unit)}${event.total !== null ? ` / ${formatAmount(event.total, event.unit)}` : ''}${eta}${event.detail ? ` ${event.detail}` : ''}`;
        stream.write(isTty ? text : `${text}\n`);
        drawn = isTty;
        return;
      }
      const raw = line(event);
      if (raw === null) return;
      // A failure's message or a step's detail may name a command the Slack way.
      const text = forSurface(raw, 'cli');
      clear();
      stream.write(`${text}\n`);
    },
  };
}
