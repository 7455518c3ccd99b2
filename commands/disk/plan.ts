/**
 * The plans of `/recover disk` (pure): the report (read-only), or the fix — only the steps
 * that have something to do, every file class it will touch named in the plan, and a refusal
 * (DISK_FULL_NOTHING_SAFE, exit 3, nothing changed) when nothing can be freed safely.
 */
import { z } from 'zod';
import { DISK_STEPS, type FixStepKind } from '../../src/engine/disk/fix.js';
import { oldLogs } from '../../src/engine/disk/free.js';
import type { DiskFacts } from '../../src/engine/disk/inspect.js';
import { diskReport, projectedRemoval, readyNames, summarize } from '../../src/engine/disk/report.js';
import { totalBytes } from '../../src/engine/disk/removal.js';
import { RecoverError } from '../../src/errors.js';
import type { Plan } from '../../src/types.js';
import { declaredStep, type BaseFacts } from '../types.js';
import type { DiskArgs } from './args.js';
import { bytesText, reportFacts, serverText } from './view.js';

export const diskParamsSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('report'), dataDir: z.string().min(1) }),
  z.object({
    mode: z.literal('fix'),
    dataDir: z.string().min(1),
    steps: z.array(z.enum(DISK_STEPS.map((s) => s.kind).filter((k) => k !== 'report') as [FixStepKind, ...FixStepKind[]])).min(1),
    dropSlot: z.string().regex(/^[a-z0-9_]{1,63}$/).nullable(),
    logs: z.object({ dir: z.string().min(1), olderThanDays: z.number().int().min(1) }).nullable(),
  }),
]);
export type DiskParams = z.infer<typeof diskParamsSchema>;

export interface DiskPlanFacts {
  disk: DiskFacts;
}

const step = (kind: (typeof DISK_STEPS)[number]['kind'], title?: string) => declaredStep(DISK_STEPS, kind, { ...(title ? { title } : {}), estimateSeconds: kind === 'archive-backlog' || kind === 'check' ? 30 : 2 });

function refuseSlot(args: DiskArgs, facts: DiskFacts): void {
  if (!args.dropSlot) return;
  const slot = facts.slots.find((s) => s.name === args.dropSlot);
  const names = facts.slots.map((s) => s.name).join(', ') || 'none';
  if (!slot) throw new RecoverError('BAD_INPUT', `There is no replication slot ${args.dropSlot} (slots: ${names}). Nothing was changed.`, { hint: 'Run /recover disk to see the slots and what each holds.' });
  if (slot.active) throw new RecoverError('BAD_INPUT', `Replication slot ${args.dropSlot} is active: a standby or consumer is connected and reading it. Nothing was changed.`, { hint: 'Stop that standby first if it must go; an active slot is rarely what fills the disk (see /recover disk).' });
}

