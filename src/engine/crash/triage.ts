/**
 * Triage of a crashed or damaged instance (runbook §2), pure: from what pg_controldata, the
 * local pg_wal (pg_waldump), the WAL archive and the data directory showed, which WAL exists only
 * on this host (what a restore from the archive alone would lose), what is damaged, and which
 * recovery fits:
 * - `start`: the files look intact; starting the server runs crash recovery from the REDO point.
 * - `rebuild`: data files (or pg_control, or WAL crash recovery needs) are damaged: save and
 *   archive the local-only WAL, restore the newest base backup in place, replay everything
 *   (archive + saved tail, no recovery target), promote, verify.
 * - `healthy`: the server runs and nothing damaged was found: nothing to recover.
 * - `replica`: a standby that is down, does not stream or is damaged: rebuild it from its primary.
 */
import { formatLsn, parseLsn, parseSegmentName, segmentName, segmentStartLsn, segmentOfLsn } from '../../catalog/segments.js';
import type { ControlData } from './controldata.js';
import { CRASHED_STATES, STANDBY_STATES } from './controldata.js';
import type { CommitSeen, WalScan } from './wal-scan.js';

export type CrashPath = 'start' | 'rebuild' | 'healthy' | 'replica';

export interface LocalSegment {
  name: string;
  size: number;
}

export interface TriageInput {
  dataDir: string;
  running: boolean;
  control: ControlData | null;
  controlError: string | null;
  /** WAL segment files in pg_wal (any timeline). */
  localSegments: LocalSegment[];
  /** Segments marked `.ready` in pg_wal/archive_status (PostgreSQL has not archived them). */
  readySegments: string[];
  /** Segment names in the archive. */
  archived: ReadonlySet<string>;
  /** pg_waldump over pg_wal from the REDO point (or the first unarchived segment, if earlier). */
  scan: WalScan | null;
  /** pg_waldump from the page after where `scan` stopped: records there mean WAL after damage. */
  after: WalScan | null;
  /** Relation files WAL after REDO touches that are not in the data directory. */
  missingRelationFiles: string[];
  /** The running server's failed checks (verification: row reads, checksums, amcheck). */
  serverFindings: string[];
  /** The newest usable base backup on this timeline: id and stop time; null when none. */
  newestBackup: { id: string; stopTime: string; timeline: number } | null;
  /** Rebuild even when the files look intact (`--from-backup`). */
  forceRebuild: boolean;
  /** A running standby's WAL receiver streams (null: not a running standby). */
  standbyStreaming?: boolean | null;
}

export interface LocalOnlyWal {
  /** Unarchived segments that hold WAL up to the end of valid WAL, oldest first; the last may be partly written. */
  segments: string[];
  /** The segment holding the end of valid WAL (partly written), when it is among `segments`. */
  partial: string | null;
  bytes: number;
  /** Commits in WAL only this host has. */
  commits: WalScan['commits'];
  /** Segments neither archived nor in pg_wal between the archive's end and the local tail: WAL that is gone. */
  gap: { from: string; to: string } | null;
}

export interface WalDamage {
  /** Where readable WAL stops, and pg_waldump's reason. */
  at: string;
  reason: string;
  /** Readable WAL found after it: transactions that committed there cannot be replayed. */
  lostCommits: WalScan['commits'];
  resumesAt: string | null;
}

export interface Triage {
  dataDir: string;
  running: boolean;
  control: ControlData | null;
  controlError: string | null;
  wal: {
    redoSegment: string | null;
    lastRecordLsn: string | null;
    endLsn: string | null;
    endSegment: string | null;
    stopReason: string | null;
    newestArchived: string | null;
    ready: number;
  };
  localOnly: LocalOnlyWal;
  damage: WalDamage | null;
  findings: string[];
  newestBackup: TriageInput['newestBackup'];
  path: CrashPath;
  why: string;
  /** What a rebuild would lose (empty: RPO 0 — every committed transaction is replayed). */
  expectedLoss: string[];
}

const NO_COMMITS: WalScan['commits'] = { count: 0, first: null, last: null, sample: [] };

function segno(name: string, size: number): bigint {
  return parseSegmentName(name, size)!.segno;
}

