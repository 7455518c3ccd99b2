/**
 * Is there WAL after the point where pg_waldump stopped? A stop is the end of WAL when nothing
 * written after it follows; it is damage when a later page is a real page of this WAL: its header
 * has the WAL magic, this timeline and its own address (a recycled segment's pages carry their
 * old addresses, a preallocated one is zeros). pg_waldump itself cannot look past an unreadable
 * page, so the page headers are read here (24 bytes per 8 KiB page) to find where to start it.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { formatLsn, parseLsn, segmentName, segmentOfLsn } from '../../catalog/segments.js';

export const WAL_PAGE_SIZE = 8192;
/** Page header: xlp_magic u16, xlp_info u16, xlp_tli u32, xlp_pageaddr u64 (little-endian here). */
const HEADER_BYTES = 16;

/** Whether `header` (a page's first bytes) is a page of this WAL written at `pageLsn` on `timeline`. Pure. */
export function isWalPageAt(header: Buffer, pageLsn: bigint, timeline: number, magic: number): boolean {
  if (header.length < HEADER_BYTES) return false;
  return header.readUInt16LE(0) === magic && header.readUInt32LE(4) === timeline && header.readBigUInt64LE(8) === pageLsn;
}

/** The WAL magic of this server version, from a page known good (the first page of the segment holding `lsn`). */
async function magicOf(walDir: string, name: string): Promise<number | null> {
  const file = await open(join(walDir, name), 'r').catch(() => null);
  if (!file) return null;
  try {
    const header = Buffer.alloc(2);
    const { bytesRead } = await file.read(header, 0, 2, 0);
    return bytesRead === 2 ? header.readUInt16LE(0) : null;
  } finally {
    await file.close();
  }
}

/** Reads `length` bytes at `position` of a file; null when the file is not there. */
async function readAt(path: string, position: number, length: number): Promise<Buffer | null> {
  const file = await open(path, 'r').catch(() => null);
  if (!file) return null;
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await file.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/**
 * The first page after the one holding `stopLsn` that is a real page of this WAL: the rest of
 * that segment page by page (read in one piece), then the first page of each following local
 * segment (WAL is written in order: a segment it reached starts with a real page). Null when
 * there is none: the stop is the end of WAL.
 */
export async function walPageAfter(walDir: string, stopLsn: string, timeline: number, segmentSize: number, maxSegments = 64): Promise<string | null> {
  const stop = parseLsn(stopLsn);
  const size = BigInt(segmentSize);
  const page = BigInt(WAL_PAGE_SIZE);
  const first = segmentOfLsn(stop, segmentSize);
  const path = (segno: bigint) => join(walDir, segmentName(timeline, segno, segmentSize));
  const magic = await magicOf(walDir, segmentName(timeline, first, segmentSize));
  if (magic === null) return null;
  const from = (stop / page + 1n) * page;
  const rest = await readAt(path(first), Number(from - first * size), Number((first + 1n) * size - from));
  for (let offset = 0; rest && offset + HEADER_BYTES <= rest.length; offset += WAL_PAGE_SIZE) {
    const lsn = from + BigInt(offset);
    if (isWalPageAt(rest.subarray(offset, offset + HEADER_BYTES), lsn, timeline, magic)) return formatLsn(lsn);
  }
  for (let segno = first + 1n; segno <= first + BigInt(maxSegments); segno++) {
    const header = await readAt(path(segno), 0, HEADER_BYTES);
    if (!header) return null;
    if (isWalPageAt(header, segno * size, timeline, magic)) return formatLsn(segno * size);
  }
  return null;
}
