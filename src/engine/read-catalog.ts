/**
 * Reading the backup catalog from storage, once: base backup manifests and the WAL archive
 * listing (history files decoded and checked like segments). Everything after is pure
 * (src/catalog/).
 */
import { backupManifestSchema, indexWalListing, manifestKey, type BackupManifest, type Catalog, type WalArchive } from '../catalog/catalog.js';
import { DEFAULT_SEGMENT_SIZE, parseHistoryFile, type HistoryEntry } from '../catalog/segments.js';
import { listAll, type Storage } from '../storage/blob-store.js';
import { readStreamToBuffer } from '../util/streams.js';
import { decodeArchivedFile, expectedFromMetadata, walCorrupt } from '../wal/archived-file.js';

export async function readBackupManifests(storage: Storage): Promise<Pick<Catalog, 'backups' | 'unreadableBackups'>> {
  const blobs = await listAll(storage.backups, storage.backupPrefix);
  const backups: BackupManifest[] = [];
  const unreadableBackups: Catalog['unreadableBackups'] = [];
  const manifestBlobs = blobs.filter((blob) => blob.key.endsWith('/manifest.json'));
  // A backup directory without a manifest is an interrupted upload: list it as unusable.
  const dirs = new Set(blobs.map((blob) => blob.key.slice(storage.backupPrefix.length).split('/')[0]!));
  for (const dir of dirs) {
    if (!manifestBlobs.some((blob) => blob.key === manifestKey(storage.backupPrefix, dir))) {
      const lastWrite = blobs.filter((blob) => blob.key.startsWith(`${storage.backupPrefix}${dir}/`)).reduce((max, blob) => Math.max(max, blob.lastModified.getTime()), 0);
      unreadableBackups.push({ id: dir, reason: 'no manifest.json (interrupted or foreign upload)', ...(lastWrite > 0 ? { lastWrite: new Date(lastWrite).toISOString() } : {}) });
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
  const size = segmentSize ?? manifests.backups.at(-1)?.walSegmentSize ?? DEFAULT_SEGMENT_SIZE;
  return { ...manifests, wal: await readWalArchive(storage, size), readAt: now };
}
