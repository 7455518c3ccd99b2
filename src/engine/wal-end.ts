/**
 * Which time targets really restore near the end of the usable WAL.
 *
 * A time target stops at the first transaction end (commit or abort) stamped after it. If the
 * archive ends — or a gap cuts it — before such a record, recovery runs out of WAL and fails
 * after the whole base backup was restored. Segment archive times cannot tell: a segment is
 * archived after its last commit. So the runner reads the last segments of the contiguous WAL
 * with pg_waldump and takes the newest transaction end's timestamp, to the microsecond.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeArchivedFile, type ExpectedSegment } from '../wal/archived-file.js';
import { readStreamToBuffer } from '../util/streams.js';
import type { EngineContext, PgToolConfig } from './context.js';

/** Transaction ends a time target can stop at, as pg_waldump prints them (its TZ set to UTC). */
const XACT_END = /rmgr: Transaction .*desc: (?:COMMIT|ABORT|COMMIT_PREPARED|ABORT_PREPARED)\b.*?(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?) UTC/;

/** Every transaction-end timestamp in pg_waldump's output, as `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`. */
export function transactionEndTimes(waldumpOutput: string): string[] {
  const times: string[] = [];
  for (const line of waldumpOutput.split('\n')) {
    const match = XACT_END.exec(line);
    if (!match) continue;
    const [date, clock] = match[1]!.split(' ') as [string, string];
    const [whole, fraction = ''] = clock.split('.') as [string, string?];
    times.push(`${date}T${whole}.${fraction.padEnd(6, '0')}+00:00`);
  }
  return times;
}

export function waldumpArgs(bin: string, dir: string, segment: string): [string, string[]] {
  return [join(bin, 'pg_waldump'), ['--path', dir, segment]];
}

export interface LastTransactionEnd {
  /** Newest transaction end in the scanned segments, or null when none holds one. */
  time: string | null;
  segment: string | null;
  /**
   * The oldest scanned segment, other than the last one given, where pg_waldump stopped at an
   * invalid record: the WAL after that record cannot replay, so `time` is the newest
   * transaction end before it. An archived segment is complete, so pg_waldump reads an intact
   * one to its end; only the last one's error stays ambiguous with the end of WAL.
   */
  damaged?: { segment: string; reason: string };
}

export interface WalEndOptions {
  maxSegments?: number;
  /** Size and checksums recorded at archive time, by segment name: each download is checked like the fetcher's. */
  expected?: ReadonlyMap<string, ExpectedSegment>;
}

/** pg_waldump's own complaint (its last error line), or null when it read the segment to its end. */
export function waldumpFailure(result: { exitCode: number; stderr: string }): string | null {
  if (result.exitCode === 0) return null;
  const lines = result.stderr.split('\n').map((line) => line.trim()).filter(Boolean);
  return ([...lines].reverse().find((line) => /error:/.test(line)) ?? lines.at(-1) ?? `exit ${result.exitCode}`).replace(/^pg_waldump: error: /, '');
}

/**
 * Newest transaction-end time in `segments` (replay order; scanned from the end, at most
 * `maxSegments` of them). pg_waldump stops with an error at an invalid record: in the last
 * segment that may be the end of valid WAL, and the records it printed before still count;
 * in any other it is damage (`damaged`), and only transaction ends before it count.
 */
export async function lastTransactionEnd(ctx: EngineContext, tools: PgToolConfig, segments: string[], options: WalEndOptions = {}): Promise<LastTransactionEnd> {
  const dir = await mkdtemp(join(tmpdir(), 'rb-waldump-'));
  const last = segments.at(-1);
  let damaged: LastTransactionEnd['damaged'];
  try {
    for (const segment of segments.slice(-(options.maxSegments ?? 8)).reverse()) {
      const key = `${ctx.storage.walPrefix}${segment}`;
      const stored = await readStreamToBuffer(await ctx.storage.wal.getStream(key, ctx.signal));
      await writeFile(join(dir, segment), await decodeArchivedFile(stored, { name: segment, key, store: ctx.storage.wal }, options.expected?.get(segment)));
      const [file, args] = waldumpArgs(tools.bin, dir, segment);
      const result = await ctx.exec.run(file, args, { signal: ctx.signal, timeoutMs: 120_000, env: { TZ: 'UTC' }, allowFailure: true });
      await rm(join(dir, segment), { force: true });
      const failure = segment === last ? null : waldumpFailure(result);
      // Replay stops at the oldest damage: whatever later segments hold is out of reach.
      if (failure) damaged = { segment, reason: failure };
      const times = transactionEndTimes(result.stdout);
      if (times.length > 0) return { time: times.reduce((max, t) => (t > max ? t : max)), segment, ...(damaged ? { damaged } : {}) };
    }
    return { time: null, segment: null, ...(damaged ? { damaged } : {}) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
