/**
 * The RTO trend of `/recover drill history` as a chart (pure): a vega-lite spec (rendered to
 * PNG by chart-png.ts, in the bot) and the same numbers as text, for the image's alt text and
 * the message beside it, so a screen reader or a failed upload loses nothing.
 */
import type { TopLevelSpec } from 'vega-lite';
import { formatSeconds, type DrillObjective } from './report.js';

/** One drill of the chart: when it was asked for, whether it passed, its measured RTO. */
export interface DrillPoint {
  at: string;
  ok: boolean;
  rtoSeconds: number | null;
}

/** Slack refuses alt text longer than this (files.getUploadURLExternal alt_txt). */
export const MAX_ALT_TEXT = 1000;
export const CHART_WIDTH = 480;
export const CHART_HEIGHT = 200;

const minutes = (seconds: number) => Math.round((seconds / 60) * 100) / 100;
const when = (at: string) => at.replace(/:\d{2}(\.\d+)?Z$/, 'Z').replace('T', ' ');

/** Oldest first; the drills a chart can show (a time to put them at). */
export function chartPoints(points: readonly DrillPoint[]): DrillPoint[] {
  return points.filter((p) => !Number.isNaN(Date.parse(p.at))).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/**
 * The vega-lite spec: measured RTOs (minutes) as a line, failed drills as red rules, and the
 * warning threshold (RECOVER_DRILL_WARN_PERCENT of the RTO goal) as a dashed line when it is
 * within reach of the measurements (else it would flatten them; the subtitle names it anyway).
 */
export function rtoChartSpec(input: readonly DrillPoint[], objective: DrillObjective): TopLevelSpec {
  const points = chartPoints(input);
  const warnSeconds = objective.rtoSeconds * objective.warnShare;
  const measured = points.filter((p) => p.ok && p.rtoSeconds !== null).map((p) => p.rtoSeconds!);
  const showWarn = measured.length > 0 && Math.max(...measured) >= warnSeconds / 2;
  const failed = points.filter((p) => !p.ok).length;
  const x = { field: 'at', type: 'temporal', title: null, scale: { type: 'utc' }, axis: { format: '%d %b %H:%M', labelAngle: 0, labelOverlap: true } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    background: 'white',
    config: { font: 'DejaVu Sans' },
    title: {
      text: `Restore drill RTO, last ${points.length} drill${points.length === 1 ? '' : 's'}`,
      subtitle: `goal ${formatSeconds(objective.rtoSeconds)}, warned past ${formatSeconds(warnSeconds)}${showWarn ? ' (dashed)' : ''}${failed > 0 ? `; ${failed} failed (red)` : ''}`,
    },
    data: { values: points.map((p) => ({ at: p.at, minutes: p.ok && p.rtoSeconds !== null ? minutes(p.rtoSeconds) : null, result: p.ok ? 'ok' : 'failed' })) },
    layer: [
      { transform: [{ filter: "datum.result === 'ok' && datum.minutes !== null" }], mark: { type: 'line', point: true }, encoding: { x, y: { field: 'minutes', type: 'quantitative', title: 'RTO (min)' } } },
      ...(failed > 0 ? [{ transform: [{ filter: "datum.result === 'failed'" }], mark: { type: 'rule' as const, color: '#c0392b', strokeWidth: 2 }, encoding: { x } }] : []),
      ...(showWarn ? [{ mark: { type: 'rule' as const, color: '#e67e22', strokeDash: [4, 4] }, encoding: { y: { datum: minutes(warnSeconds) } } }] : []),
    ],
  };
}

/** The numbers of the chart in words, oldest first, within `max` characters (the oldest left out first). */
export function rtoChartText(input: readonly DrillPoint[], objective: DrillObjective, max = MAX_ALT_TEXT): string {
  const points = chartPoints(input);
  const entries = points.map((p) => `${when(p.at)} ${p.ok ? (p.rtoSeconds === null ? 'ok, RTO not measured' : formatSeconds(p.rtoSeconds)) : 'FAILED'}`);
  const tail = `. RTO goal ${formatSeconds(objective.rtoSeconds)}, warned past ${formatSeconds(objective.rtoSeconds * objective.warnShare)}.`;
  for (let skip = 0; skip < entries.length; skip += 1) {
    const head = `RTO of the last ${points.length - skip} restore drill${points.length - skip === 1 ? '' : 's'}, oldest first${skip > 0 ? ` (${skip} older left out)` : ''}: `;
    const text = `${head}${entries.slice(skip).join('; ')}${tail}`;
    if (text.length <= max) return text;
  }
  return `${points.length} restore drills${tail}`.slice(0, max);
}
