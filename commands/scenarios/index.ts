/**
 * `/recover scenarios [what happened]` and `recover scenarios …` (runbook §0): the scenario
 * table — what was lost, what to run, risk — with the expected time to recover computed from
 * this pool's measured restore rates and the newest backup and WAL in storage (src/estimate/),
 * against the RTO objective (RECOVER_RTO_MINUTES), and beside it the RTO the restore drills
 * measured (median of the newest that passed; `/recover drill`). With a few words ("dropped table") it puts
 * the likely scenario first. Read-only, answered by its plan (no job).
 */
import type { Catalog } from '../../src/catalog/catalog.js';
import { selectRestore, type RestoreSelection } from '../../src/catalog/select-restore.js';
import { readCatalog } from '../../src/engine/read-catalog.js';
import { estimateBasis } from '../../src/estimate/rates.js';
import { restoreEstimates } from '../../src/estimate/restore.js';
import type { DrillRow } from '../../src/control/drills.js';
import { measuredRto, measuredRtoText } from '../../src/drills/report.js';
import { readDrills } from '../drill.js';
import type { Plan } from '../../src/types.js';
import type { BaseFacts, RecoverCommand } from '../types.js';
import { withCommonCliFlags } from '../words.js';
import { aboutSchema, matchScenario, parseAbout, SCENARIOS, type AboutArgs, type Scenario } from './table.js';

const schema = aboutSchema;
type ScenariosArgs = AboutArgs;
/** `drills`: the pool's newest restore drills (null or absent: none known). */
type ScenariosFacts = { catalog: Catalog | null; rtoObjectiveSeconds: number; drills?: DrillRow[] | null };

export interface ScenarioRow {
  key: Scenario['key'];
  title: string;
  lost: string;
  command: string;
  method: string;
  risk: string;
  /** Seconds, or null when it needs no restore or has no command yet. */
  expectedSeconds: number | null;
  expected: string;
  /** For a scenario that restores: the RTO the restore drills measured, or that none did yet. */
  measured: string | null;
}

export interface ScenariosReport {
  likely: Scenario['key'] | null;
  /** How a full restore of the newest backup would go: its size, the WAL since, the rates' basis. */
  restore: { backupId: string; seconds: number; baseSeconds: number; replaySeconds: number; basis: string } | null;
  rtoObjectiveSeconds: number;
  scenarios: ScenarioRow[];
}

