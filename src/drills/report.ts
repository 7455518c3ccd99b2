/**
 * The words of restore drills (pure): the result notice posted to RECOVER_ALERT_CHANNEL and the
 * `/recover drill history` report. Both measure against the RTO goal (config.objectives.rtoSeconds,
 * 2 h by default) and warn once a drill's RTO passes RECOVER_DRILL_WARN_PERCENT of it, or a drill failed.
 */
import type { DrillRecord, DrillRow } from '../control/drills.js';

export interface DrillObjective {
  rtoSeconds: number;
  /** 0 < share ≤ 1: the part of the goal past which a measured RTO is warned about. */
  warnShare: number;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

const percent = (share: number) => `${Math.round(share * 100)} %`;

/** Why this drill needs someone's attention, or null. */
export function drillWarning(drill: Pick<DrillRecord, 'ok' | 'rtoSeconds' | 'error'>, objective: DrillObjective): string | null {
  if (!drill.ok) return `the drill failed${drill.error ? ` (${drill.error.code}: ${drill.error.message})` : ''}: a restore now might fail the same way`;
  if (drill.rtoSeconds !== null && drill.rtoSeconds > objective.rtoSeconds * objective.warnShare) {
    return `the measured RTO ${formatSeconds(drill.rtoSeconds)} is ${percent(drill.rtoSeconds / objective.rtoSeconds)} of the ${formatSeconds(objective.rtoSeconds)} goal (warned past ${percent(objective.warnShare)})`;
  }
  return null;
}

/** The notice posted when a drill ends. */
export function drillNoticeText(drill: DrillRecord, objective: DrillObjective): string {
  const how = drill.trigger === 'schedule' ? 'Scheduled restore drill' : 'Restore drill';
  const head = drill.ok
    ? `${how} passed: backup ${drill.backupId} restored to ${drill.target ?? 'the newest WAL'} and verified in ${formatSeconds(drill.rtoSeconds ?? 0)} (RTO goal ${formatSeconds(objective.rtoSeconds)}).`
    : `${how} FAILED${drill.backupId ? ` (backup ${drill.backupId})` : ''}: ${drill.error?.message ?? 'no reason recorded'}`;
  const warning = drillWarning(drill, objective);
  const next = drill.ok ? '' : ' Run `/recover preflight` and `/recover backups`, then `/recover drill` again.';
  return `${head}${warning && drill.ok ? `\n:warning: ${warning}.` : ''}${next}`;
}

/** Oldest-to-newest arrow of the successful drills' RTOs: the trend in words. */
export function drillTrend(rows: readonly DrillRow[]): string {
  const measured = rows.filter((r) => r.ok && r.rtoSeconds !== null).map((r) => r.rtoSeconds!);
  if (measured.length < 2) return 'not enough successful drills for a trend';
  const newest = measured[0]!;
  const older = measured.slice(1);
  const mean = older.reduce((a, b) => a + b, 0) / older.length;
  const change = (newest - mean) / mean;
  const word = Math.abs(change) < 0.1 ? 'steady' : change > 0 ? 'slower' : 'faster';
  return `${word}: newest ${formatSeconds(newest)} against ${formatSeconds(mean)} on average before (${change >= 0 ? '+' : ''}${Math.round(change * 100)} %)`;
}

export interface DrillHistory {
  heading: string;
  /** One line per drill, newest first. */
  lines: string[];
  trend: string;
  warnings: string[];
}

/** The parts of the history report (Slack shows them as separate facts, so a long list never cuts off the warnings). */
export function drillHistory(rows: readonly DrillRow[], objective: DrillObjective): DrillHistory {
  const lines = rows.map((r) => {
    const when = r.requestedAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const result = r.ok ? `ok, RTO ${r.rtoSeconds === null ? '?' : `${Math.round(r.rtoSeconds)} s`}` : `FAILED (${r.error?.code ?? 'unknown'})`;
    return `• ${when}  ${r.trigger === 'schedule' ? 'scheduled' : 'asked for'}  ${result}  backup ${r.backupId ?? '-'}`;
  });
  const failed = rows.filter((r) => !r.ok).length;
  const newest = rows[0] ? drillWarning(rows[0], objective) : null;
  return {
    heading: `Restore drills, newest first (${rows.length}; ${failed} failed; RTO goal ${formatSeconds(objective.rtoSeconds)}, warned past ${percent(objective.warnShare)}):`,
    lines,
    trend: drillTrend(rows),
    warnings: [newest ? `newest drill: ${newest}` : null, failed > 0 ? `${failed} of the last ${rows.length} drills failed` : null].filter((w): w is string => w !== null),
  };
}

export const NO_DRILLS = 'No restore drills yet. Run `/recover drill`, or set RECOVER_DRILL_SCHEDULE so the runners drill on a schedule.';

/** `/recover drill history` as text: newest first, one line per drill, the trend, and warnings. */
export function drillHistoryText(rows: readonly DrillRow[], objective: DrillObjective): string {
  if (rows.length === 0) return NO_DRILLS;
  const history = drillHistory(rows, objective);
  return [history.heading, ...history.lines, `Trend: ${history.trend}.`, ...history.warnings.map((w) => `:warning: ${w}.`)].join('\n');
}

/** What the drills measured, for the scenario guide: the median RTO of the newest passing drills. */
export interface MeasuredRto {
  medianSeconds: number;
  /** How many drills the median is of. */
  count: number;
  /** When the newest of them was asked for. */
  newestAt: Date;
}

/** The median RTO of the newest `last` drills that passed with a measured RTO (any order in), or null without one. */
export function measuredRto(rows: ReadonlyArray<Pick<DrillRow, 'requestedAt' | 'ok' | 'rtoSeconds'>>, last = 5): MeasuredRto | null {
  const passed = rows.filter((r) => r.ok && r.rtoSeconds !== null).sort((a, b) => b.requestedAt.getTime() - a.requestedAt.getTime()).slice(0, last);
  if (passed.length === 0) return null;
  const sorted = passed.map((r) => r.rtoSeconds!).sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const medianSeconds = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { medianSeconds, count: passed.length, newestAt: passed[0]!.requestedAt };
}

/** The measured RTO in words (what `/recover scenarios` shows beside a restoring scenario). */
export function measuredRtoText(measured: MeasuredRto | null): string {
  if (!measured) return 'no drill measured yet (`/recover drill` measures one)';
  const drills = measured.count === 1 ? 'the last drill' : `the last ${measured.count} drills`;
  return `${formatSeconds(measured.medianSeconds)} measured by restore drills (median of ${drills}, newest ${measured.newestAt.toISOString().slice(0, 10)})`;
}
