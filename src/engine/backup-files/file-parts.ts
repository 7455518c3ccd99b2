/**
 * One part of a file-level base backup: bsdtar reads the part's files straight from the
 * data directory and compresses them in its own process; only the compressed bytes reach
 * Node, which drops bsdtar's block padding (frame-end.ts), hashes them and streams them into
 * the part's blob. Against pg_basebackup's stream (every byte through the walsender, then
 * pg_basebackup, then Node, then zstd) this leaves out two processes and three pipe hops.
 *
 * A file removed between the walk and bsdtar's read (a dropped table, a finished temporary
 * file) is normal while the cluster runs: the WAL replayed from the backup's start point
 * accounts for it, as pg_basebackup's own skipping of vanished files assumes. bsdtar then
 * exits 1 after archiving the rest; that is accepted only when every complaint is such a
 * file and the file is really gone.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { RecoverError } from '../../errors.js';
import type { BlobStore } from '../../storage/blob-store.js';
import { hashingCounter } from '../../util/streams.js';
import type { PartCodec } from '../context.js';
import { toolFailure, type Exec } from '../exec.js';
import { tarCreateArgs } from '../pg-args.js';
import type { StoredPart } from '../backup-parts/upload-parts.js';
import { FrameEnd } from './frame-end.js';

export interface FilePartJob {
  /** base/part-NNNNN.tar.zst (or .lz4), relative to the backup's directory. */
  name: string;
  /** The directory the paths are relative to. */
  root: string;
  paths: string[];
  /** What the part's tar holds before compression (as listed; files may change while read). */
  rawBytes: number;
}

/** What bsdtar said about paths it could not find: those, and every other complaint. */
export function vanishedPaths(stderr: string): { vanished: string[]; other: string[] } {
  const vanished: string[] = [];
  const other: string[] = [];
  for (const line of stderr.split('\n')) {
    const text = line.trim();
    if (!text || text === 'bsdtar: Error exit delayed from previous errors.') continue;
    const missing = /^bsdtar: (.+?): (?:Cannot stat|Couldn't open|Can't open|Couldn't visit directory)[^:]*: No such file or directory$/.exec(text);
    if (missing) vanished.push(missing[1]!);
    else other.push(text);
  }
  return { vanished, other };
}

/** The NUL-separated list bsdtar reads: './' first so no path reads as an option such as -C. */
export const fileListInput = (paths: readonly string[]) => Buffer.from(paths.map((path) => `./${path}\0`).join(''));

async function gone(root: string, path: string): Promise<boolean> {
  try {
    await lstat(join(root, path));
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** bsdtar's own words: exit 1 with "Error exit delayed" last says nothing; the lines before it do. */
function partFailure(job: FilePartJob, result: { exitCode?: number; signal?: string }, complaints: string[]): RecoverError {
  const shown = complaints.slice(0, 3).join('; ') + (complaints.length > 3 ? `; and ${complaints.length - 3} more` : '');
  const how = result.signal ? `was stopped by ${result.signal}` : `exited ${result.exitCode ?? '?'}`;
  return new RecoverError('BACKUP_FAILED', `bsdtar ${how} while writing ${job.name}${shown ? `: ${shown}` : ''}.`, {
    hint: 'Check that the runner can read every file of the data directory (the full bsdtar output is in the runner log).',
  });
}

export async function storeFilePart(
  deps: { exec: Exec; store: BlobStore },
  job: FilePartJob,
  options: { directory: string; codec: PartCodec; signal: AbortSignal },
): Promise<StoredPart> {
  const [file, args] = tarCreateArgs(job.root, options.codec);
  const child = deps.exec.spawn(file, args, {
    stdoutStream: true,
    input: Readable.from([fileListInput(job.paths)]),
    signal: options.signal,
    timeoutMs: 6 * 3600_000,
    allowFailure: true,
  });
  const frames = new FrameEnd(options.codec);
  const measure = hashingCounter(() => undefined, Number.POSITIVE_INFINITY);
  // What went wrong first decides the error reported; the others only follow from it: bsdtar
  // failing cuts the stream, a cut stream fails the upload, a refused upload stops bsdtar.
  let cause: 'tool' | 'stream' | 'storage' | null = null;
  let streamError: Error | null = null;
  child.stdout!.on('error', (error) => frames.destroy(error));
  frames.on('error', (error) => {
    cause ??= 'stream';
    streamError ??= error;
    measure.stream.destroy(error);
    // Keep reading what bsdtar still writes (into nothing): blocked on a full pipe it would never exit.
    child.stdout!.unpipe(frames);
    child.stdout!.resume();
  });
  // Once the upload gave up, nothing reads the stream: its error is reported below.
  measure.stream.on('error', () => undefined);
  child.stdout!.pipe(frames).pipe(measure.stream);
  const finished = child.then(async (result) => {
    if (result.isCanceled || result.timedOut) throw toolFailure(file, result);
    if (result.exitCode === 0) return;
    const said = vanishedPaths(String(result.stderr ?? ''));
    const real = said.vanished.map((path) => path.replace(/^\.\//, ''));
    const allGone = said.vanished.length > 0 && (await Promise.all(real.map((path) => gone(job.root, path)))).every(Boolean);
    if (said.other.length === 0 && allGone) return;
    throw partFailure(job, result, said.other);
  });
  finished.catch((error: unknown) => {
    cause ??= 'tool';
    measure.stream.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  const upload = deps.store.put(`${options.directory}${job.name}`, measure.stream, { signal: options.signal });
  upload.catch(() => {
    cause ??= 'storage';
    if (cause === 'storage') child.kill(); // else bsdtar would wait forever on a pipe nobody reads
  });
  const [tool, stored] = await Promise.allSettled([finished, upload]);
  if (cause === 'storage' && stored.status === 'rejected') throw stored.reason;
  if (tool.status === 'rejected') throw tool.reason;
  if (streamError) throw streamError;
  if (stored.status === 'rejected') throw stored.reason;
  if (!frames.writableFinished) throw new RecoverError('BACKUP_FAILED', `bsdtar's output for ${job.name} ended early.`, { hint: 'Check the runner log for bsdtar messages.' });
  return { name: job.name, bytes: measure.bytes(), sha256: measure.sha256(), rawBytes: job.rawBytes, codec: options.codec };
}
