/**
 * `/recover backups` and `recover backups`: base backups, WAL coverage per timeline, gaps,
 * restorable window and RPO exposure. Read-only and answered by its plan (no job): Slack shows
 * the plan's facts, the CLI the full report; both from `backupsReport`.
 */
import { z } from 'zod';
import type { Catalog } from '../src/catalog/catalog.js';
import { coverage, rpoExposureSeconds, type TimelineCoverage } from '../src/catalog/coverage.js';
import { DEFAULT_SEGMENT_SIZE } from '../src/catalog/segments.js';
import { readCatalog } from '../src/engine/read-catalog.js';
import { RecoverError } from '../src/errors.js';
import { formatBackups, rpoExposureText } from './format.js';
import { withCommonCliFlags } from './words.js';
import type { BaseFacts, RecoverCommand } from './types.js';

const schema = z.object({}).strict();
type NoArgs = Record<string, never>;

export interface BackupsReport {
  backups: Catalog['backups'];
  unreadableBackups: Catalog['unreadableBackups'];
  timelines: TimelineCoverage[];
  rpoExposureSeconds: number | null;
  /** The RPO the exposure is compared with (RECOVER_RPO_MINUTES of whoever gathered the catalog). */
  rpoObjectiveSeconds: number;
}

type BackupsFacts = { catalog: Catalog; rpoObjectiveSeconds: number };

/** The one computation of the report, for Slack and the CLI. */
export function backupsReport(catalog: Catalog, now: Date, rpoObjectiveSeconds: number): BackupsReport {
  const size = catalog.backups.at(-1)?.walSegmentSize ?? DEFAULT_SEGMENT_SIZE;
  return { backups: catalog.backups, unreadableBackups: catalog.unreadableBackups, timelines: coverage(catalog, size), rpoExposureSeconds: rpoExposureSeconds(catalog, now), rpoObjectiveSeconds };
}

const parse = (tokens: string[]): NoArgs => {
  if (tokens.length > 0) throw new RecoverError('BAD_INPUT', '`backups` takes no arguments.', { hint: 'Example: /recover backups' });
  return {};
};

export const backups: RecoverCommand<NoArgs, BackupsFacts> = {
  name: 'backups',
  usage: 'backups',
  example: '/recover backups',
  description: 'Base backups, WAL coverage per timeline, gaps, restorable window and RPO exposure.',
  home: 'runner',
  schema: schema as z.ZodType<NoArgs>,
  parse,
  parseCli: (tokens) => withCommonCliFlags(parse, tokens, ['--json']),
  risk: () => 'read-only',
  confirmation: () => null,
  gather: async (ctx) => ({ catalog: await readCatalog(ctx.engine.storage, ctx.engine.clock.now()), rpoObjectiveSeconds: ctx.config.objectives.rpoSeconds }),
  report(_args, facts: BackupsFacts & BaseFacts) {
    const report = backupsReport(facts.catalog, facts.now, facts.rpoObjectiveSeconds);
    return { result: report, text: formatBackups(report.backups, report.timelines, report.rpoExposureSeconds, report.unreadableBackups, report.rpoObjectiveSeconds) };
  },
  plan(_args, facts) {
    const { backups: list, timelines, rpoExposureSeconds: rpo, rpoObjectiveSeconds } = backupsReport(facts.catalog, facts.now, facts.rpoObjectiveSeconds);
    const latest = timelines.filter((t) => t.latestRestorable).at(-1);
    return {
      command: 'backups',
      summary: `${list.length} base backup(s); restorable ${latest?.earliestRestorable ?? '—'} … ${latest?.latestRestorable ?? '—'}`,
      risk: 'read-only',
      steps: [{ kind: 'report-catalog', title: 'Read the backup catalog', params: {}, destructive: false, estimateSeconds: 2 }],
      facts: {
        'Base backups': list.map((b) => `${b.id} (${b.stopTime})`).join(', ') || 'none',
        Gaps: timelines.flatMap((t) => t.gaps.map((g) => `timeline ${t.timeline}: ${g.from}…${g.to}`)).join(', ') || 'none',
        'RPO exposure': rpoExposureText(rpo, rpoObjectiveSeconds),
      },
    };
  },
};
