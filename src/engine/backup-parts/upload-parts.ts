/**
 * The backup half: pg_basebackup's uncompressed tar stream cut into parts (tar-split.ts),
 * each part compressed and streamed into its own blob, with up to `parallel` part uploads in
 * flight. Two codecs (RECOVER_BASE_CODEC, recorded per part in the manifest):
 *  - zstd: each part's tar piped through its own `zstd -1 -q -c` child (C, its own process,
 *    so `parallel` parts use `parallel` cores); its stdout is hashed and uploaded.
 *  - lz4: LZ4 frames of 4 MiB (lz4-frame.ts, on libuv's thread pool, up to `parallel` frames
 *    at once).
 * Memory stays bounded whatever the database size: a part is never held whole — per part an
 * 8 MiB stream buffer before zstd (or at most `parallel` raw LZ4 frames being compressed) and
 * the storage client's block buffers. When every upload slot is busy, or zstd / the upload
 * falls behind, reading stops, which stops pg_basebackup (back-pressure through its stdout pipe).
 *
 * Measured (pgbench scale 100, 1.5 GiB tar, 2 shared cores under load), LZ4: into a local-directory
 * store 12.7 s, about what pg_basebackup with client-gzip:1 takes alone (13.5 s); into Azurite
 * slower than the old single gzip stream (68.5 s against 29.7 s): LZ4 stores 1.85x the bytes of
 * gzip-1 on pgbench pages and Azurite, CPU-starved on the same cores, is what limits. zstd -1
 * stores less than gzip-1 (see bench/backup.ts and README, RECOVER_BASE_CODEC), hence the default.
 * What is left: the whole tar passes through Node (splitter, pipes), which costs a few seconds
 * per GiB over `pg_basebackup | zstd` in a shell, and one large relation file is one part, so
 * one zstd process (not `parallel`) compresses it.
 */
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { hashingCounter } from '../../util/streams.js';
import { PassThrough } from 'node:stream';
import type { BlobStore } from '../../storage/blob-store.js';
import type { Exec } from '../exec.js';
import type { PartCodec } from '../context.js';
import { toolFailure } from '../exec.js';
import { encodeFrame, MAX_FRAME_RAW } from './lz4-frame.js';
import { Slots } from './bounded.js';
import { TarSplitter } from './tar-split.js';

export type { PartCodec };

export interface StoredPart {
  /** Relative to the backup's directory, e.g. base/part-00001.tar.zst. */
  name: string;
  /** Size and sha256 of the stored (compressed) blob. */
  bytes: number;
  sha256: string;
  /** Size of the part's tar (uncompressed). */
  rawBytes: number;
  codec: PartCodec;
}

export interface UploadPartsOptions {
  store: BlobStore;
  /** Key prefix of the backup's directory, ending in '/'. */
  directory: string;
  partBytes: number;
  parallel: number;
  signal: AbortSignal;
  /** lz4 when absent. */
  codec?: PartCodec;
  /** Runs the zstd CLI (codec zstd); its stderr goes to the job's log. */
  exec?: Exec;
  /** Called with the running count of tar bytes read. */
  onRawBytes?: (bytes: number) => void;
}

const SUFFIX: Record<PartCodec, string> = { zstd: 'zst', lz4: 'lz4' };
export const partName = (index: number, codec: PartCodec = 'lz4') => `base/part-${String(index).padStart(5, '0')}.tar.${SUFFIX[codec]}`;
/** zstd level 1: close to gzip -1's ratio at several times its speed (measured in bench/backup.ts). */
export const zstdCompressArgs = (): [string, string[]] => ['zstd', ['-1', '-q', '-c']];

/**
 * Tar bytes queued for a zstd child before reading waits for it. The stdin pipe's own 16 KiB
 * high-water mark made every 64 KiB chunk wait for zstd, which stalled pg_basebackup in turn;
 * 8 MiB lets the three processes run side by side (scale 300 into a discarding store: 10.5 s
 * against 11.7 s). Only the part being written fills it, so memory grows by 8 MiB at most.
 */
const ZSTD_INPUT_AHEAD = 8 * 1024 * 1024;

/** One part being written: raw tar bytes in, a stored blob out. */
interface OpenPart {
  rawBytes: number;
  add(bytes: Buffer): Promise<void>;
  /** Ends the part (without waiting for its upload); `done` settles once it is stored. */
  close(): Promise<{ done: Promise<StoredPart> }>;
  destroy(): void;
}

