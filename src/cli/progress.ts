/** Renders engine events on the terminal: one line per step, a progress bar while it runs. */
import type { EngineEvent, EventSink } from '../types.js';

import { formatAmount, progressBar } from '../util/format.js';

export function terminalProgress(stream: NodeJS.WritableStream, isTty: boolean): EventSink {
  let lastDraw = 0;
  let drawn = false;
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
  return {
    emit(event) {
      if (event.type === 'step.progress') {
        const now = Date.now();
        // Non-terminals (CI logs) get a line every 2 s at most; a terminal redraws 10x a second.
        if (now - lastDraw < (isTty ? 100 : 2000)) return;
        lastDraw = now;
        clear();
        const text = `    ${event.step} ${progressBar(event.done, event.total, 30, true)} ${formatAmount(event.done, event.unit)}${event.total !== null ? ` / ${formatAmount(event.total, event.unit)}` : ''}${event.detail ? ` ${event.detail}` : ''}`;
        stream.write(isTty ? text : `${text}\n`);
        drawn = isTty;
        return;
      }
      const text = line(event);
      if (text === null) return;
      clear();
      stream.write(`${text}\n`);
    },
  };
}
