/**
 * Choosing what a PITR needs, before anything runs: the base backup, the timeline path, and
 * the exact WAL segments, refusing precisely when the target cannot be reached.
 */
import { RecoverError } from '../errors.js';
import { exactTargetTime, type ExactTime } from './targets.js';
import type { BackupManifest, Catalog, ExpectedSegment } from './catalog.js';
import { coverage, indexSegments, latestTimelineFor, reachFrom, type SegmentIndex } from './coverage.js';
import { DEFAULT_SEGMENT_SIZE, formatLsn, parseLsn, segmentName, segmentOfLsn, timelineForSegment, type TimelineSpan } from './segments.js';
import type { RecoveryTarget } from '../types.js';

export interface RestoreSelection {
  backup: BackupManifest;
  timeline: number;
  path: TimelineSpan[];
  /** Segments recovery must read, in replay order; it may read further ones for unbounded targets. */
  requiredSegments: string[];
  /** Segments worth prefetching: the required ones, then the rest of the path (bounded targets stop early). */
  prefetchSegments: string[];
  walBytes: number;
  /** Size and checksum of every prefetched segment, to check each download. */
  expected: Map<string, ExpectedSegment>;
  window: { earliest: string | null; latest: string | null; timeline: number };
  /** The last segment archived without a gap from the backup's start (the end of what can replay). */
  contiguousEnd: string;
}

/** The usable WAL from a backup: its last segments up to the first gap or the newest archived. */
export interface ReachableWal {
  backup: BackupManifest;
  /** Up to `tail` segment names ending at the last contiguous one, in replay order. */
  tail: string[];
  gapAt: string | null;
}

export function describeTarget(target: RecoveryTarget): string {
  switch (target.kind) {
    case 'time': {
      // Exactly as given (microseconds and offset); the UTC instant too when the offset is not UTC.
      const exact = describableTime(target);
      if (!exact) return `time ${target.time.toISOString()}`;
      return exact.text.endsWith('Z') ? `time ${exact.text}` : `time ${exact.text} (${exact.utc})`;
    }
    case 'xid':
      return `transaction ${target.xid}`;
    case 'lsn':
      return `LSN ${formatLsn(target.lsn)}`;
    case 'name':
      return `restore point "${target.name}"`;
    case 'immediate':
      return 'the end of the base backup (immediate)';
    case 'latest':
      return 'the end of the archived WAL (latest)';
  }
}

function describableTime(target: Extract<RecoveryTarget, { kind: 'time' }>): ExactTime | null {
  try {
    return exactTargetTime(target);
  } catch {
    return null; // describing never throws; parsing refused such a target long before
  }
}

export function windowText(window: RestoreSelection['window']): string {
  if (!window.earliest || !window.latest) return 'Nothing is restorable yet: no complete base backup with its WAL.';
  return `Restorable window (timeline ${window.timeline}): ${window.earliest} … ${window.latest}.`;
}

function candidateBackups(catalog: Catalog, target: RecoveryTarget): BackupManifest[] {
  const newestFirst = [...catalog.backups].reverse();
  switch (target.kind) {
    case 'time':
      return newestFirst.filter((b) => Date.parse(b.stopTime) < target.time.getTime());
    case 'lsn':
      return newestFirst.filter((b) => parseLsn(b.stopLsn) <= target.lsn);
    case 'xid':
      return newestFirst.filter((b) => BigInt(b.nextXidAtStart) <= BigInt(target.xid));
    default:
      return newestFirst;
  }
}

function namesFor(from: bigint, to: bigint, path: TimelineSpan[], size: number): string[] {
  const names: string[] = [];
  for (let segno = from; segno <= to; segno++) names.push(segmentName(timelineForSegment(segno, path, size), segno, size));
  return names;
}

/** The last segment recovery must read for a bounded target, or null when only the whole chain will do. */
function requiredEnd(
  target: RecoveryTarget,
  backup: BackupManifest,
  path: TimelineSpan[],
  index: SegmentIndex,
  size: number,
  reachEnd: bigint,
): bigint | 'beyond-archive' | null {
  if (target.kind === 'immediate') return segmentOfLsn(parseLsn(backup.stopLsn), size);
  if (target.kind === 'lsn') return segmentOfLsn(target.lsn, size);
  if (target.kind !== 'time') return null;
  // A commit after the target lives in a segment archived after the target: recovery needs
  // every segment up to the first one archived later than the target time.
  const start = segmentOfLsn(parseLsn(backup.startLsn), size);
  const backupEnd = segmentOfLsn(parseLsn(backup.stopLsn), size);
  for (let segno = start; segno <= reachEnd; segno++) {
    const found = index.byName.get(segmentName(timelineForSegment(segno, path, size), segno, size));
    // Never less than the backup's own WAL: it must be replayed to be consistent at all.
    if (found && found.archivedAt.getTime() > target.time.getTime()) return segno > backupEnd ? segno : backupEnd;
  }
  return 'beyond-archive';
}

/**
 * `windowLine` replaces the catalog's window in refusals: the runner passes one whose ends it
 * checked against the WAL itself (archive times overstate how far a time target reaches).
 */
export interface SelectOptions {
  backupId?: string;
  windowLine?: string;
}

