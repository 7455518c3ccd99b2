/** Text formatting shared by the terminal and Slack (pure). */

/**
 * `[#####-----] 52%`, or `[??????????]` without a total. The percentage is floored: a bar
 * never shows 100% before the work is done. `pad` right-aligns it for terminal columns.
 */
export function progressBar(done: number, total: number | null, width = 10, pad = false): string {
  if (total === null || total <= 0) return `[${'?'.repeat(width)}]`;
  const ratio = Math.max(0, Math.min(1, done / total));
  const filled = Math.round(ratio * width);
  const percent = `${Math.floor(ratio * 100)}%`;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pad ? percent.padStart(4) : percent}`;
}

/** Bytes in KiB/MiB/GiB; anything else as `<n> <unit>`. */
export function formatAmount(value: number, unit: string): string {
  if (unit === 'bytes' || unit === 'wal-bytes') {
    if (value >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(2)} GiB`;
    if (value >= 1024 ** 2) return `${(value / 1024 ** 2).toFixed(1)} MiB`;
    return `${(value / 1024).toFixed(0)} KiB`;
  }
  return `${value} ${unit}`;
}

/** Keeps lines while they fit in `budget` characters; then one line saying how many were left out. */
export function linesWithin(lines: string[], budget: number, leftOut: (count: number) => string): string[] {
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    if (used + line.length + 1 > budget) return [...kept, leftOut(lines.length - kept.length)];
    kept.push(line);
    used += line.length + 1;
  }
  return kept;
}

/** `0.4 s`, `12.3 s`, `4 min 12 s`, `15 min`, `1 h 03 min`, `2 h`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  if (s < 60) return `${sign}${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  if (s < 3600) {
    const rest = Math.round(s % 60);
    return rest === 0 ? `${sign}${Math.floor(s / 60)} min` : `${sign}${Math.floor(s / 60)} min ${String(rest).padStart(2, '0')} s`;
  }
  const minutes = Math.floor((s % 3600) / 60);
  return minutes === 0 ? `${sign}${Math.floor(s / 3600)} h` : `${sign}${Math.floor(s / 3600)} h ${String(minutes).padStart(2, '0')} min`;
}
