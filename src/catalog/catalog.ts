/**
 * The backup catalog: base backups (their manifests) and the WAL archive listing, read
 * from storage once and then reasoned about with pure functions.
 */
import { z } from 'zod';
import type { BlobInfo, Storage } from '../storage/blob-store.js';
import { listAll } from '../storage/blob-store.js';
import { parseHistoryFile, parseHistoryFileTimeline, parseSegmentName, type HistoryEntry } from './segments.js';
import { readStreamToBuffer } from '../util/streams.js';
import { decodeArchivedFile, expectedFromMetadata, walCorrupt } from '../wal/archived-file.js';

export const backupManifestSchema = z.object({
  formatVersion: z.literal(1),
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
  files: z.array(z.object({ name: z.string(), bytes: z.number(), sha256: z.string() })),
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
  /** Manifests that could not be read: shown, never used for a restore. */
  unreadableBackups: { id: string; reason: string }[];
  wal: WalArchive;
  readAt: Date;
}

export const manifestKey = (prefix: string, id: string) => `${prefix}${id}/manifest.json`;

export async function readBackupManifests(storage: Storage): Promise<Pick<Catalog, 'backups' | 'unreadableBackups'>> {
  const blobs = await listAll(storage.backups, storage.backupPrefix);
  const backups: BackupManifest[] = [];
  const unreadableBackups: Catalog['unreadableBackups'] = [];
  const manifestBlobs = blobs.filter((blob) => blob.key.endsWith('/manifest.json'));
  // A backup directory without a manifest is an interrupted upload: list it as unusable.
  const dirs = new Set(blobs.map((blob) => blob.key.slice(storage.backupPrefix.length).split('/')[0]!));
  for (const dir of dirs) {
    if (!manifestBlobs.some((blob) => blob.key === manifestKey(storage.backupPrefix, dir))) {
      unreadableBackups.push({ id: dir, reason: 'no manifest.json (interrupted or foreign upload)' });
    }
  }
  for (const blob of manifestBlobs) {
    const id = blob.key.slice(storage.backupPrefix.length, -'/manifest.json'.length);
    try {
      const text = (await readStreamToBuffer(await storage.backups.getStream(blob.key))).toString('utf8');
      backups.push(backupManifestSchema.parse(JSON.parse(text)));
    } catch (error) {
      if ((error as { code?: string }).code === 'STORAGE_UNREACHABLE') throw error;
      unreadableBackups.push({ id, reason: error instanceof Error ? error.message.split('\n')[0]! : String(error) });
    }
  }
  backups.sort((a, b) => Date.parse(a.stopTime) - Date.parse(b.stopTime));
  return { backups, unreadableBackups };
}

/** When the file was archived: our own millisecond stamp, else the store's Last-Modified. */
export function archivedAt(blob: BlobInfo): Date {
  const stamp = blob.metadata.archivedat ? Date.parse(blob.metadata.archivedat) : Number.NaN;
  return Number.isNaN(stamp) ? blob.lastModified : new Date(stamp);
}

export function indexWalListing(blobs: BlobInfo[], prefix: string, segmentSize: number): Omit<WalArchive, 'histories'> & { historyKeys: Map<number, string> } {
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

export async function readWalArchive(storage: Storage, segmentSize: number): Promise<WalArchive> {
  const blobs = await listAll(storage.wal, storage.walPrefix);
  const { segments, historyKeys, others } = indexWalListing(blobs, storage.walPrefix, segmentSize);
  const histories = new Map<number, HistoryEntry[]>();
  const byKey = new Map(blobs.map((blob) => [blob.key, blob]));
  for (const [timeline, key] of historyKeys) {
    const blob = byKey.get(key)!;
    const ref = { name: key.slice(storage.walPrefix.length), key, store: storage.wal };
    // Checked like a segment: a damaged history file would otherwise mislead timeline choice silently.
    const raw = await decodeArchivedFile(await readStreamToBuffer(await storage.wal.getStream(key)), ref, expectedFromMetadata(blob.metadata, blob.size));
    try {
      histories.set(timeline, parseHistoryFile(raw.toString('utf8')));
    } catch (error) {
      throw walCorrupt(ref, `it is not a readable timeline history file (${error instanceof Error ? error.message : String(error)})`, error);
    }
  }
  return { segments, histories, others };
}

export async function readCatalog(storage: Storage, now: Date, segmentSize?: number): Promise<Catalog> {
  const manifests = await readBackupManifests(storage);
  const size = segmentSize ?? manifests.backups.at(-1)?.walSegmentSize ?? 16 * 1024 * 1024;
  return { ...manifests, wal: await readWalArchive(storage, size), readAt: now };
}
