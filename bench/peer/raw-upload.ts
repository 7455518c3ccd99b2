/**
 * The floor for a base backup's upload: the same stored bytes (our backup's compressed parts,
 * copied to local files first, untimed) uploaded to the same Azurite through the same client
 * (`BlobStore.put` of a file stream), the same number of parts at once. Issue 9 asks that our
 * backup's upload throughput be at least 0.8 of this. bench/peer.ts prints it two ways: the
 * database's bytes over the whole `recover backup` (compression lets a backup move more than
 * the link carries), and, stricter, its stored bytes over the same time.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sandbox } from '../../devkit/sandbox.js';

export interface StoredBackup {
  id: string;
  /** rawBytes: the part's uncompressed tar bytes. */
  files: { name: string; bytes: number; rawBytes?: number }[];
}

export async function rawUploadSeconds(sandbox: Sandbox, backup: StoredBackup, parallel: number, log: (text: string) => void): Promise<{ seconds: number; bytes: number; rawBytes: number }> {
  const { backups, backupPrefix } = sandbox.storage;
  const dir = join(sandbox.root, 'raw-upload');
  await mkdir(dir, { recursive: true });
  const local = backup.files.map((file, i) => ({ path: join(dir, `part-${i}`), key: `raw-upload/${backup.id}/${file.name}`, bytes: file.bytes }));
  try {
    for (const [i, file] of backup.files.entries()) await backups.downloadToFile(`${backupPrefix}${backup.id}/${file.name}`, local[i]!.path);
    const queue = [...local];
    const began = performance.now();
    await Promise.all(
      Array.from({ length: Math.max(1, parallel) }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) await backups.put(next.key, createReadStream(next.path));
      }),
    );
    const seconds = (performance.now() - began) / 1000;
    return { seconds, bytes: local.reduce((sum, file) => sum + file.bytes, 0), rawBytes: backup.files.reduce((sum, file) => sum + (file.rawBytes ?? file.bytes), 0) };
  } finally {
    for (const file of local) await backups.delete(file.key).catch((error: unknown) => log(`  could not delete ${file.key}: ${String(error)}`));
    await rm(dir, { recursive: true, force: true });
  }
}
