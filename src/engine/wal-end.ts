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
import { decodeWalBuffer } from '../wal/compression.js';
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
}

/**
 * Newest transaction-end time in `segments` (replay order; scanned from the end, at most
 * `maxSegments` of them). pg_waldump stops with an error at the end of valid WAL (normal for
 * the last segment, or a corrupt one); the records it printed before still count.
 */
export async function lastTransactionEnd(ctx: EngineContext, tools: PgToolConfig, segments: string[], maxSegments = 8): Promise<LastTransactionEnd> {
  const dir = await mkdtemp(join(tmpdir(), 'rb-waldump-'));
  try {
    for (const segment of segments.slice(-maxSegments).reverse()) {
      const stored = await readStreamToBuffer(await ctx.storage.wal.getStream(`${ctx.storage.walPrefix}${segment}`, ctx.signal));
      await writeFile(join(dir, segment), await decodeWalBuffer(stored));
      const [file, args] = waldumpArgs(tools.bin, dir, segment);
      const result = await ctx.exec.run(file, args, { signal: ctx.signal, timeoutMs: 120_000, env: { TZ: 'UTC' }, allowFailure: true });
      await rm(join(dir, segment), { force: true });
      const times = transactionEndTimes(result.stdout);
      if (times.length > 0) return { time: times.reduce((max, t) => (t > max ? t : max)), segment };
    }
    return { time: null, segment: null };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