export function diskPlan(args: DiskArgs, facts: DiskPlanFacts & BaseFacts): Plan {
  const disk = facts.disk;
  const report = diskReport(disk);
  const shown = reportFacts(report);
  if (!args.fix) {
    return {
      command: 'disk',
      summary: `What fills the disk of production ${facts.production.name}: ${report.wal.ready.count} WAL segment(s) waiting to be archived; ${bytesText((report.removable.afterArchiving ?? report.removable.now).bytes)} can be freed safely`,
      risk: 'read-only',
      steps: [step('report')],
      facts: shown,
      params: { mode: 'report', dataDir: disk.dataDir } satisfies DiskParams,
    };
  }
  if (disk.server.state === 'unknown') {
    throw new RecoverError('CONFIG_INVALID', `Cannot tell whether production's server answers (${disk.server.detail}), so nothing will be changed.`, { hint: 'Check RECOVER_SOURCE_URL and RECOVER_SOURCE_DATA_DIR (the real path, as in postmaster.pid) on the database host runner.' });
  }
  if (disk.server.state === 'running' && disk.server.inRecovery) {
    throw new RecoverError('CONFIG_INVALID', `The server of ${disk.dataDir} is in recovery (a standby): /recover disk --fix frees a primary's pg_wal. Nothing was changed.`, { hint: 'Point RECOVER_SOURCE_DATA_DIR and RECOVER_SOURCE_URL at the primary.' });
  }
  refuseSlot(args, disk);
  const removal = projectedRemoval(disk, args.dropSlot ?? null);
  const down = disk.server.state !== 'running';
  const ready = disk.archive.reachable ? readyNames(disk) : [];
  const logs = args.logsOlderThanDays && disk.logs.dir ? oldLogs(disk.logs.files, args.logsOlderThanDays, facts.now) : [];
  const temp = down && disk.temp.files > 0;
  if (removal.safe.length === 0 && !temp && logs.length === 0 && !args.dropSlot) {
    const why = disk.archive.reachable ? 'every segment older than REDO is either unarchived or kept for a replication slot, and the rest is needed from REDO on' : `the WAL archive is unreachable (${disk.archive.error}), so the ${report.wal.ready.count} waiting segment(s) cannot be archived and must stay, and the rest is needed from REDO on`;
    throw new RecoverError('DISK_FULL_NOTHING_SAFE', `Nothing can be freed safely on production ${facts.production.name}: ${why}${down && disk.temp.files === 0 ? '; there are no temporary files' : ''}. Nothing was changed.`, {
      hint: report.advice.join(' '),
    });
  }
  const wal = summarize(removal.safe);
  const kinds: FixStepKind[] = [
    ...(disk.server.state === 'not-answering' ? (['stop-server'] as const) : []),
    ...(ready.length > 0 ? (['archive-backlog'] as const) : []),
    ...(args.dropSlot ? (['drop-slot'] as const) : []),
    ...(removal.safe.length > 0 ? (['remove-wal'] as const) : []),
    ...(temp ? (['remove-temp'] as const) : []),
    ...(logs.length > 0 ? (['remove-logs'] as const) : []),
    ...(down ? (['start-server'] as const) : []),
    'check',
  ];
  const titles: Partial<Record<FixStepKind, string>> = {
    'archive-backlog': `Archive the ${ready.length} waiting segment(s) (${bytesText(totalBytes(disk.wal.segments.filter((s) => ready.includes(s.name))))}) through the checked upload, read each back, then mark it .done`,
    'drop-slot': `Drop replication slot ${args.dropSlot} (asked by name: its standby must then be rebuilt)`,
    'remove-wal': `Remove ${wal.count} WAL segment(s) archived and older than REDO ${disk.control.redoSegment} (${bytesText(wal.bytes)}, ${wal.first} … ${wal.last})`,
    'remove-temp': `Remove the stopped server's ${disk.temp.files} temporary file(s) (${bytesText(disk.temp.bytes)})`,
    'remove-logs': `Remove ${logs.length} server log file(s) older than ${args.logsOlderThanDays} day(s) (${bytesText(totalBytes(logs))})`,
    'start-server': 'Start production as it is normally started, and wait for it',
  };
  const touched = [
    ...(ready.length > 0 ? [`pg_wal/archive_status/<segment>.ready renamed to .done (${ready.length})`] : []),
    ...(removal.safe.length > 0 ? [`pg_wal/<segment> and its .done for ${wal.first} … ${wal.last}`] : []),
    ...(temp ? ['base/pgsql_tmp/pgsql_tmp* (and each tablespace\'s)'] : []),
    ...(logs.length > 0 ? [`${disk.logs.dir}/ files older than ${args.logsOlderThanDays} day(s)`] : []),
    ...(args.dropSlot ? [`pg_replslot/${args.dropSlot}`] : []),
  ];
  return {
    command: 'disk',
    summary: `Free space for production ${facts.production.name} (${serverText(disk.server)}): ${wal.count} archived WAL segment(s) older than REDO${ready.length > 0 ? ` once the ${ready.length} waiting ones are archived` : ''}${temp ? ', temporary files' : ''}${logs.length > 0 ? ', old logs' : ''}${args.dropSlot ? `, replication slot ${args.dropSlot}` : ''}; then ${down ? 'start it and ' : ''}check it accepts writes and archives`,
    risk: 'destructive',
    steps: kinds.map((kind) => step(kind, titles[kind])),
    facts: {
      ...shown,
      'Files touched': touched.join('; '),
      'Never touched': `WAL not archived or from REDO ${disk.control.redoSegment} on, history and .partial files, ${args.dropSlot ? `replication slots other than ${args.dropSlot}` : 'replication slots'}, data files`,
    },
    params: { mode: 'fix', dataDir: disk.dataDir, steps: kinds, dropSlot: args.dropSlot ?? null, logs: logs.length > 0 ? { dir: disk.logs.dir!, olderThanDays: args.logsOlderThanDays! } : null } satisfies DiskParams,
  };
}
