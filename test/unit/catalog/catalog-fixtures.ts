/** Builders for synthetic catalogs (shared by the storage and engine unit tests). */
import { backupManifestSchema, type ArchivedSegment, type BackupManifest, type Catalog } from '../../../src/catalog/catalog.js';
import { DEFAULT_SEGMENT_SIZE, segmentName, type HistoryEntry } from '../../../src/catalog/segments.js';

export const MiB = 1024 * 1024;
export const SEG = DEFAULT_SEGMENT_SIZE;

/** 2025-01-15 10:MM:SS UTC. */
export function at(minute: number, second = 0): Date {
  return new Date(Date.UTC(2025, 0, 15, 10, minute, second));
}

export function backup(
  id: string,
  options: { startLsn: string; stopLsn: string; startTime: Date; stopTime: Date; timeline?: number; nextXidAtStart?: string; walSegmentSize?: number },
): BackupManifest {
  return backupManifestSchema.parse({
    formatVersion: 1,
    id,
    startLsn: options.startLsn,
    stopLsn: options.stopLsn,
    startTime: options.startTime.toISOString(),
    stopTime: options.stopTime.toISOString(),
    timeline: options.timeline ?? 1,
    systemIdentifier: '7312345678901234567',
    serverVersion: '15.8',
    serverVersionNum: 150008,
    walSegmentSize: options.walSegmentSize ?? SEG,
    nextXidAtStart: options.nextXidAtStart ?? '1000',
    databaseBytes: 50 * MiB,
    files: [
      { name: 'base.tar.gz', bytes: 12 * MiB, sha256: 'a'.repeat(64) },
      { name: 'backup_manifest', bytes: 2048, sha256: 'b'.repeat(64) },
    ],
  });
}

export function segment(timeline: number, segno: number, archivedAt: Date, extra: { size?: number; sha256?: string } = {}): ArchivedSegment {
  return {
    name: segmentName(timeline, BigInt(segno)),
    timeline,
    segno: BigInt(segno),
    size: extra.size ?? SEG,
    archivedAt,
    ...(extra.sha256 ? { sha256: extra.sha256 } : {}),
  };
}

export function catalog(backups: BackupManifest[], segments: ArchivedSegment[], histories: [number, HistoryEntry[]][] = []): Catalog {
  const sorted = [...segments].sort((a, b) => a.timeline - b.timeline || Number(a.segno - b.segno));
  return { backups, unreadableBackups: [], wal: { segments: sorted, histories: new Map(histories), others: [] }, readAt: at(59) };
}

/** `n` → the 16 MiB segment name on `timeline`. */
export const seg = (timeline: number, segno: number) => segmentName(timeline, BigInt(segno));

/**
 * One timeline, segments 2..10 archived at 10:(5n), two backups:
 * B1 in segment 2 (stopped 10:01, next xid 1000) and B2 across segments 6-7 (stopped 10:31, next xid 5000).
 */
export function linearCatalog(options: { drop?: number[] } = {}): Catalog {
  const b1 = backup('20250115T100000Z', { startLsn: '0/2000028', stopLsn: '0/2000138', startTime: at(0), stopTime: at(1), nextXidAtStart: '1000' });
  const b2 = backup('20250115T102900Z', { startLsn: '0/6000028', stopLsn: '0/7000100', startTime: at(29), stopTime: at(31), nextXidAtStart: '5000' });
  const segments: ArchivedSegment[] = [];
  for (let n = 2; n <= 10; n++) {
    if (options.drop?.includes(n)) continue;
    segments.push(segment(1, n, at(5 * n), n % 2 === 0 ? { sha256: `sha-${n}` } : {}));
  }
  return catalog([b1, b2], segments);
}
