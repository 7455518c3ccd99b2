/**
 * Which archived WAL segments `locate` reads (pure): from the newest base backup's start, or
 * from the first segment archived after `--since` minus a margin, through the last segment
 * archived without a gap, on the newest timeline the backup leads to. Bounded: above
 * `max` segments it refuses and names the way out (--since).
 */
import type { Catalog } from '../../catalog/catalog.js';
import { indexSegments, latestTimelineFor } from '../../catalog/coverage.js';
import { parseLsn, segmentName, segmentOfLsn, timelineForSegment } from '../../catalog/segments.js';
import { RecoverError } from '../../errors.js';

/** At most this many segments (4 GiB of 16 MiB segments) per locate; more is refused. */
export const MAX_LOCATE_SEGMENTS = 256;
/** A segment is archived after its records were written: read from this much before --since. */
export const SINCE_MARGIN_MS = 5 * 60_000;

export interface LocateWal {
  segments: string[];
  /** Where reading starts: the backup, or the --since cut-off. */
  from: string;
  timeline: number;
  segmentSize: number;
  /** The first missing segment when later ones exist: reading stops before it. */
  gapAt: string | null;
  bytes: number;
}

export function locateSegments(catalog: Catalog, since: Date | null, max = MAX_LOCATE_SEGMENTS): LocateWal {
  const backup = catalog.backups.at(-1);
  if (!backup) throw new RecoverError('NO_BASE_BACKUP', 'There is no base backup, so there is no known start for reading the WAL archive.', { hint: 'Check /recover backups.' });
  const size = backup.walSegmentSize;
  const index = indexSegments(catalog);
  const { timeline, path } = latestTimelineFor(catalog, index, backup);
  const onPath = index.segments.filter((segment) => timelineForSegment(segment.segno, path, size) === segment.timeline);
  if (onPath.length === 0) throw new RecoverError('WAL_GAP', 'No WAL segment of the current timeline is archived.', { hint: 'Check /recover backups and the archiver (pg_stat_archiver).' });
  const last = onPath.reduce((max, segment) => (segment.segno > max ? segment.segno : max), 0n);
  let start = segmentOfLsn(parseLsn(backup.startLsn), size);
  let from = `the start of base backup ${backup.id} (${backup.startTime})`;
  if (since) {
    const cutoff = since.getTime() - SINCE_MARGIN_MS;
    const after = onPath.filter((segment) => index.byName.get(segmentName(segment.timeline, segment.segno, size))!.archivedAt.getTime() >= cutoff);
    if (after.length === 0) {
      throw new RecoverError('TARGET_OUTSIDE_WINDOW', `No WAL segment was archived after ${since.toISOString()} (minus ${SINCE_MARGIN_MS / 60_000} min).`, { hint: 'Give an earlier --since, or check the archiver.' });
    }
    start = after.reduce((min, segment) => (segment.segno < min ? segment.segno : min), after[0]!.segno);
    from = `the first segment archived after ${new Date(cutoff).toISOString()} (--since minus ${SINCE_MARGIN_MS / 60_000} min)`;
  }
  const segments: string[] = [];
  let gapAt: string | null = null;
  let bytes = 0;
  for (let segno = start; segno <= last; segno++) {
    const name = segmentName(timelineForSegment(segno, path, size), segno, size);
    const found = index.byName.get(name);
    if (!found) {
      gapAt = name;
      break;
    }
    segments.push(name);
    bytes += found.size;
  }
  if (segments.length === 0) throw new RecoverError('WAL_GAP', `WAL segment ${gapAt ?? segmentName(timeline, start, size)} is missing from the archive: there is nothing to read from ${from}.`, { hint: 'Check /recover backups.' });
  if (segments.length > max) {
    throw new RecoverError('TARGET_OUTSIDE_WINDOW', `Reading from ${from} means ${segments.length} WAL segments; locate reads at most ${max}.`, {
      hint: 'Give --since <time with offset> shortly before the mistake, so fewer segments are read.',
    });
  }
  return { segments, from, timeline, segmentSize: size, gapAt, bytes };
}

/** Consecutive runs of `size` segments (a run never spans a timeline change), read by one pg_waldump each. */
export function chunkSegments(segments: readonly string[], size: number): string[][] {
  const chunks: string[][] = [];
  for (const name of segments) {
    const current = chunks.at(-1);
    if (current && current.length < size && current[0]!.slice(0, 8) === name.slice(0, 8)) current.push(name);
    else chunks.push([name]);
  }
  return chunks;
}
