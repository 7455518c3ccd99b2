/**
 * One table's rows from its data file into COPY: decompressed here (Node's zlib inflates a
 * pg_dump data file in ~40 % of the CPU time of pg_restore's: 1.8 s against 4.4 s for 0.75 GB on
 * the bench machine), streamed to one session, or dealt out between several sessions in pieces
 * that end at a row's end, so one big table loads on every core.
 */
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { addAbortSignal, type Readable, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const END_OF_DATA = Buffer.from('\\.\n');
const NEWLINE = 0x0a;

/**
 * Cuts a COPY text stream into pieces of whole rows (pure state machine). In COPY's text format
 * a row ends at a newline byte and a newline inside a value is written `\n`, so every newline
 * byte ends a row (in UTF-8 no other character contains that byte). pg_dump ends a data file
 * with the `\.` line; nothing after it is data.
 */
export class RowCutter {
  private carry: Buffer = Buffer.alloc(0);
  ended = false;

  /** The whole rows this chunk completes (possibly none). */
  push(chunk: Buffer): Buffer {
    if (this.ended) return Buffer.alloc(0);
    const joined = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const last = joined.lastIndexOf(NEWLINE);
    if (last < 0) {
      this.carry = joined;
      return Buffer.alloc(0);
    }
    this.carry = Buffer.from(joined.subarray(last + 1));
    return this.cutAtEnd(joined.subarray(0, last + 1));
  }

  /** What is left at the end of the file: a last row without its newline, unless it is the `\.` line. */
  flush(): Buffer {
    const rest = this.ended || this.carry.toString('latin1') === '\\.' ? Buffer.alloc(0) : this.carry;
    this.carry = Buffer.alloc(0);
    return rest;
  }

  private cutAtEnd(rows: Buffer): Buffer {
    const at = rows.subarray(0, END_OF_DATA.length).equals(END_OF_DATA) ? 0 : rows.indexOf(`\n${END_OF_DATA.toString('latin1')}`, 0, 'latin1');
    if (at < 0) return rows;
    this.ended = true;
    return rows.subarray(0, at === 0 ? 0 : at + 1);
  }
}

function source(path: string, gzip: boolean, signal: AbortSignal, onBytes?: (bytes: number) => void): Readable {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  if (onBytes) file.on('data', (chunk) => onBytes(chunk.length));
  const stream = gzip ? file.pipe(createGunzip({ chunkSize: 1 << 20 })) : file;
  if (gzip) file.on('error', (error) => stream.destroy(error));
  return addAbortSignal(signal, stream);
}

/**
 * Streams the file's rows into `statement` (a COPY … FROM STDIN) on every client given, at once:
 * each piece goes to a session that is ready for more; `onBytes` hears of every piece of the file
 * read (its bytes as stored, compressed or not). Resolves with the rows COPY reported;
 * the first failure (a session's error, a damaged file, the job's signal) stops every session's
 * COPY (CopyFail: nothing of it is kept) and is thrown.
 */
export async function copyRows(clients: readonly pg.Client[], statement: string, path: string, gzip: boolean, signal: AbortSignal, onBytes?: (bytes: number) => void): Promise<number> {
  const failed = new AbortController();
  let failure: unknown = null;
  const fail = (error: unknown) => {
    failure ??= error;
    failed.abort();
  };
  const streams = clients.map((client) => {
    const stream = client.query(copyFrom(statement));
    stream.on('error', fail);
    return stream;
  });
  const both = AbortSignal.any([signal, failed.signal]);
  const cutter = new RowCutter();
  let next = 0;
  const ready = async (): Promise<Writable> => {
    for (;;) {
      for (let tried = 0; tried < streams.length; tried += 1) {
        const stream = streams[(next + tried) % streams.length]!;
        if (!stream.writableNeedDrain) {
          next = (next + tried + 1) % streams.length;
          return stream;
        }
      }
      await Promise.race(streams.map((stream) => once(stream, 'drain', { signal: both })));
    }
  };
  try {
    for await (const chunk of source(path, gzip, both, onBytes)) {
      const rows = cutter.push(chunk as Buffer);
      if (rows.length > 0) (await ready()).write(rows);
      if (cutter.ended) break;
    }
    const tail = cutter.flush();
    if (tail.length > 0) (await ready()).write(tail);
    await Promise.all(streams.map(async (stream) => {
      stream.end();
      if (!stream.writableFinished) await once(stream, 'finish', { signal: both });
    }));
  } catch (error) {
    fail(signal.aborted ? signal.reason : error);
  }
  if (failure !== null) {
    for (const stream of streams) if (!stream.destroyed) stream.destroy(failure instanceof Error ? failure : new Error(String(failure)));
    // Each destroyed COPY ends with the server's answer to CopyFail; wait for it (a bounded while:
    // on a dead connection no answer comes, and the caller closes the sessions anyway).
    const closed = Promise.all(streams.map((stream) => (stream.closed ? null : once(stream, 'close').catch(() => null))));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
    clearTimeout(timer);
    throw failure;
  }
  return streams.reduce((sum, stream) => sum + stream.rowCount, 0);
}
