/**
 * `/recover backups` and `recover backups`: base backups, WAL coverage per timeline, gaps,
 * restorable window and RPO exposure, what retention keeps (per backup, and why) with the WAL
 * window it leaves, and when the next scheduled backup is. Read-only and answered by its plan
 * (no job): Slack shows the plan's facts, the CLI the full report; both from `backupsReport`.
 */
import { z } from 'zod';
import type { Catalog } from '../src/catalog/catalog.js';
import { coverage, rpoExposureSeconds, type TimelineCoverage } from '../src/catalog/coverage.js';
import { DEFAULT_SEGMENT_SIZE } from '../src/catalog/segments.js';
import { readCatalog } from '../src/engine/read-catalog.js';
import { scanDumps } from '../src/engine/dumps/list.js';
import { describeDumpPolicy, planDumpRetention, type DumpLeftover, type DumpRetentionPolicy } from '../src/engine/dumps/retention.js';
import type { DumpEntry } from '../src/engine/dumps/manifest.js';
import { planRetention, type RetentionPlan, type RetentionPolicy } from '../src/engine/retention/plan.js';
import { RecoverError } from '../src/errors.js';
import { nextSlot, parseCron } from '../src/util/cron.js';
import { formatBackups, rpoExposureText } from './format.js';
import { fateText, retentionLines, retentionSummary, walWindowText } from './retention-view.js';
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
  /** What RECOVER_RETENTION_FULL / _DAYS keep of it now, and why (engine/retention/plan.ts). */
  retention: RetentionPlan;
  /** RECOVER_BACKUP_SCHEDULE (UTC) and its next slot; null when backups are not scheduled. */
  schedule: { cron: string; next: string | null } | null;
}

type BackupsFacts = {
  catalog: Catalog;
  rpoObjectiveSeconds: number;
  retention?: RetentionPolicy;
  backupSchedule?: string | null;
  dumps?: DumpEntry[] | string;
  /** Failed dump uploads (a stamp without a manifest): never offered, removed by the scheduled dump's cleanup. */
  dumpLeftovers?: DumpLeftover[];
  dumpSchedule?: string | null;
  dumpRetention?: DumpRetentionPolicy;
};

/**
 * Logical dumps (recover dump-backup) beside the base backups: one line each (with what dump
 * retention does with it, when a policy is set), failed uploads, or why they could not be listed.
 */
export function dumpLines(dumps: DumpEntry[] | string | undefined, retention: { policy?: DumpRetentionPolicy; leftovers?: DumpLeftover[]; now?: Date } = {}): string[] {
  if (dumps === undefined) return [];
  if (typeof dumps === 'string') return ['Logical dumps:', `  (could not be listed: ${dumps})`];
  const plan = planDumpRetention(dumps, retention.leftovers ?? [], retention.policy ?? {}, retention.now ?? new Date(0));
  const fate = (database: string, stamp: string) => {
    if (!plan.configured) return '';
    const found = plan.dumps.find((d) => d.database === database && d.stamp === stamp);
    return found ? `; ${found.reasons[0]}` : '';
  };
  const lines = dumps.map((dump) => (dump.manifest
    ? `  ${dump.database}/${dump.stamp}: ${(dump.manifest.dumpBytes / 1e6).toFixed(1)} MB, snapshot ${dump.manifest.snapshot.time}, LSN ${dump.manifest.snapshot.lsn}${fate(dump.database, dump.stamp)}`
    : `  ${dump.database}/${dump.stamp}: unusable (${dump.problem})`));
  const leftovers = plan.leftovers.map((l) => `  ${l.database}/${l.stamp}: failed upload (no manifest, ${l.blobs} blob(s); never offered for a restore); ${l.delete ? 'removed at the next scheduled dump' : l.reason}`);
  if (lines.length + leftovers.length === 0) return ['Logical dumps:', '  (none)'];
  return ['Logical dumps:', ...lines, ...leftovers, ...(plan.configured ? [`  Dump retention: ${describeDumpPolicy(retention.policy ?? {})}, the newest complete dump of each database always kept`] : [])];
}

const dumpsFact = (dumps: DumpEntry[] | string | undefined) =>
  typeof dumps === 'string' ? `could not be listed: ${dumps}` : dumps?.filter((dump) => dump.manifest).map((dump) => `${dump.database}/${dump.stamp}`).join(', ') || 'none';

function scheduleOf(cron: string | null | undefined, now: Date): BackupsReport['schedule'] {
  const parsed = cron ? parseCron(cron) : null;
  return parsed && typeof parsed !== 'string' ? { cron: parsed.text, next: nextSlot(parsed, now)?.toISOString() ?? null } : null;
}