function chooseBackup(catalog: Catalog, target: RecoveryTarget, options: SelectOptions, window: RestoreSelection['window']): BackupManifest {
  let backup: BackupManifest | undefined;
  if (options.backupId) {
    backup = catalog.backups.find((b) => b.id === options.backupId);
    if (!backup) {
      throw new RecoverError('NO_BASE_BACKUP', `Base backup ${options.backupId} does not exist.`, {
        hint: `Known backups: ${catalog.backups.map((b) => b.id).join(', ') || 'none'}. Run \`/recover backups\` to list them.`,
      });
    }
  } else {
    backup = candidateBackups(catalog, target)[0];
  }
  if (!backup) {
    if (catalog.backups.length === 0) {
      throw new RecoverError('NO_BASE_BACKUP', 'There is no base backup to restore from.', { hint: 'Take one with `recover backup` first.' });
    }
    throw new RecoverError('TARGET_OUTSIDE_WINDOW', `The target ${describeTarget(target)} is before the first base backup (${catalog.backups[0]!.stopTime}).`, {
      hint: options.windowLine ?? windowText(window),
    });
  }
  return backup;
}

export function restorableWindow(catalog: Catalog, size: number): RestoreSelection['window'] {
  const latestWindow = coverage(catalog, size).filter((w) => w.latestRestorable).at(-1);
  return { earliest: latestWindow?.earliestRestorable ?? null, latest: latestWindow?.latestRestorable ?? null, timeline: latestWindow?.timeline ?? 1 };
}

/**
 * The backup a target would use and the end of the WAL that can replay from it, or null
 * when no backup fits. For refusals that must say how far the archive really reaches.
 */
export function reachableWal(catalog: Catalog, target: RecoveryTarget, options: { backupId?: string } = {}, tail = 8): ReachableWal | null {
  const size = catalog.backups.at(-1)?.walSegmentSize ?? DEFAULT_SEGMENT_SIZE;
  let backup: BackupManifest;
  try {
    backup = chooseBackup(catalog, target, options, restorableWindow(catalog, size));
  } catch {
    return null; // no backup fits: the caller's own refusal already says so
  }
  const index = indexSegments(catalog);
  const { path } = latestTimelineFor(catalog, index, backup);
  const reach = reachFrom(backup, path, index, size);
  if (reach.lastSegno === null) return null;
  const start = segmentOfLsn(parseLsn(backup.startLsn), size);
  const from = reach.lastSegno - BigInt(tail) + 1n > start ? reach.lastSegno - BigInt(tail) + 1n : start;
  return { backup, tail: namesFor(from, reach.lastSegno, path, size), gapAt: reach.gapAt };
}

export function selectRestore(catalog: Catalog, target: RecoveryTarget, options: SelectOptions = {}): RestoreSelection {
  const index = indexSegments(catalog);
  const size = catalog.backups.at(-1)?.walSegmentSize ?? DEFAULT_SEGMENT_SIZE;
  const window = restorableWindow(catalog, size);
  const windowLine = options.windowLine ?? windowText(window);
  const targetText = describeTarget(target);
  const backup = chooseBackup(catalog, target, options, window);

  const { timeline, path } = latestTimelineFor(catalog, index, backup);
  const reach = reachFrom(backup, path, index, size);
  const start = segmentOfLsn(parseLsn(backup.startLsn), size);
  const backupEnd = segmentOfLsn(parseLsn(backup.stopLsn), size);
  if (reach.lastSegno === null || reach.lastSegno < backupEnd) {
    throw new RecoverError('WAL_GAP', `Base backup ${backup.id} cannot be made consistent: WAL segment ${reach.gapAt ?? segmentName(backup.timeline, start, size)} is missing from the archive.`, {
      hint: `${windowLine} Choose an older backup with --backup, or take a new base backup.`,
    });
  }
  const end = requiredEnd(target, backup, path, index, size, reach.lastSegno);
  const beyond = () =>
    new RecoverError('TARGET_OUTSIDE_WINDOW', `The target ${targetText} is beyond the newest archived WAL (${reach.lastArchivedAt?.toISOString() ?? 'none'}).`, {
      hint: `${windowLine} Wait for archiving to catch up, or choose an earlier target.`,
    });
  const lastContiguous = segmentName(timelineForSegment(reach.lastSegno, path, size), reach.lastSegno, size);
  // Archive times overstate the reach (a segment is archived after its last commit): the
  // exact newest time that restores is read from the WAL itself (engine/wal-end.ts).
  const gap = () =>
    new RecoverError('WAL_GAP', `The target ${targetText} lies behind a gap in the WAL archive: segment ${reach.gapAt} is missing, so recovery from backup ${backup.id} can replay only through segment ${lastContiguous} (archived ${reach.lastArchivedAt?.toISOString()}).`, {
      hint: `Choose a target before the last transaction in ${lastContiguous}, or restore the missing segment into the archive first.`,
    });

  let requiredThrough: bigint;
  if (end === 'beyond-archive') {
    throw reach.gapAt ? gap() : beyond();
  } else if (end === null) {
    // xid, name and "latest" can be anywhere: the whole chain must be there.
    if (reach.gapAt) throw gap();
    requiredThrough = reach.lastSegno;
  } else {
    if (end > reach.lastSegno) throw reach.gapAt ? gap() : beyond();
    requiredThrough = end;
  }

  const requiredSegments = namesFor(start, requiredThrough, path, size);
  // Recovery may read one segment past a bounded target to see the record that ends it.
  const prefetchEnd = end === null ? reach.lastSegno : requiredThrough + 1n <= reach.lastSegno ? requiredThrough + 1n : requiredThrough;
  const prefetchSegments = namesFor(start, prefetchEnd, path, size);
  const walBytes = requiredSegments.reduce((sum, name) => sum + (index.byName.get(name)?.size ?? 0), 0);
  const expected = new Map(
    prefetchSegments.map((name) => {
      const found = index.byName.get(name)!;
      return [name, { size: found.size, ...(found.sha256 ? { sha256: found.sha256 } : {}), ...(found.crc32 ? { crc32: found.crc32 } : {}) }];
    }),
  );
  return { backup, timeline, path, requiredSegments, prefetchSegments, walBytes, expected, window, contiguousEnd: lastContiguous };
}
