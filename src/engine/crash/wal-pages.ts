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

/**
 * The first page after the one holding `stopLsn` that is a real page of this WAL, searched through
 * the local segments that follow (at most `maxBytes`); null when there is none (the end of WAL).
 */
export async function walPageAfter(walDir: string, stopLsn: string, timeline: number, segmentSize: number, maxBytes = 256 * 1024 * 1024): Promise<string | null> {
  const stop = parseLsn(stopLsn);
  const first = segmentOfLsn(stop, segmentSize);
  const magic = await magicOf(walDir, segmentName(timeline, first, segmentSize));
  if (magic === null) return null;
  const page = BigInt(WAL_PAGE_SIZE);
  const header = Buffer.alloc(HEADER_BYTES);
  let lsn = (stop / page + 1n) * page;
  const end = lsn + BigInt(maxBytes);
  while (lsn < end) {
    const segno = segmentOfLsn(lsn, segmentSize);
    const file = await open(join(walDir, segmentName(timeline, segno, segmentSize)), 'r').catch(() => null);
    if (!file) return null;
    try {
      const segmentEnd = (segno + 1n) * BigInt(segmentSize);
      for (; lsn < segmentEnd && lsn < end; lsn += page) {
        const { bytesRead } = await file.read(header, 0, HEADER_BYTES, Number(lsn - segno * BigInt(segmentSize)));
        if (bytesRead < HEADER_BYTES) return null;
        if (isWalPageAt(header, lsn, timeline, magic)) return formatLsn(lsn);
      }
    } finally {
      await file.close();
    }
  }
  return null;
}
