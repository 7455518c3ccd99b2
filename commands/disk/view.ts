/** `/recover disk` in words (pure): the report as plan facts (Slack) and as text (CLI), and the fix's result. */
import type { DiskFixResult } from '../../src/engine/disk/fix.js';
import type { FilesystemUsage } from '../../src/engine/disk/inspect.js';
import type { DiskReport, RemovableSummary } from '../../src/engine/disk/report.js';
import type { ServerState } from '../../src/engine/disk/server.js';
import { formatAmount } from '../../src/util/format.js';

export const bytesText = (bytes: number): string => formatAmount(bytes, 'bytes');

export function serverText(server: ServerState): string {
  switch (server.state) {
    case 'running':
      return server.inRecovery ? 'running, in recovery (a standby)' : 'running, accepts connections';
    case 'not-answering':
      return `a postmaster runs but does not answer (crash-looping or hung in crash recovery): ${server.detail}`;
    case 'stopped':
      return 'stopped (no live postmaster)';
    case 'unknown':
      return `unknown: ${server.detail}`;
  }
}

export function filesystemText(fs: FilesystemUsage): string {
  const used = fs.totalBytes > 0 ? Math.round(((fs.totalBytes - fs.availableBytes) / fs.totalBytes) * 100) : 0;
  return `${fs.mount ?? fs.path}: ${bytesText(fs.availableBytes)} free of ${bytesText(fs.totalBytes)} (${used}% used)`;
}

const range = (s: RemovableSummary) => (s.count === 0 ? 'nothing' : `${s.count} segment(s), ${bytesText(s.bytes)} (${s.first} … ${s.last})`);

function waitingText(r: DiskReport): string {
  if (r.wal.ready.count === 0) return 'none: every finished segment is archived';
  return `${r.wal.ready.count} segment(s), ${bytesText(r.wal.ready.bytes)}, oldest ${r.wal.ready.oldest} waiting since ${r.wal.ready.since ?? '?'}`;
}

function archivingText(r: DiskReport): string {
  const a = r.archiving;
  const parts: string[] = [a.failing ? 'FAILING' : 'no failure seen'];
  if (a.lastArchivedWal) parts.push(`last archived ${a.lastArchivedWal} at ${a.lastArchivedTime}`);
  if (a.failedCount !== null && a.failedCount > 0) parts.push(`${a.failedCount} failure(s), the last at ${a.lastFailedTime}`);
  if (a.logFailures > 0) parts.push(`the server log has ${a.logFailures} failure line(s)${a.firstLogFailure ? ` since ${a.firstLogFailure}` : ''}; last: ${a.lastLogLine}`);
  return parts.join('; ');
}

const keptText = (r: DiskReport) =>
  Object.entries({ redo: 'needed from REDO on', 'not-archived': 'not archived', 'missing-from-archive': 'marked .done but not in the archive', slot: 'kept for replication slots' })
    .filter(([reason]) => r.kept[reason as keyof DiskReport['kept']])
    .map(([reason, words]) => `${r.kept[reason as keyof DiskReport['kept']]!.count} ${words} (${bytesText(r.kept[reason as keyof DiskReport['kept']]!.bytes)})`)
    .join('; ') || 'nothing';

const slotText = (s: DiskReport['slots'][number]) =>
  `${s.name} (${s.kind}, ${s.active === null ? 'server down' : s.active ? 'active' : 'INACTIVE'}${s.walStatus ? `, ${s.walStatus}` : ''}): restart ${s.restartLsn ?? 'none'}, holds ${s.holdsBytes === null ? '?' : bytesText(s.holdsBytes)}${s.blocksBytes > 0 ? `, keeps ${bytesText(s.blocksBytes)} of archived WAL from removal` : ''}`;

