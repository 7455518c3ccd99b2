/**
 * The stored dumps, read from the dumps container: every manifest.json, checked; and the
 * directories `<db>/<stamp>/` holding blobs but no manifest (a failed upload's leftovers, or one
 * still uploading), which are never listed as dumps and which retention removes (retention.ts).
 */
import { listAll, type BlobInfo, type Storage } from '../../storage/blob-store.js';
import { readStreamToBuffer } from '../../util/streams.js';
import { dumpManifestKey, dumpManifestSchema, parseManifestKey, STAMP, type DumpEntry } from './manifest.js';
import type { DumpLeftover } from './retention.js';

export async function listDumps(storage: Pick<Storage, 'dumps'>, database?: string): Promise<DumpEntry[]> {
  return (await scanDumps(storage, database)).entries;
}

/** Dumps and leftovers in one listing of the container (or of one database's folder). */
export async function scanDumps(storage: Pick<Storage, 'dumps'>, database?: string): Promise<{ entries: DumpEntry[]; leftovers: DumpLeftover[] }> {
  const blobs = await listAll(storage.dumps, database ? `${database}/` : '');
  const entries: DumpEntry[] = [];
  for (const blob of blobs) {
    const where = parseManifestKey(blob.key);
    if (!where) continue;
    let manifest: DumpEntry['manifest'] = null;
    let problem: string | null = null;
    try {
      const parsed = dumpManifestSchema.safeParse(JSON.parse((await readStreamToBuffer(await storage.dumps.getStream(dumpManifestKey(where.database, where.stamp)))).toString('utf8')));
      if (parsed.success && parsed.data.database === where.database && parsed.data.stamp === where.stamp) manifest = parsed.data;
      else problem = 'manifest.json does not describe this dump';
    } catch (error) {
      problem = `manifest.json unreadable: ${(error as Error).message}`;
    }
    entries.push({ ...where, manifest, problem });
  }
  return {
    entries: entries.sort((a, b) => a.database.localeCompare(b.database) || a.stamp.localeCompare(b.stamp)),
    leftovers: leftoversOf(blobs, new Set(entries.map((e) => dumpManifestKey(e.database, e.stamp)))),
  };
}

/** Groups blobs by `<db>/<stamp>/` and keeps the directories without a manifest (pure). */
export function leftoversOf(blobs: readonly Pick<BlobInfo, 'key' | 'lastModified'>[], manifests: ReadonlySet<string>): DumpLeftover[] {
  const dirs = new Map<string, DumpLeftover>();
  for (const blob of blobs) {
    const [database, stamp] = blob.key.split('/');
    if (!database || !stamp || !STAMP.test(stamp) || blob.key.split('/').length < 3) continue;
    if (manifests.has(dumpManifestKey(database, stamp))) continue;
    const key = `${database}/${stamp}`;
    const at = blob.lastModified.toISOString();
    const seen = dirs.get(key);
    if (!seen) dirs.set(key, { database, stamp, lastWrite: at, blobs: 1 });
    else dirs.set(key, { ...seen, lastWrite: at > seen.lastWrite ? at : seen.lastWrite, blobs: seen.blobs + 1 });
  }
  return [...dirs.values()].sort((a, b) => a.database.localeCompare(b.database) || a.stamp.localeCompare(b.stamp));
}
