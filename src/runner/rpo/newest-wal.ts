/**
 * The newest archived WAL for the RPO watch (watch.ts), without reading the whole catalog at
 * every look. A full catalog read lists every part of every base backup, downloads every
 * manifest, lists the whole WAL archive and downloads every timeline history file: once a
 * minute on every runner of the pool, that grows with the archive (a year of WAL is 10^5 blobs
 * and more). After one full read the watch knows the highest archived segment; a segment
 * archived since can only be later in its log file, in the next log file, or on a later
 * timeline, so each look lists those three name prefixes (at most a few hundred names), and
 * every `FULL_READ_EVERY` looks reads everything again (a timeline that skipped a number, a
 * segment archived again out of order).
 */
import { indexWalListing } from '../../catalog/catalog.js';
import { exposureSince, newestArchivedAt } from '../../catalog/coverage.js';
import { DEFAULT_SEGMENT_SIZE } from '../../catalog/segments.js';
import { readCatalog } from '../../engine/read-catalog.js';
import { listAll, type Storage } from '../../storage/blob-store.js';

/** Looks between full catalog reads: 15 min at the default RECOVER_RPO_CHECK_SECONDS of 60. */
export const FULL_READ_EVERY = 15;

const nextHex = (hex: string): string | null => {
  const value = Number.parseInt(hex, 16) + 1;
  return value > 0xffffffff ? null : value.toString(16).toUpperCase().padStart(8, '0');
};

/**
 * Where a segment archived after `name` (24 hex digits: timeline, log file, segment) can be
 * (pure): the rest of its log file, the next log file, a later timeline (the next one; a full
 * read catches one that skipped a number).
 */
export function prefixesAfter(name: string): string[] {
  const timeline = name.slice(0, 8);
  const log = name.slice(8, 16);
  const nextLog = nextHex(log);
  const nextTimeline = nextHex(timeline);
  return [`${timeline}${log}`, ...(nextLog ? [`${timeline}${nextLog}`] : []), ...(nextTimeline ? [nextTimeline] : [])];
}

export interface NewestWal {
  /** Seconds since the newest archived segment (null: none archived). */
  exposureSeconds: number | null;
  /** The newest base backup's WAL segment size, if a full read has seen one. */
  segmentSize?: number;
}

/** A reader that remembers what it saw; each call is one look. */
export function newestWalReader(storage: Storage, fullEvery = FULL_READ_EVERY): (now: Date) => Promise<NewestWal> {
  let known: { highest: string; newestAt: Date; segmentSize: number | undefined } | null = null;
  let looks = 0;
  return async (now) => {
    const full = known === null || looks % fullEvery === 0;
    looks++;
    if (full) {
      const catalog = await readCatalog(storage, now);
      const segmentSize = catalog.backups.at(-1)?.walSegmentSize;
      // Sorted by timeline and segment: the last is the highest name.
      const highest = catalog.wal.segments.at(-1);
      const newestAt = newestArchivedAt(catalog.wal.segments);
      known = highest && newestAt ? { highest: highest.name, newestAt, segmentSize } : null;
      return { exposureSeconds: newestAt ? exposureSince(newestAt, now) : null, ...(segmentSize ? { segmentSize } : {}) };
    }
    const current = known!;
    const blobs = (await Promise.all(prefixesAfter(current.highest).map((prefix) => listAll(storage.wal, `${storage.walPrefix}${prefix}`)))).flat();
    const { segments } = indexWalListing(blobs, storage.walPrefix, current.segmentSize ?? DEFAULT_SEGMENT_SIZE);
    for (const segment of segments) {
      if (segment.archivedAt > current.newestAt) current.newestAt = segment.archivedAt;
      if (segment.name.slice(0, 24) > current.highest.slice(0, 24)) current.highest = segment.name;
    }
    return { exposureSeconds: exposureSince(current.newestAt, now), ...(current.segmentSize ? { segmentSize: current.segmentSize } : {}) };
  };
}