/** The segment holding the byte just before `lsn` (where WAL ending at `lsn` last wrote). */
export function segmentBefore(lsn: string, timeline: number, size: number): string {
  const at = parseLsn(lsn);
  return segmentName(timeline, segmentOfLsn(at > 0n ? at - 1n : 0n, size), size);
}

/** The newest archived segment of `timeline` (or of an earlier one, when this timeline has none archived yet). */
export function newestArchivedOn(archived: ReadonlySet<string>, timeline: number, size: number): string | null {
  let best: { name: string; timeline: number; segno: bigint } | null = null;
  for (const name of archived) {
    const parsed = parseSegmentName(name, size);
    if (!parsed || parsed.timeline > timeline) continue;
    if (!best || parsed.timeline > best.timeline || (parsed.timeline === best.timeline && parsed.segno > best.segno)) best = { name, ...parsed };
  }
  return best?.name ?? null;
}

/**
 * Local segments of the cluster's timeline that the archive lacks, up to the one holding the end
 * of valid WAL (later files are recycled or preallocated, or lie after damage), plus the gap
 * between the archive's end and the first of them, if any. Pure.
 */
export function localOnlyWal(input: Pick<TriageInput, 'localSegments' | 'archived'>, timeline: number, size: number, endSegment: string | null, commits: WalScan['commits']): LocalOnlyWal {
  const end = endSegment ? segno(endSegment, size) : null;
  const mine = input.localSegments
    .filter((s) => parseSegmentName(s.name, size)?.timeline === timeline && !input.archived.has(s.name) && (end === null || segno(s.name, size) <= end))
    .sort((a, b) => (segno(a.name, size) < segno(b.name, size) ? -1 : 1));
  const newest = newestArchivedOn(input.archived, timeline, size);
  let gap: LocalOnlyWal['gap'] = null;
  if (mine.length > 0 && newest) {
    const next = segno(newest, size) + 1n;
    const first = segno(mine[0]!.name, size);
    if (first > next) gap = { from: segmentName(timeline, next, size), to: segmentName(timeline, first - 1n, size) };
  }
  return {
    segments: mine.map((s) => s.name),
    partial: endSegment && mine.some((s) => s.name === endSegment) ? endSegment : null,
    bytes: mine.reduce((sum, s) => sum + s.size, 0),
    commits: mine.length > 0 ? commits : NO_COMMITS,
    gap,
  };
}

/**
 * Where the local WAL files run out: the start of the first segment missing after `start`'s
 * (pg_waldump, meeting a missing file, retries it for 5 s before it gives up). Pure.
 */
export function localWalEnd(localSegments: readonly LocalSegment[], timeline: number, size: number, start: string): string {
  const have = new Set(localSegments.map((s) => s.name));
  let segno = segmentOfLsn(parseLsn(start), size);
  while (have.has(segmentName(timeline, segno, size))) segno++;
  return formatLsn(segmentStartLsn(segno, size));
}

/** Where a scan from the first unarchived WAL (or REDO) should start: the earlier of the two. Pure. */
export function scanStart(control: ControlData, firstUnarchived: string | null): string {
  if (!firstUnarchived) return control.redoLsn;
  const start = segmentStartLsn(segno(firstUnarchived, control.walSegmentSize), control.walSegmentSize);
  const redo = parseLsn(control.redoLsn);
  return formatLsn(start < redo ? start : redo);
}

const commitText = (c: CommitSeen) => `xid ${c.xid} at ${c.time} UTC`;

export function commitsText(commits: WalScan['commits']): string {
  if (commits.count === 0) return 'no committed transactions';
  const range = commits.first && commits.last && commits.count > 1 ? `, from ${commitText(commits.first)} to ${commitText(commits.last)}` : commits.last ? `: ${commitText(commits.last)}` : '';
  return `${commits.count} committed transaction${commits.count === 1 ? '' : 's'}${range}`;
}

