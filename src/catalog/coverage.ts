/**
 * What the archive can restore: per timeline, which segments are present, where the gaps
 * are, and the restorable window (oldest usable backup's consistent point to the newest
 * WAL reachable without a gap). Pure functions over a Catalog.
 */
import type { ArchivedSegment, BackupManifest, Catalog } from './catalog.js';
import {
  parseLsn,
  segmentName,
  segmentOfLsn,
  timelineForSegment,
  timelinePath,
  type TimelineSpan,
} from './segments.js';

export interface SegmentIndex {
  segments: { timeline: number; segno: bigint }[];
  byName: Map<string, { archivedAt: Date; size: number; sha256?: string; crc32?: string }>;
  timelines: number[];
  maxSegnoByTimeline: Map<number, bigint>;
}

export function indexSegments(catalog: Catalog): SegmentIndex {
  const byName = new Map<string, { archivedAt: Date; size: number; sha256?: string; crc32?: string }>();
  const maxSegnoByTimeline = new Map<number, bigint>();
  for (const segment of catalog.wal.segments) {
    byName.set(segment.name, { archivedAt: segment.archivedAt, size: segment.size, ...(segment.sha256 ? { sha256: segment.sha256 } : {}), ...(segment.crc32 ? { crc32: segment.crc32 } : {}) });
    const max = maxSegnoByTimeline.get(segment.timeline);
    if (max === undefined || segment.segno > max) maxSegnoByTimeline.set(segment.timeline, segment.segno);
  }
  const timelines = [...new Set([...maxSegnoByTimeline.keys(), ...catalog.wal.histories.keys()])].sort((a, b) => a - b);
  return { segments: catalog.wal.segments, byName, timelines, maxSegnoByTimeline };
}

export function pathTo(catalog: Catalog, timeline: number): TimelineSpan[] {
  return timelinePath(timeline, catalog.wal.histories.get(timeline) ?? []);
}

/** True when the backup lies on the path: its timeline is an ancestor and it began before the branch. */
export function backupOnPath(backup: BackupManifest, path: TimelineSpan[]): boolean {
  const span = path.find((entry) => entry.timeline === backup.timeline);
  return span !== undefined && (span.endLsn === null || parseLsn(backup.startLsn) < span.endLsn);
}

/** The newest timeline whose history contains the backup (PostgreSQL's 'latest'). */
export function latestTimelineFor(catalog: Catalog, index: SegmentIndex, backup: BackupManifest): { timeline: number; path: TimelineSpan[] } {
  for (const timeline of [...index.timelines].reverse()) {
    const path = pathTo(catalog, timeline);
    if (backupOnPath(backup, path)) return { timeline, path };
  }
  return { timeline: backup.timeline, path: pathTo(catalog, backup.timeline) };
}

export interface Reach {
  /** Last segment number present without a gap from the backup start. */
  lastSegno: bigint | null;
  lastArchivedAt: Date | null;
  /** First missing segment after the reach, when later segments do exist (a gap). */
  gapAt: string | null;
  /** The newest segment number archived on the path's final timeline. */
  newestSegno: bigint | null;
}

export function reachFrom(backup: BackupManifest, path: TimelineSpan[], index: SegmentIndex, segmentSize: number): Reach {
  // The newest segment PostgreSQL would read on this path: an old timeline's segments past
  // its switch point belong to the abandoned branch and do not count.
  let newest: bigint | null = null;
  for (const segment of index.segments) {
    if (timelineForSegment(segment.segno, path, segmentSize) === segment.timeline && (newest === null || segment.segno > newest)) newest = segment.segno;
  }
  let lastSegno: bigint | null = null;
  let lastArchivedAt: Date | null = null;
  let gapAt: string | null = null;
  const start = segmentOfLsn(parseLsn(backup.startLsn), segmentSize);
  for (let segno = start; newest !== null && segno <= newest; segno++) {
    const name = segmentName(timelineForSegment(segno, path, segmentSize), segno, segmentSize);
    const found = index.byName.get(name);
    if (!found) {
      gapAt = name;
      break;
    }
    lastSegno = segno;
    lastArchivedAt = found.archivedAt;
  }
  return { lastSegno, lastArchivedAt, gapAt, newestSegno: newest };
}

export interface TimelineCoverage {
  timeline: number;
  firstSegment: string | null;
  lastSegment: string | null;
  segmentCount: number;
  gaps: { from: string; to: string; missing: number }[];
  earliestRestorable: string | null;
  latestRestorable: string | null;
  usableBackups: string[];
}

function gapsOn(timeline: number, catalog: Catalog, segmentSize: number): TimelineCoverage['gaps'] {
  const segnos = catalog.wal.segments.filter((s) => s.timeline === timeline).map((s) => s.segno);
  const gaps: TimelineCoverage['gaps'] = [];
  for (let i = 1; i < segnos.length; i++) {
    const previous = segnos[i - 1]!;
    const current = segnos[i]!;
    if (current - previous > 1n) {
      gaps.push({
        from: segmentName(timeline, previous + 1n, segmentSize),
        to: segmentName(timeline, current - 1n, segmentSize),
        missing: Number(current - previous - 1n),
      });
    }
  }
  return gaps;
}

export function coverage(catalog: Catalog, segmentSize: number): TimelineCoverage[] {
  const index = indexSegments(catalog);
  return index.timelines.map((timeline) => {
    const path = pathTo(catalog, timeline);
    const onTimeline = catalog.wal.segments.filter((s) => s.timeline === timeline);
    let earliest: string | null = null;
    let latest: Date | null = null;
    const usable: string[] = [];
    for (const backup of catalog.backups) {
      if (!backupOnPath(backup, path)) continue;
      const reach = reachFrom(backup, path, index, segmentSize);
      if (reach.lastSegno === null || reach.lastSegno < segmentOfLsn(parseLsn(backup.stopLsn), segmentSize)) continue;
      usable.push(backup.id);
      if (earliest === null || backup.stopTime < earliest) earliest = backup.stopTime;
      if (reach.lastArchivedAt && (latest === null || reach.lastArchivedAt > latest)) latest = reach.lastArchivedAt;
    }
    return {
      timeline,
      firstSegment: onTimeline[0]?.name ?? null,
      lastSegment: onTimeline.at(-1)?.name ?? null,
      segmentCount: onTimeline.length,
      gaps: gapsOn(timeline, catalog, segmentSize),
      earliestRestorable: earliest,
      latestRestorable: latest?.toISOString() ?? null,
      usableBackups: usable,
    };
  });
}

/** When the newest of these segments was archived; null for none. */
export function newestArchivedAt(segments: readonly Pick<ArchivedSegment, 'archivedAt'>[]): Date | null {
  return segments.reduce<Date | null>((max, s) => (max === null || s.archivedAt > max ? s.archivedAt : max), null);
}

/** Seconds from `at` to `now` (never negative): how much committed data a disaster now would lose, at least. */
export function exposureSince(at: Date, now: Date): number {
  return Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
}

/** Seconds since the newest archived segment: how much committed data a disaster now would lose, at least. */
export function rpoExposureSeconds(catalog: Catalog, now: Date): number | null {
  const newest = newestArchivedAt(catalog.wal.segments);
  return newest ? exposureSince(newest, now) : null;
}