/** The report as plan facts: what Slack shows for `/recover disk` and above a fix's steps. */
export function reportFacts(r: DiskReport): Record<string, string> {
  const byRole = (role: string) => r.filesystems.find((fs) => fs.holds.includes(role));
  const wal = byRole('pg_wal')!;
  const data = byRole('data directory')!;
  return {
    Server: serverText(r.server),
    'pg_wal filesystem': `${filesystemText(wal)}${wal === data ? ' (also the data directory)' : ''}`,
    ...(wal === data ? {} : { 'Data directory filesystem': filesystemText(data) }),
    'Latest checkpoint': `REDO ${r.redo.segment} (${r.redo.lsn}${r.redo.checkpointTime ? `, ${r.redo.checkpointTime}` : ''}); cluster state ${r.redo.clusterState}`,
    'WAL in pg_wal': `${r.wal.segments} segment(s), ${bytesText(r.wal.bytes)}`,
    'Waiting to be archived': waitingText(r),
    Archiving: archivingText(r),
    'WAL archive': r.storage.reachable ? 'reachable' : `UNREACHABLE: ${r.storage.error}`,
    'Removable now': range(r.removable.now),
    ...(r.removable.afterArchiving ? { 'Removable once archived': range(r.removable.afterArchiving) } : {}),
    Kept: keptText(r),
    'Replication slots': r.slots.map(slotText).join('; ') || 'none',
    'Temporary files': `${r.temp.files} (${bytesText(r.temp.bytes)})`,
    'Server logs': r.logs.dir ? `${r.logs.count} file(s), ${bytesText(r.logs.bytes)} in ${r.logs.dir}` : 'no log directory found',
    'Biggest relations': r.relations.slice(0, 5).map((rel) => `${rel.name} ${bytesText(rel.bytes)}`).join('; ') || '—',
    ...(r.archiving.diskFullLine ? { 'Last disk-full error': r.archiving.diskFullLine } : {}),
    'What to do': r.advice.join(' ') || 'nothing needed',
  };
}

export function formatReport(r: DiskReport, production: string): string {
  const facts = reportFacts(r);
  const { 'What to do': _advice, 'Replication slots': _slots, 'Biggest relations': _relations, ...rest } = facts;
  return [
    `Disk of production ${production} (data directory ${r.dataDir}, pg_wal ${r.walDir})`,
    ...Object.entries(rest).map(([key, value]) => `${key}: ${value}`),
    'Replication slots (inactive first):',
    ...(r.slots.length > 0 ? r.slots.map((s) => `  ${slotText(s)}`) : ['  none']),
    'Biggest relations:',
    ...(r.relations.length > 0 ? r.relations.map((rel) => `  ${rel.name}  ${bytesText(rel.bytes)}`) : ['  —']),
    'What to do:',
    ...(r.advice.length > 0 ? r.advice.map((line) => `  • ${line}`) : ['  nothing needed']),
  ].join('\n');
}

export function fixLines(f: DiskFixResult): string[] {
  const before = new Map(f.before.map((fs) => [fs.holds.join(' + '), fs]));
  return [
    ...(f.stoppedServer ? ['Stopped the server that did not answer (immediate stop; its WAL was on disk).'] : []),
    ...(f.archived ? [`Archived and verified ${f.archived.archived} waiting segment(s) (${bytesText(f.archived.bytes)}; ${f.archived.alreadyThere} were already in the archive), each marked .done after its check.`] : []),
    ...(f.droppedSlot ? [`Dropped replication slot ${f.droppedSlot}: its standby must be rebuilt.`] : []),
    `Removed ${f.removed.wal.count} WAL segment(s) archived and older than REDO (${bytesText(f.removed.wal.bytes)}${f.removed.wal.first ? `, ${f.removed.wal.first} … ${f.removed.wal.last}` : ''}), ${f.removed.temp.count} temporary file(s) (${bytesText(f.removed.temp.bytes)}), ${f.removed.logs.count} old log file(s) (${bytesText(f.removed.logs.bytes)}).`,
    ...(f.startedServer ? ['Started production.'] : []),
    `Production ${f.writable ? 'accepts writes' : 'was not checked'}; archiving ${f.archiving.resumed ? 'resumed' : 'has NOT resumed'}: ${f.archiving.detail}.`,
    ...f.after.map((fs) => `Space, ${fs.holds.join(' + ')}: ${before.get(fs.holds.join(' + ')) ? `${bytesText(before.get(fs.holds.join(' + '))!.availableBytes)} free before, ` : ''}${filesystemText(fs)} now.`),
  ];
}
