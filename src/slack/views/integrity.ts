/**
 * The integrity report, posted in the job's thread when the runner emits `integrity.report`
 * (and updated with the time actually reached once the job ends): every check, row counts
 * per database and table (cut to a character budget so it always fits one message), and the
 * recovery point reached against the target. Pure.
 */
import type { IntegrityReport } from '../../engine/verify.js';
import { countSummary } from '../../engine/integrity/count-plan.js';
import { linesWithin } from '../../util/format.js';
import {
  code, context, fitMessage, formatUtc, header, plural, section, sectionsFromLines, truncate, type Block,
  type SlackMessage,
} from './common.js';

export interface IntegrityInput {
  report: IntegrityReport;
  /** The target as people read it (e.g. the ISO time asked for). */
  target: string | null;
  /** The time recovery actually reached; null until the job result says. */
  reached: string | null;
  /** Characters of table lines at most; the rest is summarised. */
  tableBudget?: number;
}

const fmtRows = (rows: number): string => (Number.isFinite(rows) ? rows.toLocaleString('en-US') : '?');
/** Exact counts read as before; the others say where the number comes from. */
const countLabel = (t: IntegrityReport['databases'][number]['tables'][number]): string =>
  t.count === 'estimate' ? ' _(estimate, reltuples)_' : t.count === 'skipped' ? ' _(estimate: exact count skipped, time budget)_' : '';

/** Skipped checks (e.g. amcheck not installed on production) passed without checking; their message starts "skipped:". */
const isSkipped = (c: IntegrityReport['checks'][number]): boolean => c.ok && (c.skipped === true || c.message.startsWith('skipped:'));
/** Informational checks (a side instance compared with production) pass whatever they find; their message starts "informational:". */
const isInformational = (c: IntegrityReport['checks'][number]): boolean => c.ok && (c.informational === true || c.message.startsWith('informational:'));

/**
 * Every check within `budget` characters: one line when all passed (naming any skipped; the
 * informational comparisons with production still shown below it, their facts being the point), else
 * each check, failed ones first (they must never be the ones cut), skipped ones marked.
 */
export function checkLines(report: IntegrityReport, budget = 3500): string[] {
  if (report.checks.length === 0) return ['_no checks were reported_'];
  // Informational checks (e.g. a side instance compared with production) pass whatever they find: their facts are shown even collapsed.
  const facts = report.checks
    .filter(isInformational)
    .map((c) => `:information_source: *${truncate(c.name, 100)}* — ${truncate(c.message, 1200)}`);
  if (report.checks.every((c) => c.ok)) {
    const skipped = report.checks.filter(isSkipped);
    const note = skipped.length > 0 ? ` (${skipped.map((c) => `${c.name}: ${c.message}`).join('; ')})` : '';
    const names = report.checks.filter((c) => !isSkipped(c)).map((c) => c.name).join(', ');
    const line = truncate(`:white_check_mark: All ${plural(report.checks.length, 'check')} passed: ${names}${note}`, Math.min(budget, 2900));
    return [line, ...linesWithin(facts, Math.max(0, budget - line.length), (n) => `_…and ${plural(n, 'more comparison')}, left out to fit one Slack message._`)];
  }
  const ordered = [...report.checks.filter((c) => !c.ok), ...report.checks.filter((c) => c.ok)];
  const lines = ordered.map(
    (c) => `${c.ok ? (isSkipped(c) ? ':heavy_minus_sign:' : isInformational(c) ? ':information_source:' : ':white_check_mark:') : ':x:'} *${truncate(c.name, 100)}* — ${truncate(c.message, isInformational(c) ? 1200 : 400)}`,
  );
  return linesWithin(lines, budget, (n) => `_…and ${plural(n, 'more check')} (passed ones are listed last), left out to fit one Slack message._`);
}

/** Row counts per database and table, within `budget` characters; the rest is counted, not listed. */
export function tableLines(report: IntegrityReport, budget: number): string[] {
  const lines: string[] = [];
  let used = 0;
  let omittedTables = 0;
  let omittedDatabases = 0;
  for (const db of report.databases) {
    const total = db.tables.reduce((sum, t) => sum + (Number.isFinite(t.rows) ? t.rows : 0), 0);
    // Which numbers are exact, whenever any is not.
    const kinds = db.tables.some((t) => t.count !== undefined) ? ` (${countSummary(db.tables.map((t) => t.count))})` : '';
    const title = `*${truncate(db.name, 80)}* — ${plural(db.tables.length, 'table')}, ${fmtRows(total)} rows${kinds}`;
    if (used + title.length > budget) {
      omittedDatabases += 1;
      omittedTables += db.tables.length;
      continue;
    }
    lines.push(title);
    used += title.length + 1;
    for (const t of db.tables) {
      const newest = t.newest ? ` · newest ${formatUtc(t.newest, true)}` : '';
      const line = `• ${code(truncate(t.table, 120))} ${fmtRows(t.rows)} rows${countLabel(t)}${newest}`;
      if (used + line.length > budget) {
        omittedTables += 1;
        continue;
      }
      lines.push(line);
      used += line.length + 1;
    }
  }
  if (omittedTables > 0 || omittedDatabases > 0) {
    const dbs = omittedDatabases ? ` (${plural(omittedDatabases, 'database')} not listed)` : '';
    lines.push(`_…and ${plural(omittedTables, 'more table')}${dbs}, left out to fit one Slack message._`);
  }
  return lines;
}

export function recoveryPointLine(target: string | null, reached: string | null): string {
  const t = target ? code(target) : '_no time target_';
  const r = reached ? code(formatUtc(reached, true)) : '_known when the job finishes (see the summary)_';
  return `*Recovery point:* target ${t} · reached ${r}`;
}

export function integrityMessage(input: IntegrityInput): SlackMessage {
  const { report } = input;
  const failed = report.checks.filter((c) => !c.ok).length;
  const verdict = report.ok ? 'passed' : 'FAILED';
  const blocks: Block[] = [
    header(`Integrity report: ${verdict}`),
    section(
      `${report.ok ? ':white_check_mark:' : ':x:'} ${report.checks.length - failed} of ${plural(report.checks.length, 'check')} passed` +
        `${failed ? `, *${failed} failed*` : ''}.\n${report.subject ? `*Checked:* ${truncate(report.subject, 200)}` : recoveryPointLine(input.target, input.reached)}`,
    ),
    ...sectionsFromLines(checkLines(report), 6),
    ...sectionsFromLines(tableLines(report, input.tableBudget ?? 4500), 6),
    context(`Counted on ${report.subject ? truncate(report.subject, 200) : 'the restored instance'}. Compare with what you expect before relying on it.`),
  ];
  return fitMessage({ text: `Integrity report: ${verdict} (${failed} failed check(s))`, blocks });
}
