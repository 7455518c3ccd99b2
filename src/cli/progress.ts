/** Renders engine events on the terminal: one line per step, a progress bar while it runs. */
import type { EngineEvent, EventSink } from '../types.js';

export function progressBar(done: number, total: number | null, width = 30): string {
  if (total === null || total <= 0) return `[${'?'.repeat(width)}]`;
  const ratio = Math.max(0, Math.min(1, done / total));
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%`;
}

export function formatAmount(value: number, unit: string): string {
  if (unit === 'bytes' || unit === 'wal-bytes') {
    if (value >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(2)} GiB`;
    if (value >= 1024 ** 2) return `${(value / 1024 ** 2).toFixed(1)} MiB`;
    return `${(value / 1024).toFixed(0)} KiB`;
  }
  return `${value} ${unit}`;
}

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
        const text = `    ${event.step} ${progressBar(event.done, event.total)} ${formatAmount(event.done, event.unit)}${event.total !== null ? ` / ${formatAmount(event.total, event.unit)}` : ''}${event.detail ? ` ${event.detail}` : ''}`;
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
