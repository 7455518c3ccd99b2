/**
 * The disk report from what was read (pure): how full each filesystem is, what fills pg_wal,
 * since when archiving fails, which slots retain WAL, and which segments may be removed — now,
 * and once the `.ready` backlog is archived — with what to do when nothing can be.
 */
import { parseLsn, parseSegmentName, segmentName, segmentOfLsn } from '../../catalog/segments.js';
import { formatAmount } from '../../util/format.js';
import type { DiskFacts, FilesystemUsage } from './inspect.js';
import { afterArchiving, totalBytes, walRemoval, type KeptReason, type Removal, type RemovalInput } from './removal.js';
import type { ServerState } from './server.js';

export interface RemovableSummary {
  count: number;
  bytes: number;
  first: string | null;
  last: string | null;
}

export interface SlotReport {
  name: string;
  kind: 'physical' | 'logical';
  active: boolean | null;
  restartLsn: string | null;
  walStatus: string | null;
  /** WAL from its restart_lsn to the current end of WAL. */
  holdsBytes: number | null;
  /** Archived segments older than REDO kept only because of slots, from this slot's restart on. */
  blocksBytes: number;
}

export interface DiskReport {
  dataDir: string;
  walDir: string;
  server: ServerState;
  filesystems: FilesystemUsage[];
  redo: { segment: string; lsn: string; clusterState: string; checkpointTime: string | null };
  wal: { segments: number; bytes: number; ready: { count: number; bytes: number; oldest: string | null; since: string | null }; done: number; otherBytes: number };
  archiving: { failing: boolean; lastArchivedWal: string | null; lastArchivedTime: string | null; failedCount: number | null; lastFailedTime: string | null; logFailures: number; firstLogFailure: string | null; lastLogLine: string | null; diskFullLine: string | null };
  storage: { reachable: boolean; error: string | null };
  slots: SlotReport[];
  temp: { files: number; bytes: number };
  logs: { dir: string | null; count: number; bytes: number };
  relations: { name: string; bytes: number }[];
  /** Removable now (archived, older than REDO, no slot), and once the backlog is archived (null: storage unreachable). */
  removable: { now: RemovableSummary; afterArchiving: RemovableSummary | null };
  /** Why the other segments stay, counted as they would be after archiving (or now, storage down). */
  kept: Partial<Record<KeptReason, { count: number; bytes: number }>>;
  advice: string[];
}

const bytesText = (bytes: number) => formatAmount(bytes, 'bytes');

export function summarize(items: readonly { name: string; bytes: number }[]): RemovableSummary {
  return { count: items.length, bytes: totalBytes(items), first: items[0]?.name ?? null, last: items.at(-1)?.name ?? null };
}

/** The removal rule's input from the facts; `withoutSlot`: a slot the fix drops first no longer holds anything. */
export function removalInput(facts: Pick<DiskFacts, 'wal' | 'control' | 'archive' | 'slots'>, withoutSlot: string | null = null): RemovalInput {
  const { control } = facts;
  return {
    segments: facts.wal.segments,
    status: new Map(facts.wal.status),
    redoSegment: control.redoSegment,
    archived: facts.archive.reachable ? new Set(facts.archive.archived) : null,
    slots: facts.slots
      .filter((slot) => slot.restartLsn && slot.name !== withoutSlot)
      .map((slot) => ({ name: slot.name, oldestNeeded: segmentName(control.timeline, segmentOfLsn(parseLsn(slot.restartLsn!), control.segmentBytes), control.segmentBytes) })),
  };
}

/** The `.ready` segments the fix archives itself (all of them: each is finished and never rewritten). */
export const readyNames = (facts: DiskFacts): string[] => facts.wal.status.filter(([, state]) => state === 'ready').map(([name]) => name).filter((name) => facts.wal.segments.some((s) => s.name === name));

/** What the fix would remove: after archiving the backlog when storage answers, else what is removable now. */
export function projectedRemoval(facts: DiskFacts, withoutSlot: string | null = null): Removal {
  const input = removalInput(facts, withoutSlot);
  return walRemoval(facts.archive.reachable ? afterArchiving(input, readyNames(facts)) : input);
}

/** The end of WAL: the server's insert position, or (down) the end of the segment written last (recycled ones keep old times). */
function endOfWal(facts: DiskFacts): bigint | null {
  if (facts.currentLsn) return parseLsn(facts.currentLsn);
  const newest = [...facts.wal.segments].sort((a, b) => (a.modified < b.modified ? -1 : a.modified > b.modified ? 1 : a.name < b.name ? -1 : 1)).at(-1);
  const segno = newest ? parseSegmentName(newest.name, facts.control.segmentBytes)?.segno : undefined;
  return segno === undefined ? null : (segno + 1n) * BigInt(facts.control.segmentBytes);
}

function slotReports(facts: DiskFacts, projected: Removal): SlotReport[] {
  const end = endOfWal(facts);
  return facts.slots
    .map((slot) => {
      const restart = slot.restartLsn ? parseLsn(slot.restartLsn) : null;
      const floor = restart === null ? null : segmentName(facts.control.timeline, segmentOfLsn(restart, facts.control.segmentBytes), facts.control.segmentBytes).slice(8);
      const blocked = floor === null ? [] : projected.kept.filter((k) => k.reason === 'slot' && k.name.slice(8) >= floor);
      return { name: slot.name, kind: slot.kind, active: slot.active, restartLsn: slot.restartLsn, walStatus: slot.walStatus, holdsBytes: restart !== null && end !== null && end > restart ? Number(end - restart) : restart === null ? 0 : null, blocksBytes: totalBytes(blocked) };
    })
    .sort((a, b) => Number(a.active === true) - Number(b.active === true) || (b.holdsBytes ?? 0) - (a.holdsBytes ?? 0));
}