const minutes = (seconds: number) => (seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`);
/** Copying back from the side copy: not measured yet, so shown as a part of its own rather than guessed into the number. */
const COPY_NOTE = ' plus the copy back (depends on its size)';

function latestSelection(catalog: Catalog | null): RestoreSelection | null {
  if (!catalog) return null;
  try {
    return selectRestore(catalog, { kind: 'latest' });
  } catch {
    return null;
  }
}

/** The one computation of the table, for Slack and the CLI. Pure. */
export function scenariosReport(args: ScenariosArgs, facts: ScenariosFacts & Pick<BaseFacts, 'rates'>): ScenariosReport {
  const selection = latestSelection(facts.catalog);
  const estimates = selection ? restoreEstimates(selection, facts.rates) : null;
  const restore = selection && estimates
    ? { backupId: selection.backup.id, baseSeconds: estimates.base.seconds, replaySeconds: estimates.replay.seconds, seconds: estimates.base.seconds + estimates.replay.seconds, basis: estimateBasis(Math.min(estimates.base.estimate.samples, estimates.replay.estimate.samples)) }
    : null;
  const likely = args.about ? matchScenario(args.about) : null;
  const drilled = measuredRtoText(measuredRto(facts.drills ?? []));
  const ordered = likely ? [likely, ...SCENARIOS.filter((s) => s.key !== likely.key)] : [...SCENARIOS];
  const against = (seconds: number) => (seconds <= facts.rtoObjectiveSeconds ? `within the ${minutes(facts.rtoObjectiveSeconds)} RTO` : `ABOVE the ${minutes(facts.rtoObjectiveSeconds)} RTO`);
  const rows = ordered.map((scenario): ScenarioRow => {
    let expectedSeconds: number | null = null;
    let expected: string;
    if (scenario.rto === 'none') expected = 'minutes: no restore (archive the backlog, free only what is safe, start)';
    else if (scenario.rto === 'not-built') expected = 'no command yet: by hand, per the runbook';
    else if (!restore) expected = 'unknown: no restorable base backup in storage (run /recover backups)';
    else {
      expectedSeconds = restore.seconds;
      expected = `about ${minutes(restore.seconds)} to restore${scenario.rto === 'restore+copy' ? COPY_NOTE : ''}, ${against(restore.seconds)}`;
    }
    const measured = scenario.rto === 'restore' || scenario.rto === 'restore+copy' ? drilled : null;
    return { key: scenario.key, title: scenario.title, lost: scenario.lost, command: scenario.command, method: scenario.method, risk: scenario.risk, expectedSeconds, expected, measured };
  });
  return { likely: likely?.key ?? null, restore, rtoObjectiveSeconds: facts.rtoObjectiveSeconds, scenarios: rows };
}

export function scenariosText(report: ScenariosReport): string {
  const head = report.restore
    ? `A full restore of the newest backup (${report.restore.backupId}) and its WAL: about ${minutes(report.restore.seconds)} (base ${minutes(report.restore.baseSeconds)}, replay ${minutes(report.restore.replaySeconds)}), ${report.restore.basis}.`
    : 'No restorable base backup in storage: every scenario that restores is blocked (run /recover backups, /recover preflight).';
  const lines = report.scenarios.map((row, index) => `${index === 0 && report.likely ? 'LIKELY → ' : ''}${row.title} (${row.lost}; risk ${row.risk})\n    run: ${row.command}\n    how: ${row.method}\n    expected: ${row.expected}${row.measured ? `\n    drills: ${row.measured}` : ''}`);
  return [head, ...lines].join('\n');
}

const parse = (tokens: string[]): ScenariosArgs => parseAbout(tokens, 'scenarios');

export const scenarios: RecoverCommand<ScenariosArgs, ScenariosFacts> = {
  name: 'scenarios',
  usage: 'scenarios [what happened]',
  example: '/recover scenarios dropped table',
  description: "What to run for each kind of loss (the runbook's scenarios), with the expected time to recover from this pool's measured rates; a few words put the likely one first. Read-only.",
  home: 'runner',
  schema,
  parse,
  parseCli: (tokens) => withCommonCliFlags(parse, tokens, ['--json']),
  risk: () => 'read-only',
  confirmation: () => null,
  gather: async (ctx) => ({
    catalog: await readCatalog(ctx.engine.storage, ctx.engine.clock.now()).catch(() => null),
    rtoObjectiveSeconds: ctx.config.objectives.rtoSeconds,
    drills: await readDrills(ctx.config, 20),
  }),
  report(args, facts: ScenariosFacts & BaseFacts) {
    const report = scenariosReport(args, facts);
    return { result: report, text: scenariosText(report) };
  },
  plan(args, facts): Plan {
    const report = scenariosReport(args, facts);
    const likely = report.likely ? report.scenarios[0] : null;
    return {
      command: 'scenarios',
      summary: likely ? `Likely: ${likely.title} → ${likely.command}` : `Recovery scenarios${report.restore ? `: a full restore takes about ${minutes(report.restore.seconds)}` : ''}`,
      risk: 'read-only',
      steps: [{ kind: 'report-scenarios', title: 'Read the backup catalog and the measured rates', params: {}, destructive: false, estimateSeconds: 2 }],
      facts: Object.fromEntries(report.scenarios.map((row, index) => [`${index === 0 && report.likely ? 'LIKELY: ' : ''}${row.title}`, `${row.command} — ${row.method}; risk ${row.risk}; expected ${row.expected}${row.measured ? `; ${row.measured}` : ''}`])),
    };
  },
};
