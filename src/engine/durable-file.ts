/**
 * A small state file written so that a crash leaves either the old one or the new one, never a
 * torn one: a temporary file beside it, fsync'd, renamed over, and the directory fsync'd so the
 * rename itself survives. Used for the in-place journal and the CLI's record of database copies.
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsync of a file or directory by path. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `value` as JSON to `path` durably, mode 0600. `exclusive`: the temporary file must not
 * exist yet (a record written once under a fresh name, never over another writer's).
 */
export async function writeJsonDurably(path: string, value: unknown, options: { exclusive?: boolean } = {}): Promise<void> {
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, options.exclusive ? 'wx' : 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await fsyncPath(dirname(path));
}
