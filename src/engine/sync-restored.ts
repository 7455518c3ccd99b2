/**
 * Putting a side instance that replayed with fsync=off on disk, while it keeps running.
 *
 * PostgreSQL's documentation of `fsync` (runtime-config-wal): "For reliable recovery when
 * changing fsync off to on, it is necessary to force all modified buffers in the kernel to
 * durable storage. This can be done while the cluster is shutdown or while fsync is on by
 * running initdb --sync-only, running sync, unmounting the file system, or rebooting the
 * server." fsync is a reload (sighup) setting, so no restart is needed: replay-tuning.ts
 * reloads with fsync back on, makes sure every process took it (see there), and then one of:
 *   syncfs  `sync --file-system` on the file system of the data directory, of pg_wal and of
 *           each tablespace (syncfs(2): every dirty page and inode of that file system,
 *           the same as PostgreSQL's recovery_init_sync_method = syncfs);
 *   fsync   `initdb --sync-only`: every file and directory of the cluster fsynced one by one.
 * syncfs needs Linux 5.8 or later to report a write-back error to its caller (PostgreSQL's
 * docs on recovery_init_sync_method name the same limit); older kernels and other systems get
 * the per-file walk. A sync is started early as well, when replay starts: the base backup's
 * gigabytes, still dirty in the page cache, are written while the startup process replays
 * instead of after it (earlySync). A write-back error is reported to the first syncfs that
 * looks after it happened, so the early sync's failure fails the job too (never dropped).
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RecoverError } from '../errors.js';
import type { EngineContext, PgToolConfig } from './context.js';
import { initdbSyncOnlyArgs } from './pg-args.js';

export type SyncMethod = 'syncfs' | 'fsync';

/** syncfs on Linux 5.8 and later (it reports write-back errors from there on); the per-file walk elsewhere. Pure. */
export function syncMethodFor(platform: string, kernelRelease: string): SyncMethod {
  const version = /^(\d+)\.(\d+)/.exec(kernelRelease);
  if (platform !== 'linux' || !version) return 'fsync';
  const [major, minor] = [Number(version[1]), Number(version[2])];
  return major > 5 || (major === 5 && minor >= 8) ? 'syncfs' : 'fsync';
}

/** One path per file system (device), in the order given: the data directory's first. Pure. */
export function onePerFileSystem(paths: readonly { path: string; dev: number }[]): string[] {
  const seen = new Set<number>();
  return paths.filter(({ dev }) => !seen.has(dev) && seen.add(dev)).map(({ path }) => path);
}

/** The command that syncs the cluster: syncfs of each of its file systems, or initdb's per-file walk. Pure. */
export function syncClusterArgs(method: SyncMethod, bin: string, dataDir: string, fileSystems: readonly string[]): [string, string[]] {
  return method === 'syncfs' ? ['sync', ['--file-system', '--', ...fileSystems]] : initdbSyncOnlyArgs(bin, dataDir);
}

/** The data directory, pg_wal and every tablespace, where they really are (symlinks followed), with their devices. */
export async function clusterLocations(dataDir: string): Promise<{ path: string; dev: number }[]> {
  const tablespaces = await readdir(join(dataDir, 'pg_tblspc')).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const paths = [dataDir, join(dataDir, 'pg_wal'), ...tablespaces.map((name) => join(dataDir, 'pg_tblspc', name))];
  return Promise.all(
    paths.map(async (path) => {
      const real = await realpath(path);
      return { path: real, dev: (await stat(real)).dev };
    }),
  );
}

/** Syncs the cluster in `dataDir` (running or not) with `method`; a failure is RESTORE_FAILED. */
export async function syncCluster(ctx: Pick<EngineContext, 'exec' | 'signal'>, tools: PgToolConfig, dataDir: string, method: SyncMethod): Promise<void> {
  try {
    const [file, args] = syncClusterArgs(method, tools.bin, dataDir, onePerFileSystem(await clusterLocations(dataDir)));
    await ctx.exec.run(file, args, { asUser: tools.osUser, signal: ctx.signal, timeoutMs: 3_600_000 });
  } catch (error) {
    throw new RecoverError('RESTORE_FAILED', `The restored data could not be synced to disk: ${(error as Error).message.split('\n')[0]}`, {
      hint: `Check the disk under ${dataDir} (the system log names write errors); the restored instance is not known to be on disk.`,
      cause: error,
    });
  }
}

/** A sync started before it is needed; `settled` resolves to its failure (or null), so nothing is left unhandled. */
export interface EarlySync {
  settled: Promise<RecoverError | null>;
}

/** Starts syncing the cluster now (replay goes on meanwhile); the caller must look at `settled` before trusting the data. */
export function earlySync(ctx: Pick<EngineContext, 'exec' | 'signal'>, tools: PgToolConfig, dataDir: string, method: SyncMethod): EarlySync {
  return {
    settled: syncCluster(ctx, tools, dataDir, method).then(
      () => null,
      (error: unknown) => error as RecoverError,
    ),
  };
}