/** The whole triage from its facts. Pure. */
export function triage(input: TriageInput): Triage {
  const { control, scan } = input;
  const size = control?.walSegmentSize ?? 16 * 1024 * 1024;
  const endSegment = control && scan?.endLsn ? segmentBefore(scan.endLsn, control.timeline, size) : null;
  const localOnly = control ? localOnlyWal(input, control.timeline, size, endSegment, scan?.commits ?? NO_COMMITS) : { segments: [], partial: null, bytes: 0, commits: NO_COMMITS, gap: null };
  const damage: WalDamage | null = scan?.endLsn && input.after && input.after.records > 0
    ? { at: scan.endLsn, reason: scan.stopReason ?? 'unreadable record', lostCommits: input.after.commits, resumesAt: input.after.firstLsn }
    : null;
  const findings = [...input.serverFindings];
  if (input.controlError) findings.push(`pg_control: ${input.controlError}`);
  for (const file of input.missingRelationFiles) findings.push(`${file} is missing, though WAL after the latest checkpoint changes it`);
  if (damage) findings.push(`WAL is unreadable at ${damage.at} (${damage.reason}), and readable WAL follows from ${damage.resumesAt ?? '?'}: ${commitsText(damage.lostCommits)} there cannot be replayed`);
  const redoRead = Boolean(control && scan?.lastRecordLsn && parseLsn(scan.lastRecordLsn) >= parseLsn(control.checkpointLsn));
  if (control && !input.running && !redoRead) findings.push(`the WAL from the latest checkpoint's REDO point (${control.redoLsn}, segment ${control.redoWalFile}) cannot be read from pg_wal${scan?.stopReason ? `: ${scan.stopReason}` : ''}`);

  const expectedLoss: string[] = [];
  if (damage) expectedLoss.push(`WAL after ${damage.at} is damaged: ${commitsText(damage.lostCommits)} after it cannot be replayed (by a rebuild or by crash recovery)`);
  if (localOnly.gap) expectedLoss.push(`segments ${localOnly.gap.from} … ${localOnly.gap.to} are neither archived nor in pg_wal: replay from the archive stops before them`);
  if (!input.newestBackup) expectedLoss.push('no usable base backup of this timeline is in storage: nothing to rebuild from');

  const decide = (): { path: CrashPath; why: string } => {
    if (input.forceRebuild) return { path: 'rebuild', why: 'asked for (--from-backup)' };
    if (!control) return { path: 'rebuild', why: 'pg_control cannot be read: the server cannot start on this directory' };
    if ((STANDBY_STATES as readonly string[]).includes(control.state)) {
      if (input.running && input.standbyStreaming === true && input.serverFindings.length === 0) return { path: 'healthy', why: 'a standby that streams from its primary, and its checks found no damage' };
      return { path: 'replica', why: `the cluster is a standby (${control.state}) that ${input.running ? (input.standbyStreaming ? 'has damaged data' : 'does not stream from its primary') : 'is down'}: rebuild it from its primary` };
    }
    if (input.running) {
      return input.serverFindings.length > 0
        ? { path: 'rebuild', why: 'the running server has damaged data (see the findings)' }
        : { path: 'healthy', why: 'the server runs and its checks found no damage' };
    }
    if (damage) return { path: 'rebuild', why: 'the local WAL is damaged: crash recovery would stop at the damage while data pages may already hold later changes' };
    if (input.missingRelationFiles.length > 0) return { path: 'rebuild', why: 'data files that WAL after the latest checkpoint changes are missing: crash recovery would recreate them from the pages in WAL alone and lose the rest silently' };
    if (!redoRead) return { path: 'rebuild', why: 'crash recovery needs WAL from the REDO point that cannot be read' };
    const crashed = (CRASHED_STATES as readonly string[]).includes(control.state);
    return { path: 'start', why: crashed ? `the server stopped without a shutdown checkpoint (${control.state}); the files look intact: crash recovery replays the local WAL from REDO ${control.redoLsn}` : `the cluster was shut down cleanly (${control.state}); starting it needs no recovery` };
  };
  const { path, why } = decide();
  return {
    dataDir: input.dataDir,
    running: input.running,
    control,
    controlError: input.controlError,
    wal: {
      redoSegment: control?.redoWalFile ?? null,
      lastRecordLsn: scan?.lastRecordLsn ?? null,
      endLsn: scan?.endLsn ?? null,
      endSegment,
      stopReason: scan?.stopReason ?? null,
      newestArchived: control ? newestArchivedOn(input.archived, control.timeline, size) : null,
      ready: input.readySegments.length,
    },
    localOnly,
    damage,
    findings,
    newestBackup: input.newestBackup,
    path,
    why,
    expectedLoss,
  };
}