export function diskReport(facts: DiskFacts): DiskReport {
  const ready = readyNames(facts);
  const readyFiles = facts.wal.segments.filter((s) => ready.includes(s.name));
  const since = new Map(facts.wal.readySince);
  const now = walRemoval(removalInput(facts));
  const projected = projectedRemoval(facts);
  const ifArchived = walRemoval(afterArchiving({ ...removalInput(facts), archived: null }, ready));
  const kept: DiskReport['kept'] = {};
  for (const item of projected.kept) kept[item.reason] = { count: (kept[item.reason]?.count ?? 0) + 1, bytes: (kept[item.reason]?.bytes ?? 0) + item.bytes };
  const stats = facts.archiver.stats;
  const failures = facts.archiver.log?.archiveFailures ?? null;
  const failing = ready.length > 0 && (stats ? stats.failedCount > 0 && (stats.lastFailedTime ?? '') >= (stats.lastArchivedTime ?? '') : true);
  const report: DiskReport = {
    dataDir: facts.dataDir,
    walDir: facts.walDir,
    server: facts.server,
    filesystems: facts.filesystems,
    redo: { segment: facts.control.redoSegment, lsn: facts.control.redoLsn, clusterState: facts.control.clusterState, checkpointTime: facts.control.checkpointTime },
    wal: {
      segments: facts.wal.segments.length,
      bytes: totalBytes(facts.wal.segments),
      ready: { count: ready.length, bytes: totalBytes(readyFiles), oldest: ready[0] ?? null, since: ready[0] ? since.get(ready[0]) ?? null : null },
      done: facts.wal.status.filter(([, state]) => state === 'done').length,
      otherBytes: facts.wal.otherBytes,
    },
    archiving: {
      failing,
      lastArchivedWal: stats?.lastArchivedWal ?? null,
      lastArchivedTime: stats?.lastArchivedTime ?? null,
      failedCount: stats?.failedCount ?? null,
      lastFailedTime: stats?.lastFailedTime ?? null,
      logFailures: failures?.count ?? 0,
      firstLogFailure: failures?.first ?? null,
      lastLogLine: failures?.lastLine ?? null,
      diskFullLine: facts.archiver.log?.diskFull?.line ?? null,
    },
    storage: facts.archive.reachable ? { reachable: true, error: null } : { reachable: false, error: facts.archive.error },
    slots: slotReports(facts, projected),
    temp: facts.temp,
    logs: { dir: facts.logs.dir, count: facts.logs.files.length, bytes: totalBytes(facts.logs.files) },
    relations: facts.relations,
    removable: { now: summarize(now.safe), afterArchiving: facts.archive.reachable ? summarize(projected.safe) : null },
    kept,
    advice: [],
  };
  report.advice = advice(report, summarize(ifArchived.safe));
  return report;
}

/** What to do, for people (pure): Slack's command words; the CLI turns them into its own. */
function advice(report: DiskReport, ifArchived: RemovableSummary): string[] {
  const lines: string[] = [];
  const wal = report.filesystems.find((fs) => fs.holds.includes('pg_wal'));
  const reachable = report.storage.reachable;
  const frees = reachable ? report.removable.afterArchiving! : report.removable.now;
  if (frees.count > 0) {
    lines.push(`/recover disk --fix frees ${bytesText(frees.bytes)}: ${frees.count} archived segment(s) older than REDO (${frees.first} … ${frees.last})${reachable && report.wal.ready.count > 0 ? `, after archiving the ${report.wal.ready.count} waiting segment(s) itself` : ''}.`);
  }
  if (!reachable && report.wal.ready.count > 0) {
    lines.push(`The WAL archive is unreachable (${report.storage.error}): ${report.wal.ready.count} segment(s) are not archived and must stay. Bring storage back, then /recover disk --fix archives them itself (checked) and frees ${bytesText(ifArchived.bytes)}.`);
  }
  for (const slot of report.slots.filter((s) => s.active !== true && s.blocksBytes > 0)) {
    lines.push(`Replication slot ${slot.name} (${slot.active === false ? 'inactive' : 'server down'}) keeps ${bytesText(slot.blocksBytes)} of archived WAL: if its standby is gone for good, /recover disk --fix --drop-slot ${slot.name} (that standby must then be rebuilt).`);
  }
  if (frees.count === 0 && report.temp.bytes === 0) {
    const where = wal ? ` (${wal.mount ?? wal.path}, ${bytesText(wal.totalBytes)})` : '';
    lines.push(`Nothing in pg_wal can be removed safely now. Grow the filesystem holding pg_wal${where}, or move pg_wal to a larger one (server stopped: move the directory, leave a symlink), then start the server; it archives its backlog itself once storage answers.`);
  }
  if (report.logs.bytes > 0) lines.push(`Server logs take ${bytesText(report.logs.bytes)} in ${report.logs.dir}: --logs-older-than DAYS removes those older than that.`);
  return lines;
}
