/** How `crash` shows a triage and a result: the plan's facts (Slack), the CLI's text, the summary. Pure. */
import { z } from 'zod';
import { commitsText, type Triage } from '../../src/engine/crash/triage.js';
import type { CrashResult } from '../../src/engine/crash/recover.js';
import type { ReplicaResult } from '../../src/engine/crash/replica.js';
import type { SummaryFacts } from '../types.js';

const MB = 1024 * 1024;

export const PATH_TEXT: Record<Triage['path'], string> = {
  start: 'start production: crash recovery from its own WAL',
  rebuild: 'rebuild in place: save and archive the local-only WAL, restore the newest base backup, replay all WAL (archive + saved tail), promote',
  healthy: 'nothing to recover',
  replica: 'rebuild the standby from its primary (pg_basebackup) and reconnect it',
};

function segmentsText(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  return names.length === 1 ? names[0]! : `${names.length} segments ${names[0]} … ${names.at(-1)}`;
}

export function localOnlyText(triage: Triage): string {
  const { localOnly } = triage;
  if (localOnly.segments.length === 0) return 'nothing: every WAL segment up to the end of valid WAL is archived';
  return `${segmentsText(localOnly.segments)} (${(localOnly.bytes / MB).toFixed(0)} MB${localOnly.partial ? `, ${localOnly.partial} partly written` : ''}) holding ${commitsText(localOnly.commits)}: a restore from the archive alone would lose them`;
}

export function expectedLossText(triage: Triage): string {
  if (triage.path !== 'rebuild') return triage.damage ? triage.expectedLoss.join('; ') : 'none';
  return triage.expectedLoss.length === 0 ? 'none (RPO 0): replay reaches the last committed transaction, including those only in pg_wal' : triage.expectedLoss.join('; ');
}

/** The triage as plan facts (label → one line each). */
export function triageFacts(triage: Triage): Record<string, string> {
  const { control, wal } = triage;
  return {
    'Data directory': `${triage.dataDir} (server ${triage.running ? 'running' : 'not running'})`,
    Cluster: control
      ? `${control.state}, timeline ${control.timeline}; latest checkpoint ${control.checkpointLsn} (segment ${control.checkpointWalFile}), REDO ${control.redoLsn} (segment ${control.redoWalFile})${control.checkpointTime ? ` at ${control.checkpointTime}` : ''}; data checksums ${control.dataChecksumVersion > 0 ? 'on' : 'off'}`
      : `pg_control unreadable: ${triage.controlError ?? '?'}`,
    'Local WAL': wal.endLsn
      ? `valid to ${wal.endLsn} (segment ${wal.endSegment}); last record at ${wal.lastRecordLsn}${wal.stopReason ? `; pg_waldump stops there: ${wal.stopReason}` : ''}; ${wal.ready} segment(s) waiting to be archived (.ready)`
      : `nothing readable from the REDO point${wal.stopReason ? `: ${wal.stopReason}` : ''}`,
    'Newest archived': wal.newestArchived ?? 'none on this timeline',
    'Only in pg_wal': localOnlyText(triage),
    Damage: triage.findings.length === 0 ? 'none found' : triage.findings.join('; '),
    'Newest base backup': triage.newestBackup ? `${triage.newestBackup.id} (consistent at ${triage.newestBackup.stopTime}, timeline ${triage.newestBackup.timeline})` : 'none usable',
    Recovery: `${PATH_TEXT[triage.path]} — ${triage.why}`,
    'Expected loss': expectedLossText(triage),
  };
}

export function formatTriage(triage: Triage): string {
  const facts = triageFacts(triage);
  const width = Math.max(...Object.keys(facts).map((key) => key.length));
  const lines = Object.entries(facts).map(([key, value]) => `${key.padEnd(width)}  ${value}`);
  const next =
    triage.path === 'start' || triage.path === 'rebuild'
      ? `Next: recover crash --recover --dry-run, then the same with --confirm <production name>${triage.path === 'start' ? ' (or --from-backup to rebuild instead)' : ''}.`
      : triage.path === 'healthy'
        ? 'Nothing to do.'
        : 'Next: recover crash --recover --dry-run (rebuilds the standby from its primary), then the same with --confirm <production name>.';
  return ['Crash triage (read-only; nothing was changed)', ...lines, next].join('\n');
}

