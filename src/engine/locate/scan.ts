/**
 * Reads archived WAL for `locate`: segments are downloaded and decoded a few chunks ahead
 * (bounded parallelism), each chunk of consecutive segments goes through one pg_waldump
 * (Heap, Heap2, Transaction, Storage and XLOG records only, TZ=UTC) whose output is parsed as it streams,
 * in WAL order, into a TransactionTracker. Each chunk also gets the next chunk's first segment,
 * so a record crossing the boundary is read whole; records are kept only from the chunk's own
 * segments, so nothing counts twice. Every file lives in one temp directory, removed at the end.
 *
 * Why one unfiltered dump, not `pg_waldump --relation`: COMMIT/ABORT records name no
 * relation, and "other tables the transaction touched" needs the other relations' records;
 * the table's own records are picked out by relfilenode in transactions.ts — also under its
 * OLD relfilenodes (before a TRUNCATE or rewrite), found from Storage CREATE records and the
 * storage a commit drops, which is why Storage and XLOG (page images) are read too.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseSegmentName, segmentStartLsn } from '../../catalog/segments.js';
import { RecoverError } from '../../errors.js';
import { readStreamToBuffer } from '../../util/streams.js';
import { decodeWalBuffer } from '../../wal/compression.js';
import { nowIso, type EngineContext, type PgToolConfig } from '../context.js';
import { toolFailure } from '../exec.js';
import { chunkSegments } from './segments.js';
import { TransactionTracker, type LocatedTransaction, type StorageHistory } from './transactions.js';
import { parseWaldumpLine } from './waldump-lines.js';

export const CHUNK_SEGMENTS = 4;
export const PARALLEL_CHUNKS = 2;

export interface ScanInput {
  segments: string[];
  segmentSize: number;
  /** The table's `tablespace/database/relfilenode`s and OIDs. */
  relations: readonly string[];
  oids: readonly number[];
  /** Production's relfilenodes now in the table's database (to tell storage since dropped or replaced), and the table's own relations' (heap, TOAST, indexes). */
  live?: readonly string[];
  own?: readonly string[];
  /** For step.progress events. */
  step?: string;
}

export interface ScanResult {
  transactions: LocatedTransaction[];
  abortedTouching: number;
  tableRecords: number;
  segmentsRead: number;
  /** The table's old relfilenodes, rewrites (VACUUM FULL, CLUSTER) and what could not be told apart. */
  history: StorageHistory;
}

/** pg_waldump's argv for one chunk: only the record kinds locate reads. */
export function locateWaldumpArgs(bin: string, dir: string, first: string, last: string): [string, string[]] {
  return [join(bin, 'pg_waldump'), ['--path', dir, '--rmgr=Heap', '--rmgr=Heap2', '--rmgr=Transaction', '--rmgr=Storage', '--rmgr=XLOG', first, last]];
}

export async function scanWal(ctx: EngineContext, tools: PgToolConfig, input: ScanInput): Promise<ScanResult> {
  const tracker = new TransactionTracker(new Set(input.relations), new Set(input.oids), { ...(input.live ? { live: new Set(input.live) } : {}), ...(input.own ? { own: new Set(input.own) } : {}) });
  const chunks = chunkSegments(input.segments, CHUNK_SEGMENTS);
  const root = await mkdtemp(join(tmpdir(), 'rb-locate-'));
  const downloads = new Map<number, Promise<string[]>>();
  // The files of chunk i: its own segments, and the next chunk's first on the same timeline.
  const filesOf = (i: number) => {
    const next = chunks[i + 1]?.[0];
    return next && next.slice(0, 8) === chunks[i]![0]!.slice(0, 8) ? [...chunks[i]!, next] : chunks[i]!;
  };
  const download = (i: number): Promise<string[]> => {
    const started = (async () => {
      const dir = join(root, String(i));
      await mkdir(dir);
      for (const name of filesOf(i)) {
        const stored = await readStreamToBuffer(await ctx.storage.wal.getStream(`${ctx.storage.walPrefix}${name}`, ctx.signal));
        await writeFile(join(dir, name), await decodeWalBuffer(stored));
      }
      return filesOf(i);
    })();
    started.catch(() => undefined); // awaited in order below; no unhandled rejection meanwhile
    return started;
  };
  let read = 0;
  try {
    for (let i = 0; i < chunks.length; i++) {
      for (let ahead = i; ahead < Math.min(chunks.length, i + PARALLEL_CHUNKS); ahead++) if (!downloads.has(ahead)) downloads.set(ahead, download(ahead));
      const files = await downloads.get(i)!;
      const chunk = chunks[i]!;
      const from = segmentStartLsn(parseSegmentName(chunk[0]!, input.segmentSize)!.segno, input.segmentSize);
      const to = segmentStartLsn(parseSegmentName(chunk.at(-1)!, input.segmentSize)!.segno + 1n, input.segmentSize);
      await dumpChunk(ctx, tools, join(root, String(i)), files, (line) => {
        const record = parseWaldumpLine(line);
        if (record && record.lsn >= from && record.lsn < to) tracker.add(record);
      });
      await rm(join(root, String(i)), { recursive: true, force: true });
      read += chunk.length;
      if (input.step) ctx.events.emit({ type: 'step.progress', at: nowIso(ctx.clock), step: input.step, done: read, total: input.segments.length, unit: 'segments' });
    }
  } finally {
    await Promise.allSettled(downloads.values());
    await rm(root, { recursive: true, force: true });
  }
  return { transactions: tracker.transactions(), abortedTouching: tracker.abortedTouching, tableRecords: tracker.tableRecords, segmentsRead: read, history: tracker.history() };
}

async function dumpChunk(ctx: EngineContext, tools: PgToolConfig, dir: string, files: string[], onLine: (line: string) => void): Promise<void> {
  const [file, args] = locateWaldumpArgs(tools.bin, dir, files[0]!, files.at(-1)!);
  const child = ctx.exec.spawn(file, args, { stdoutStream: true, allowFailure: true, signal: ctx.signal, timeoutMs: 30 * 60_000, env: { TZ: 'UTC' } });
  const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
  const consumed = (async () => {
    for await (const line of lines) onLine(line);
  })();
  let result: Awaited<typeof child>;
  try {
    [result] = await Promise.all([child, consumed]);
  } catch (error) {
    child.kill();
    throw error instanceof RecoverError ? error : toolFailure(file, error);
  }
  if (result.isCanceled || result.timedOut) throw toolFailure(file, result);
  // With the chunk's last file as its end, pg_waldump stops cleanly there: any error is damaged or unreadable WAL.
  if (result.exitCode !== 0) {
    const reason = String(result.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? `exit ${result.exitCode}`;
    throw new RecoverError('WAL_CORRUPT', `pg_waldump could not read WAL segments ${files[0]} … ${files.at(-1)}: ${reason}`, {
      hint: 'Changes after the damaged record cannot be listed. Check the archive with /recover backups; give --since after the damage to read only later WAL.',
    });
  }
}
