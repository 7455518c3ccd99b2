/** Plain-text renderings of commands' results and plans, for the CLI (pure). */
import type { BackupManifest } from '../src/catalog/catalog.js';
import type { TimelineCoverage } from '../src/catalog/coverage.js';
import type { RestoreSelection } from '../src/catalog/select-restore.js';
import type { PitrResult } from '../src/engine/pitr.js';
import type { Plan } from '../src/types.js';
import { formatAmount, formatDuration } from '../src/util/format.js';

/** `120 s since the newest archived WAL`, and against the RPO when one is given (RECOVER_RPO_MINUTES). */
export function rpoExposureText(rpoSeconds: number | null, objectiveSeconds?: number): string {
  if (rpoSeconds === null) return 'unknown (nothing archived)';
  const against = objectiveSeconds === undefined ? '' : rpoSeconds <= objectiveSeconds
    ? ` (within the ${formatDuration(objectiveSeconds)} RPO)`
    : ` (EXCEEDS the ${formatDuration(objectiveSeconds)} RPO: is archiving stuck? see pg_stat_archiver)`;
  return `${rpoSeconds} s since the newest archived WAL${against}`;
}

export function formatBackups(backups: BackupManifest[], timelines: TimelineCoverage[], rpoSeconds: number | null, unreadable: { id: string; reason: string }[], objectiveSeconds?: number): string {
  const lines = ['Base backups:'];
  if (backups.length === 0) lines.push('  (none)');
  for (const b of backups) {
    lines.push(`  ${b.id}  timeline ${b.timeline}  ${b.startLsn} → ${b.stopLsn}  ${b.startTime} → ${b.stopTime}  ${formatAmount(b.files.reduce((s, f) => s + f.bytes, 0), 'bytes')} compressed`);
  }
  for (const u of unreadable) lines.push(`  ${u.id}  UNUSABLE: ${u.reason}`);
  lines.push('WAL archive:');
  if (timelines.length === 0) lines.push('  (empty)');
  for (const t of timelines) {
    lines.push(`  timeline ${t.timeline}: ${t.segmentCount} segments ${t.firstSegment ?? ''} … ${t.lastSegment ?? ''}`);
    lines.push(`    restorable: ${t.earliestRestorable ?? 'nothing'} … ${t.latestRestorable ?? 'nothing'}`);
    for (const gap of t.gaps) lines.push(`    GAP: ${gap.missing} segment(s) missing, ${gap.from} … ${gap.to}`);
  }
  lines.push(`RPO exposure: ${rpoExposureText(rpoSeconds, objectiveSeconds)}`);
  return lines.join('\n');
}

export function formatSelection(selection: RestoreSelection): string {
  return [
    `Base backup: ${selection.backup.id} (stopped ${selection.backup.stopTime}, timeline ${selection.backup.timeline})`,
    `WAL: ${selection.requiredSegments.length} segments ${selection.requiredSegments[0]} … ${selection.requiredSegments.at(-1)} (${formatAmount(selection.walBytes, 'bytes')}), target timeline ${selection.timeline}`,
    `Restorable window: ${selection.window.earliest ?? '?'} … ${selection.window.latest ?? '?'}`,
  ].join('\n');
}

/** A plan as the Slack preview shows it: summary, facts, numbered steps. */
export function formatPlan(plan: Plan): string {
  return [
    plan.summary,
    ...Object.entries(plan.facts).map(([name, value]) => `  ${name}: ${value}`),
    'Steps:',
    ...plan.steps.map((step, i) => `  ${i + 1}. ${step.title}${step.destructive ? '  (destructive)' : ''}`),
  ].join('\n');
}

export function formatPitr(result: PitrResult): string {
  return [
    `Restored backup ${result.backupId} to ${result.target}: ${result.state}.`,
    `Reached: ${result.reachedTime ?? 'no transaction replayed'}  (LSN ${result.replayLsn}, new timeline ${result.timeline})`,
    `Took ${result.seconds.total.toFixed(1)} s (base backup ${result.seconds.baseBackup.toFixed(1)} s, replay ${result.seconds.replay.toFixed(1)} s), ${result.walSegments} WAL segments.`,
    `Data directory: ${result.dataDir}`,
    `Connect: ${result.connect}`,
    ...(result.oldDataDir ? [`Previous data directory kept at: ${result.oldDataDir}`] : []),
    `Verification: ${result.report.ok ? 'passed' : 'FAILED'}`,
    ...result.report.checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.name}: ${c.message}`),
  ].join('\n');
}