export function formatCrashResult(result: CrashResult | ReplicaResult | { path: 'triage'; triage: Triage }): string {
  switch (result.path) {
    case 'triage':
      return formatTriage(result.triage);
    case 'replica':
      return [
        `Replica ${result.dataDir} rebuilt from its primary (${result.primary}) and streaming: received ${result.receivedLsn ?? '?'}, replayed ${result.replayLsn ?? '?'}.`,
        `Its previous data directory is kept at ${result.oldDataDir ?? '?'} (never deleted).`,
      ].join('\n');
    case 'start':
      return [
        `Production started on its own data directory ${result.dataDir}: crash recovery replayed its WAL from REDO ${result.redoLsn ?? '?'}; WAL now at ${result.walLsn ?? '?'}.`,
        `Verification: ${result.report.ok ? 'all checks passed' : `FAILED: ${result.report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`).join('; ')}`}`,
      ].join('\n');
    case 'rebuild':
      return [
        `Production rebuilt in place from base backup ${result.backupId}, replayed to ${result.replayLsn} (timeline ${result.timeline}${result.reachedTime ? `, last transaction ${result.reachedTime}` : ''}).`,
        result.saved
          ? result.saved.segments.length > 0
            ? `WAL only production had: ${result.saved.segments.length} segment(s) saved in ${result.saved.dir} and archived (${result.saved.archived.map((a) => a.as).join(', ')}), valid to ${result.saved.endLsn}.`
            : `WAL only production had: none (the archive held everything); ${result.saved.dir} is empty.`
          : 'WAL only production had: not saved.',
        result.rpoZero ? 'RPO 0: every committed transaction is back.' : `Lost: ${result.lost.join('; ')}.`,
        `The damaged data directory is kept at ${result.oldDataDir ?? '?'} (never deleted).`,
        `Verification: ${result.report.ok ? 'all checks passed' : `FAILED: ${result.report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`).join('; ')}`}`,
      ].join('\n');
  }
}

const str = z.string().min(1).nullable().catch(null);
const record = <T extends z.ZodRawShape>(shape: T) => z.preprocess((value) => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}), z.object(shape));

/** A crash job's result as the bot reads it back (leniently: what is missing is null). */
export const crashResultSchema = record({
  path: z.enum(['triage', 'start', 'rebuild', 'replica']).nullable().catch(null).default(null),
  dataDir: str.default(null),
  oldDataDir: str.default(null),
  replayLsn: str.default(null),
  reachedTime: str.default(null),
  timeline: z.number().nullable().catch(null).default(null),
  rpoZero: z.boolean().nullable().catch(null).default(null),
  lost: z.array(z.string()).catch([]).default([]),
  report: z.unknown().optional(),
});
export type CrashResultView = z.infer<typeof crashResultSchema>;

export function crashSummary(result: CrashResultView | null): SummaryFacts {
  const rebuilt = result?.path === 'rebuild';
  return {
    target: rebuilt ? { text: 'the end of all WAL (archive + production\'s own tail)', time: null } : null,
    to: result?.path === 'triage' ? null : 'in-place',
    recovery: result && result.path !== 'triage'
      ? { reachedTime: result.reachedTime, replayLsn: result.replayLsn, timeline: result.timeline, dataDir: result.dataDir, port: null, connect: 'production connection (unchanged)', oldDataDir: result.oldDataDir }
      : null,
    followUps: rebuilt ? [result.rpoZero ? 'RPO 0: every committed transaction is back.' : `Lost: ${result.lost.join('; ')}`, `Remove the damaged directory ${result.oldDataDir ?? ''} once nobody needs it.`] : [],
  };
}
