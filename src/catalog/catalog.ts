/**
 * The backup catalog: base backups (their manifests) and the WAL archive listing, as read
 * from storage once (engine/read-catalog.ts) and then reasoned about with pure functions.
 */
import { z } from 'zod';
import { parseHistoryFileTimeline, parseSegmentName, type HistoryEntry } from './segments.js';

const storedFileSchema = z.object({
  name: z.string(),
  /** Size and sha256 of the stored blob. */
  bytes: z.number(),
  sha256: z.string(),
  /** Format 2: size of the part's tar before compression. */
  rawBytes: z.number().int().nonnegative().optional(),
  /** Format 2: how the part's tar is compressed; absent means lz4 (the first format 2 backups). */
  codec: z.enum(['lz4', 'zstd']).optional(),
});

/** Format 2 part names: relative, under base/, never escaping the backup's directory; the suffix names the codec. */
const PART_NAME = /^base\/part-\d{5,}\.tar\.(lz4|zst)$/;
const PART_SUFFIX = { lz4: 'lz4', zstd: 'zst' } as const;

/** The codec of a format 2 part: lz4 unless the manifest says otherwise. */
export const partCodec = (file: { codec?: 'lz4' | 'zstd' | undefined }): 'lz4' | 'zstd' => file.codec ?? 'lz4';

/**
 * formatVersion 1: one gzip tar, `files: [{ name: 'base.tar.gz', … }]` (still restored).
 * formatVersion 2: the tar cut at entry boundaries into self-contained parts, each stored as
 * LZ4 frames in `base/part-NNNNN.tar.lz4` or as a zstd frame in `base/part-NNNNN.tar.zst`
 * (`codec`, absent = lz4), listed in order with their raw size.
 */
export const backupManifestSchema = z
  .object({
    formatVersion: z.union([z.literal(1), z.literal(2)]),
    id: z.string(),
    startLsn: z.string(),
    stopLsn: z.string(),
    startTime: z.string(),
    stopTime: z.string(),
    timeline: z.number().int().positive(),
    systemIdentifier: z.string(),
    serverVersion: z.string(),
    serverVersionNum: z.number().int(),
    walSegmentSize: z.number().int().positive(),
    nextXidAtStart: z.string(),
    databaseBytes: z.number(),
    /** How the source was read (engine/backup-files/method.ts); absent in backups taken before there was a choice (stream). */
    method: z.enum(['files', 'stream']).optional(),
    /**
     * Where the source kept its data and configuration when the backup was taken, and a few of
     * its settings (engine/source-layout.ts); absent in older backups and when the backup role
     * may not read them. Debian's packages keep postgresql.conf, pg_hba.conf and pg_ident.conf
     * under /etc/postgresql/<version>/<cluster>, outside the data directory (and the backup).
     */
    sourceLayout: z
      .object({
        dataDirectory: z.string().optional(),
        configFile: z.string().optional(),
        hbaFile: z.string().optional(),
        identFile: z.string().optional(),
        settings: z.record(z.string(), z.string()).optional(),
      })
      .optional(),
    files: z.array(storedFileSchema),
  })
  .superRefine((manifest, issues) => {
    if (manifest.formatVersion !== 2) return;
    if (manifest.files.length === 0) issues.addIssue({ code: 'custom', path: ['files'], message: 'a format 2 backup lists at least one part' });
    manifest.files.forEach((file, index) => {
      const suffix = PART_SUFFIX[partCodec(file)];
      if (!PART_NAME.test(file.name) || !file.name.endsWith(`.tar.${suffix}`)) {
        issues.addIssue({ code: 'custom', path: ['files', index, 'name'], message: `expected base/part-NNNNN.tar.${suffix}` });
      }
      if (file.rawBytes === undefined) issues.addIssue({ code: 'custom', path: ['files', index, 'rawBytes'], message: 'a format 2 part records its raw size' });
    });
  });

export type BackupManifest = z.infer<typeof backupManifestSchema>;

export interface ArchivedSegment {
  name: string;
  timeline: number;
  segno: bigint;
  size: number;
  archivedAt: Date;
  /** Recorded by our own archiving; absent for files archived by other tools. */
  sha256?: string;
  crc32?: string;
}

export interface WalArchive {
  segments: ArchivedSegment[];
  /** Timeline → its history (ancestors with switch points); timeline 1 has none. */
  histories: Map<number, HistoryEntry[]>;
  /** Names of everything else archived (.backup, .partial) — listed, not needed for replay. */
  others: string[];
}

export interface Catalog {
  backups: BackupManifest[];
  /**
   * Manifests that could not be read: shown, never used for a restore. `lastWrite` (ISO time of
   * its newest blob) is set only for a directory without any manifest.json (an interrupted
   * upload, or one still running): retention may delete those once old (engine/retention).
   */
  unreadableBackups: { id: string; reason: string; lastWrite?: string }[];
  wal: WalArchive;
  readAt: Date;
}

/**
 * One stored file as the WAL archive listing reports it: the fields the catalog reads. Storage
 * drivers' BlobInfo has this shape; the catalog does not import storage (it sits below it).
 */
export interface ListedFile {
  key: string;
  size: number;
  lastModified: Date;
  metadata: Record<string, string>;
}

export const manifestKey = (prefix: string, id: string) => `${prefix}${id}/manifest.json`;

/** When the file was archived: our own millisecond stamp, else the store's Last-Modified. */
export function archivedAt(blob: ListedFile): Date {
  const stamp = blob.metadata.archivedat ? Date.parse(blob.metadata.archivedat) : Number.NaN;
  return Number.isNaN(stamp) ? blob.lastModified : new Date(stamp);
}

export function indexWalListing(blobs: readonly ListedFile[], prefix: string, segmentSize: number): Omit<WalArchive, 'histories'> & { historyKeys: Map<number, string> } {
  const segments: ArchivedSegment[] = [];
  const historyKeys = new Map<number, string>();
  const others: string[] = [];
  for (const blob of blobs) {
    const name = blob.key.slice(prefix.length);
    const segment = parseSegmentName(name, segmentSize);
    if (segment) {
      const { sha256, crc32 } = blob.metadata;
      // size: what PostgreSQL wrote (our uploads are compressed; rawsize records the original).
      const size = Number(blob.metadata.rawsize) || blob.size;
      segments.push({ name, ...segment, size, archivedAt: archivedAt(blob), ...(sha256 ? { sha256 } : {}), ...(crc32 ? { crc32 } : {}) });
      continue;
    }
    const timeline = parseHistoryFileTimeline(name);
    if (timeline !== null) historyKeys.set(timeline, blob.key);
    else others.push(name);
  }
  segments.sort((a, b) => a.timeline - b.timeline || (a.segno < b.segno ? -1 : a.segno > b.segno ? 1 : 0));
  return { segments, historyKeys, others };
}

/** What was recorded about a WAL file when it was archived, to check a download against. */
export interface ExpectedSegment {
  size: number;
  sha256?: string;
  crc32?: string;
}