export async function uploadTarAsParts(source: AsyncIterable<Buffer>, options: UploadPartsOptions): Promise<StoredPart[]> {
  const { store, parallel } = options;
  const codec = options.codec ?? 'lz4';
  if (codec === 'zstd' && !options.exec) throw new Error('zstd parts need an exec to run the zstd CLI');
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal.reason);
  options.signal.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;
  const slots = new Slots(parallel);
  const uploads: Promise<unknown>[] = [];
  const stored: Promise<StoredPart>[] = [];
  let uploadError: unknown;
  let current: OpenPart | null = null;
  let rawTotal = 0;

  const fail = (error: unknown) => {
    uploadError ??= error;
    controller.abort(error);
  };
  const track = (upload: Promise<unknown>) => {
    upload.catch(fail);
    uploads.push(upload);
  };

  const openLz4 = (name: string, release: () => void): OpenPart => {
    const stream = new PassThrough({ highWaterMark: 8 * 1024 * 1024 });
    const upload = store.put(`${options.directory}${name}`, stream, { signal }).finally(release);
    track(upload);
    const hash: Hash = createHash('sha256');
    let bytes = 0;
    let pieces: Buffer[] = [];
    let piecesLength = 0;
    const frames: Promise<Buffer>[] = [];
    const write = async (frame: Buffer) => {
      hash.update(frame);
      bytes += frame.length;
      if (!stream.write(frame)) await once(stream, 'drain', { signal });
    };
    const queueFrame = async (raw: Buffer) => {
      const frame = encodeFrame(raw);
      frame.catch(() => undefined); // awaited below; never an unhandled rejection if we stop first
      frames.push(frame);
      if (frames.length >= parallel) await write(await frames.shift()!);
    };
    const part: OpenPart = {
      rawBytes: 0,
      async add(chunk) {
        part.rawBytes += chunk.length;
        pieces.push(chunk);
        piecesLength += chunk.length;
        if (piecesLength < MAX_FRAME_RAW) return;
        const joined = Buffer.concat(pieces, piecesLength);
        let offset = 0;
        for (; joined.length - offset >= MAX_FRAME_RAW; offset += MAX_FRAME_RAW) await queueFrame(joined.subarray(offset, offset + MAX_FRAME_RAW));
        pieces = offset < joined.length ? [joined.subarray(offset)] : [];
        piecesLength = joined.length - offset;
      },
      async close() {
        if (piecesLength > 0) await queueFrame(Buffer.concat(pieces, piecesLength));
        while (frames.length > 0) await write(await frames.shift()!);
        stream.end();
        const result: StoredPart = { name, bytes, sha256: hash.digest('hex'), rawBytes: part.rawBytes, codec: 'lz4' };
        return { done: upload.then(() => result) };
      },
      destroy: () => stream.destroy(),
    };
    return part;
  };

  const openZstd = (name: string, release: () => void): OpenPart => {
    const [file, args] = zstdCompressArgs();
    // The tar bytes go straight into zstd's stdin pipe: its 'drain' is the back-pressure.
    const child = options.exec!.spawn(file, args, { stdoutStream: true, signal, timeoutMs: 6 * 3600_000 });
    const stdin = child.stdin!;
    stdin.on('error', () => undefined); // EPIPE when zstd stops early: its exit is the error reported
    const measure = hashingCounter(() => undefined, Number.POSITIVE_INFINITY);
    const measured = measure.stream;
    child.stdout!.on('error', (error) => measured.destroy(error));
    child.stdout!.pipe(measured);
    const compressed = child.then(
      () => undefined,
      (error: unknown) => {
        const failure = toolFailure(file, error);
        measured.destroy(failure);
        throw failure;
      },
    );
    // zstd's failure first: the upload then fails only because its stream was cut.
    compressed.catch(fail);
    const upload = Promise.all([compressed, store.put(`${options.directory}${name}`, measured, { signal })]).finally(release);
    track(upload);
    const part: OpenPart = {
      rawBytes: 0,
      async add(chunk) {
        part.rawBytes += chunk.length;
        stdin.write(chunk);
        if (stdin.writableLength >= ZSTD_INPUT_AHEAD) await once(stdin, 'drain', { signal });
      },
      async close() {
        stdin.end();
        return { done: upload.then((): StoredPart => ({ name, bytes: measure.bytes(), sha256: measure.sha256(), rawBytes: part.rawBytes, codec: 'zstd' })) };
      },
      destroy: () => {
        stdin.destroy();
        measured.destroy();
      },
    };
    return part;
  };

  const open = async (): Promise<OpenPart> => {
    const release = await slots.acquire(signal);
    const name = partName(uploads.length + 1, codec);
    return codec === 'zstd' ? openZstd(name, release) : openLz4(name, release);
  };

  const close = async (part: OpenPart) => {
    const { done } = await part.close();
    done.catch(() => undefined); // its failure is the upload's, reported through `fail`
    stored.push(done);
  };

  try {
    const splitter = new TarSplitter(options.partBytes);
    const handle = async (events: ReturnType<TarSplitter['push']>) => {
      for (const event of events) {
        if (event.type === 'cut') {
          if (current) await close(current);
          current = null;
        } else {
          current ??= await open();
          await current.add(event.bytes);
        }
      }
    };
    for await (const chunk of source) {
      signal.throwIfAborted();
      rawTotal += chunk.length;
      options.onRawBytes?.(rawTotal);
      await handle(splitter.push(chunk));
    }
    await handle(splitter.end());
    await Promise.all(uploads);
    return await Promise.all(stored);
  } catch (error) {
    controller.abort(error);
    const part = current as OpenPart | null;
    part?.destroy();
    await Promise.allSettled(uploads);
    throw uploadError ?? error;
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
}
