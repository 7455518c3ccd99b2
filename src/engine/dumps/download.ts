/**
 * A stored dump's files brought to this host and checked before anything is created from them:
 * every file downloaded (`parallel` at once) with its sha256 computed as it streams, compared to
 * the manifest (BACKUP_CORRUPT, naming the files, otherwise), then the table of contents read
 * by pg_restore --list (no server): the tables whose rows the dump holds. Used by /recover dump
 * and /recover dumpall.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { RecoverError } from '../../errors.js';
import { hashingCounter } from '../../util/streams.js';
import { runBounded } from '../backup-parts/bounded.js';
import type { EngineContext } from '../context.js';
import { makeOwnedDir } from '../local-cluster.js';
import { pgRestoreListArgs, tableDataEntries } from './args.js';
import { dumpDirectory, type DumpFile, type DumpManifest } from './manifest.js';

/** Files whose downloaded bytes are not the manifest's (pure). */
export function mismatchedFiles(expected: readonly DumpFile[], got: ReadonlyMap<string, { bytes: number; sha256: string }>): string[] {
  return expected.filter((file) => got.get(file.name)?.sha256 !== file.sha256 || got.get(file.name)?.bytes !== file.bytes).map((file) => file.name);
}

export interface DownloadedDump {
  /** pg_dump's directory (what pg_restore reads). */
  dumpDir: string;
  /** globals.sql of the same run. */
  globalsFile: string;
  /** TABLE DATA entries of the table of contents (named as verify.ts names tables). */
  tocTables: string[];
}

/**
 * Downloads `manifest`'s files into `work` (created, owned by `owner`) and checks them. `tools.run`
 * runs a PostgreSQL tool from `tools.bin` as the PostgreSQL OS user and gives its stdout.
 */
export async function downloadDump(ctx: EngineContext, manifest: DumpManifest, work: string, owner: { uid: number; gid: number } | undefined, parallel: number, tools: { bin: string; run: (file: string, args: string[]) => Promise<{ stdout: string }> }): Promise<DownloadedDump> {
  await makeOwnedDir(work, owner);
  await makeOwnedDir(join(work, 'files'), owner);
  const got = new Map<string, { bytes: number; sha256: string }>();
  const prefix = dumpDirectory(manifest.database, manifest.stamp);
  await runBounded(manifest.files, Math.max(2, parallel), ctx.signal, async (file, _index, signal) => {
    const counter = hashingCounter(() => undefined, Number.MAX_SAFE_INTEGER);
    await pipeline(await ctx.storage.dumps.getStream(`${prefix}${file.name}`, signal), counter.stream, createWriteStream(join(work, file.name), { mode: 0o644 }), { signal });
    got.set(file.name, { bytes: counter.bytes(), sha256: counter.sha256() });
  });
  const bad = mismatchedFiles(manifest.files, got);
  if (bad.length > 0) {
    throw new RecoverError('BACKUP_CORRUPT', `Dump ${manifest.database}/${manifest.stamp} is damaged: ${bad.join(', ')} ${bad.length === 1 ? 'does' : 'do'} not match the sha256 in its manifest. Nothing was created.`, {
      hint: `Restore an older dump (/recover dump ${manifest.database} --from <stamp>; recover backups lists them), or /recover database ${manifest.database} --at <time> from the base backups.`,
    });
  }
  const dumpDir = join(work, 'files');
  const tocTables = tableDataEntries((await tools.run(...pgRestoreListArgs(tools.bin, dumpDir))).stdout);
  return { dumpDir, globalsFile: join(work, 'globals.sql'), tocTables };
}