const scheduleText = (schedule: BackupsReport['schedule'], setting = 'RECOVER_BACKUP_SCHEDULE') =>
  schedule ? `${schedule.cron} (UTC), next ${schedule.next ?? 'never'}` : `none (${setting} unset)`;
const dumpScheduleText = (facts: BackupsFacts & BaseFacts) => scheduleText(scheduleOf(facts.dumpSchedule, facts.now), 'RECOVER_DUMP_SCHEDULE');

/** The one computation of the report, for Slack and the CLI. */
export function backupsReport(catalog: Catalog, now: Date, rpoObjectiveSeconds: number, settings: { retention?: RetentionPolicy; backupSchedule?: string | null } = {}): BackupsReport {
  const size = catalog.backups.at(-1)?.walSegmentSize ?? DEFAULT_SEGMENT_SIZE;
  return {
    backups: catalog.backups,
    unreadableBackups: catalog.unreadableBackups,
    timelines: coverage(catalog, size),
    rpoExposureSeconds: rpoExposureSeconds(catalog, now),
    rpoObjectiveSeconds,
    retention: planRetention(catalog, settings.retention ?? {}, now),
    schedule: scheduleOf(settings.backupSchedule, now),
  };
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
  gather: async (ctx) => ({
    catalog: await readCatalog(ctx.engine.storage, ctx.engine.clock.now()),
    rpoObjectiveSeconds: ctx.config.objectives.rpoSeconds,
    retention: ctx.config.retention ?? {},
    backupSchedule: ctx.config.backupSchedule ?? null,
    ...(await scanDumps(ctx.engine.storage).then(
      ({ entries, leftovers }) => ({ dumps: entries, dumpLeftovers: leftovers }),
      (error: unknown) => ({ dumps: (error as Error).message }),
    )),
    dumpSchedule: ctx.config.dumpSchedule ?? null,
    dumpRetention: ctx.config.dumpRetention ?? {},
  }),
  report(_args, facts: BackupsFacts & BaseFacts) {
    const report = backupsReport(facts.catalog, facts.now, facts.rpoObjectiveSeconds, facts);
    const text = formatBackups(report.backups, report.timelines, report.rpoExposureSeconds, report.unreadableBackups, report.rpoObjectiveSeconds);
    const dumps = typeof facts.dumps === 'string' ? { error: facts.dumps } : facts.dumps?.map(({ database, stamp, manifest, problem }) => ({ database, stamp, bytes: manifest?.dumpBytes ?? null, snapshot: manifest?.snapshot ?? null, problem }));
    const dumpSchedule = scheduleOf(facts.dumpSchedule, facts.now);
    const lines = [text, ...retentionLines(report.retention), `Scheduled backups: ${scheduleText(report.schedule)}`, `Scheduled dumps: ${dumpScheduleText(facts)}`, ...dumpLines(facts.dumps, { policy: facts.dumpRetention ?? {}, leftovers: facts.dumpLeftovers ?? [], now: facts.now })];
    return { result: { ...report, dumpSchedule, ...(dumps ? { dumps, dumpLeftovers: facts.dumpLeftovers ?? [] } : {}) }, text: lines.join('\n') };
  },
  plan(_args, facts) {
    const { backups: list, timelines, rpoExposureSeconds: rpo, rpoObjectiveSeconds, retention, schedule } = backupsReport(facts.catalog, facts.now, facts.rpoObjectiveSeconds, facts);
    const fates = new Map(retention.backups.map((fate) => [fate.id, fate]));
    const fate = (id: string) => (retention.configured && fates.has(id) ? `; ${fateText({ ...fates.get(id)!, reasons: fates.get(id)!.reasons.slice(0, 1) })}` : '');
    const latest = timelines.filter((t) => t.latestRestorable).at(-1);
    return {
      command: 'backups',
      summary: `${list.length} base backup(s); restorable ${latest?.earliestRestorable ?? '—'} … ${latest?.latestRestorable ?? '—'}`,
      risk: 'read-only',
      steps: [{ kind: 'report-catalog', title: 'Read the backup catalog', params: {}, destructive: false, estimateSeconds: 2 }],
      facts: {
        'Base backups': list.map((b) => `${b.id} (${b.stopTime}${fate(b.id)})`).join(', ') || 'none',
        Gaps: timelines.flatMap((t) => t.gaps.map((g) => `timeline ${t.timeline}: ${g.from}…${g.to}`)).join(', ') || 'none',
        'RPO exposure': rpoExposureText(rpo, rpoObjectiveSeconds),
        Retention: retentionSummary(retention),
        ...(retention.configured ? { 'WAL kept': walWindowText(retention) } : {}),
        'Scheduled backups': scheduleText(schedule),
        'Scheduled dumps': dumpScheduleText(facts),
        ...(facts.dumps === undefined ? {} : { 'Logical dumps': dumpsFact(facts.dumps) }),
      },
    };
  },
};
