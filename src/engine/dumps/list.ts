/** The stored dumps, read from the dumps container: every manifest.json, checked; others ignored. */
import { listAll, type Storage } from '../../storage/blob-store.js';
import { readStreamToBuffer } from '../../util/streams.js';
import { dumpManifestKey, dumpManifestSchema, parseManifestKey, type DumpEntry } from './manifest.js';

export async function listDumps(storage: Pick<Storage, 'dumps'>, database?: string): Promise<DumpEntry[]> {
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
  return entries.sort((a, b) => a.database.localeCompare(b.database) || a.stamp.localeCompare(b.stamp));
}
