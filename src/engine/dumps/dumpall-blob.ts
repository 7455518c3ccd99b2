/**
 * A foreign pg_dumpall blob in the dumps container (`legacy/cluster.sql`, `.sql.gz`, `.sql.zst`)
 * streamed once through DumpallReader: at planning with nothing kept (what it holds, what it
 * would run that is refused, its sha256), in the job into one file per database (the bodies psql
 * loads), the sha256 compared with the plan's. Bytes are read as latin1 (one char per byte) so the
 * bodies are written back byte for byte whatever the dump's client_encoding; names (UTF-8 in any
 * dump pg_dumpall writes since its header sets it) are decoded from them where shown or used.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { RecoverError } from '../../errors.js';
import { hashingCounter } from '../../util/streams.js';
import type { EngineContext } from '../context.js';
import { DumpallReader, type PlainDumpall } from './dumpall-plain.js';

/** A blob path of a foreign pg_dumpall file: plain segments, ending in .sql, .sql.gz or .sql.zst (never `..`, never absolute). */
export const FOREIGN_DUMPALL_PATH = /^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*\.sql(\.gz|\.zst)?$/;

export const FOREIGN_DUMPALL_UNVERIFIED = 'no manifest: no checksum from when it was taken (its sha256 is reported and the job checks it is still the planned file), no snapshot time or LSN; row counts only for tables it loads with COPY (counted from its lines), not for tables loaded by INSERT nor large objects';

/** UTF-8 text from a latin1-read string (its bytes). */
export const fromBytes = (text: string) => Buffer.from(text, 'latin1').toString('utf8');
/** The latin1-read form of UTF-8 text (to compare with or write among read bytes). */
export const toBytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

export interface BlobRead {
  dump: PlainDumpall;
  bytes: number;
  sha256: string;
}

/** The decompression a blob's name asks for (pure). */
export const compressionOf = (path: string): 'gzip' | 'zstd' | 'none' => (path.endsWith('.gz') ? 'gzip' : path.endsWith('.zst') ? 'zstd' : 'none');

/**
 * Streams the blob through a DumpallReader. `sink(database, text)` gets each database's body as
 * read. A file without pg_dumpall's header is refused after its first lines, not read to its end.
 */
export async function readDumpallBlob(ctx: Pick<EngineContext, 'storage' | 'exec' | 'signal'>, path: string, sink?: (database: string, text: string) => void): Promise<BlobRead> {
  const reader = new DumpallReader(sink);
  const counter = hashingCounter(() => undefined, Number.MAX_SAFE_INTEGER);
  const raw = (await ctx.storage.dumps.getStream(path, ctx.signal)).pipe(counter.stream);
  const compression = compressionOf(path);
  let text: Readable = raw;
  let tool: Promise<unknown> | null = null;
  if (compression === 'gzip') text = raw.pipe(createGunzip());
  if (compression === 'zstd') {
    const child = ctx.exec.spawn('zstd', ['--decompress', '--stdout', '--quiet'], { input: raw, stdoutStream: true, signal: ctx.signal, timeoutMs: 6 * 3600_000 });
    text = child.stdout!;
    tool = child;
  }
  text.setEncoding('latin1');
  let rest = '';
  let lines = 0;
  let notDumpall = false;
  try {
    for await (const chunk of text as AsyncIterable<string>) {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        reader.push(line);
        lines += 1;
      }
      if (lines >= 5 && reader.headerSeen() === false) {
        notDumpall = true;
        break;
      }
    }
    if (!notDumpall) {
      if (rest !== '') reader.push(rest);
      await tool;
    }
  } catch (error) {
    throw new RecoverError('BACKUP_CORRUPT', `${path} cannot be read${compression === 'none' ? '' : ` as ${compression}`}: ${(error as Error).message}. Nothing was created.`, { hint: 'Upload the file pg_dumpall wrote (plain SQL; .gz or .zst compressed by name).', cause: error });
  } finally {
    if (notDumpall) {
      raw.destroy();
      await (tool as Promise<unknown> | null)?.catch(() => undefined);
    }
  }
  return { dump: reader.end(), bytes: counter.bytes(), sha256: notDumpall ? '' : counter.sha256() };
}

/** One file per database (by index: a name never becomes a path), written as read, starting with psql's \restrict under `key`. */
export function bodyFiles(work: string, key: string) {
  const files = new Map<string, { path: string; fd: number; buffer: string }>();
  const flush = (file: { fd: number; buffer: string }) => {
    writeSync(file.fd, file.buffer, null, 'latin1');
    file.buffer = '';
  };
  return {
    sink(database: string, text: string) {
      let file = files.get(database);
      if (!file) {
        const path = join(work, `database-${files.size + 1}.sql`);
        file = { path, fd: openSync(path, 'w', 0o644), buffer: `\\restrict ${key}\n` };
        files.set(database, file);
      }
      file.buffer += text;
      if (file.buffer.length >= 1 << 20) flush(file);
    },
    /** Flushes and closes; the file of each database (read name). */
    close(): Map<string, string> {
      for (const file of files.values()) {
        flush(file);
        closeSync(file.fd);
      }
      return new Map([...files].map(([name, file]) => [name, file.path]));
    },
  };
}
