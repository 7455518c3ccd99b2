/**
 * Room for a restore: a side restore writes the base backup and its WAL under the restore
 * root; an in-place one writes them beside production's old data directory, which is kept
 * until the restore is verified. A plan that cannot fit is refused before anything is made
 * (NO_SPACE, exit 3), instead of failing half-way with a full disk on the database host.
 */
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RecoverError } from '../errors.js';

export interface SpaceFacts {
  /** The directory asked about (statfs looked at its nearest existing ancestor). */
  path: string;
  freeBytes: number;
}

/** Free bytes for an unprivileged writer on the filesystem holding `path`. */
export async function freeSpace(path: string): Promise<SpaceFacts> {
  for (let at = path; ; at = dirname(at)) {
    try {
      const stats = await statfs(at);
      return { path, freeBytes: Number(stats.bavail) * Number(stats.bsize) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || at === dirname(at)) throw error;
    }
  }
}

/** The base backup's data and the WAL replayed (kept in pg_wal until the first checkpoint), with a tenth to spare. Pure. */
export const restoreBytesNeeded = (databaseBytes: number, walBytes: number) => Math.ceil(((databaseBytes + walBytes) * 11) / 10);

export const gigabytes = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

/** NO_SPACE when the restore cannot fit, else null. Pure. */
export function spaceRefusal(space: SpaceFacts | null, needed: number, where: 'side' | 'in-place'): RecoverError | null {
  if (!space || space.freeBytes >= needed) return null;
  const what = where === 'side' ? `the restore root ${space.path}` : `${space.path}, beside production's data directory (kept until the restore is verified)`;
  return new RecoverError('NO_SPACE', `The restore needs about ${gigabytes(needed)} (base backup and WAL, with a tenth to spare) and ${what} has ${gigabytes(space.freeBytes)} free. Nothing was made.`, {
    hint: where === 'side'
      ? 'Free that filesystem (recover instances lists side instances to remove), or point RECOVER_RESTORE_ROOT at a larger one, then ask again.'
      : 'Grow that filesystem first, or restore to a side instance (--to side on a runner with room) and copy back what you need.',
  });
}
