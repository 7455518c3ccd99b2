/**
 * pg_waldump's text output (PostgreSQL 15, run with TZ=UTC), one line at a time (pure): the
 * record's resource manager, xid, LSN, operation and the relations its blocks belong to, and
 * for transaction ends the commit/abort time (to the microsecond) and the subtransactions.
 *
 *   rmgr: Heap        len (rec/tot):     54/    54, tx:        729, lsn: 0/03002AF8, prev 0/03002AB8, desc: DELETE off 1 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/16384/16385 blk 0
 *   rmgr: Transaction len (rec/tot):     46/    46, tx:        728, lsn: 0/03002C10, prev 0/03002BD8, desc: COMMIT 2026-11-29 15:07:04.995085 UTC; subxacts: 729
 */
import { parseLsn } from '../../catalog/segments.js';

export interface HeapRecord {
  kind: 'heap';
  xid: number;
  lsn: bigint;
  /** The operation: DELETE, UPDATE, HOT_UPDATE, INSERT, MULTI_INSERT, LOCK, TRUNCATE, … (+INIT dropped). */
  op: string;
  /** Rows a MULTI_INSERT wrote (1 for every other operation). */
  tuples: number;
  /** `tablespace/database/relfilenode` of each distinct relation the record's blocks belong to (main fork). */
  relations: string[];
  /** TRUNCATE only: the OIDs (not relfilenodes) of the truncated tables. */
  truncatedOids: number[];
}

export interface XactEndRecord {
  kind: 'xact-end';
  /** The transaction that ended: the record's xid, or the prepared transaction's for *_PREPARED. */
  xid: number;
  lsn: bigint;
  status: 'commit' | 'abort';
  /** `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` (pg_waldump prints microseconds; TZ=UTC). */
  time: string;
  subxacts: number[];
}

export type WaldumpRecord = HeapRecord | XactEndRecord;

const LINE = /^rmgr: (\S+)\s+len \(rec\/tot\):\s*\d+\/\s*\d+, tx:\s*(\d+), lsn: ([0-9A-F]{1,8}\/[0-9A-F]{1,8}), prev [0-9A-F]{1,8}\/[0-9A-F]{1,8}, desc: (.*)$/;
const BLKREF = /blkref #\d+: rel (\d+\/\d+\/\d+)(?: fork (\w+))? blk \d+/g;
const XACT_END = /^(COMMIT|ABORT)(?:_PREPARED (\d+):)? (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))? UTC(.*)$/;

function isoTime(date: string, clock: string, fraction: string | undefined): string {
  return `${date}T${clock}.${(fraction ?? '').padEnd(6, '0')}+00:00`;
}

/** One line of pg_waldump output → a record this tool reads, or null (other records, other rmgrs, noise). */
export function parseWaldumpLine(line: string): WaldumpRecord | null {
  const match = LINE.exec(line.trimEnd());
  if (!match) return null;
  const [, rmgr, tx, lsnText, desc] = match as unknown as [string, string, string, string, string];
  const lsn = parseLsn(lsnText);
  if (rmgr === 'Transaction') {
    const end = XACT_END.exec(desc);
    if (!end) return null;
    const rest = end[6] ?? '';
    const subxacts = /; subxacts:((?: \d+)+)/.exec(rest)?.[1]?.trim().split(' ').map(Number) ?? [];
    return { kind: 'xact-end', xid: end[2] ? Number(end[2]) : Number(tx), lsn, status: end[1] === 'COMMIT' ? 'commit' : 'abort', time: isoTime(end[3]!, end[4]!, end[5]), subxacts };
  }
  if (rmgr !== 'Heap' && rmgr !== 'Heap2') return null;
  const op = (desc.split(/[\s,]/, 1)[0] ?? '').replace(/\+INIT$/, '');
  const relations = new Set<string>();
  for (const ref of desc.matchAll(BLKREF)) if (ref[2] === undefined || ref[2] === 'main') relations.add(ref[1]!);
  const tuples = op === 'MULTI_INSERT' ? Number(/^MULTI_INSERT(?:\+INIT)? (\d+) tuples/.exec(desc)?.[1] ?? 1) : 1;
  const truncatedOids = op === 'TRUNCATE' ? (/ relids((?: \d+)+)/.exec(desc)?.[1]?.trim().split(' ').map(Number) ?? []) : [];
  return { kind: 'heap', xid: Number(tx), lsn, op, tuples, relations: [...relations], truncatedOids };
}

/** Where pg_waldump stopped with an error, if it said (`error in WAL record at 0/3002D10`), else null. */
export function waldumpErrorLsn(stderr: string): bigint | null {
  const match = /at ([0-9A-F]{1,8}\/[0-9A-F]{1,8})/.exec(stderr);
  return match ? parseLsn(match[1]!) : null;
}
