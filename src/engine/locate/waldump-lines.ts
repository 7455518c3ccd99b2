/**
 * pg_waldump's text output (PostgreSQL 15, run with TZ=UTC), one line at a time (pure): the
 * record's resource manager, xid, LSN, operation and the relations its blocks belong to, and
 * for transaction ends the commit/abort time (to the microsecond), the subtransactions and the
 * relations whose storage the commit removes (`rels:`); new storage (Storage `CREATE`) and page
 * images written into it (XLOG `FPI`), which is how a TRUNCATE, VACUUM FULL or CLUSTER shows
 * at wal_level replica: the table gets a new relfilenode, the old one is dropped at commit (the
 * heap `TRUNCATE` record naming the table's OID is written only at wal_level logical).
 *
 *   rmgr: Heap        len (rec/tot):     54/    54, tx:        729, lsn: 0/03002AF8, prev 0/03002AB8, desc: DELETE off 1 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/16384/16385 blk 0
 *   rmgr: Transaction len (rec/tot):     46/    46, tx:        728, lsn: 0/03002C10, prev 0/03002BD8, desc: COMMIT 2026-11-29 15:07:04.995085 UTC; subxacts: 729
 *   rmgr: Storage     len (rec/tot):     42/    42, tx:        726, lsn: 0/0153D518, prev 0/0153D4E8, desc: CREATE base/5/16398
 *   rmgr: Transaction len (rec/tot):    361/   361, tx:        726, lsn: 0/01543550, prev 0/015434C0, desc: COMMIT 2026-12-06 19:47:04.384753 UTC; rels: base/5/16388 base/5/16389 base/5/16387 base/5/16384; inval msgs: …
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
  /** `tablespace/database/relfilenode`s whose storage the commit (or abort) removes. */
  dropped: string[];
}

/** New storage for a relation (Storage rmgr `CREATE`, main fork): a new table, or a TRUNCATE / rewrite giving one a new relfilenode. */
export interface StorageCreateRecord {
  kind: 'storage-create';
  xid: number;
  lsn: bigint;
  relation: string;
}

/** Whole pages written by image (XLOG `FPI`): how VACUUM FULL and CLUSTER copy rows into the new storage. */
export interface PageImageRecord {
  kind: 'page-image';
  xid: number;
  lsn: bigint;
  relations: string[];
}

export type WaldumpRecord = HeapRecord | XactEndRecord | StorageCreateRecord | PageImageRecord;

const LINE = /^rmgr: (\S+)\s+len \(rec\/tot\):\s*\d+\/\s*\d+, tx:\s*(\d+), lsn: ([0-9A-F]{1,8}\/[0-9A-F]{1,8}), prev [0-9A-F]{1,8}\/[0-9A-F]{1,8}, desc: (.*)$/;
const BLKREF = /blkref #\d+: rel (\d+\/\d+\/\d+)(?: fork (\w+))? blk \d+/g;
const XACT_END = /^(COMMIT|ABORT)(?:_PREPARED (\d+):)? (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))? UTC(.*)$/;

/**
 * A relation path as pg_waldump prints it (`base/DB/FN`, `global/FN`, `pg_tblspc/TS/PG_…/DB/FN`)
 * as `tablespace/database/relfilenode` (1663 = pg_default, 1664 = pg_global); null for another
 * fork (`…_init`, `…_fsm`, `…_vm`) or anything else.
 */
export function relationOfPath(path: string): string | null {
  const base = /^base\/(\d+)\/(\d+)$/.exec(path);
  if (base) return `1663/${base[1]}/${base[2]}`;
  const global = /^global\/(\d+)$/.exec(path);
  if (global) return `1664/0/${global[1]}`;
  const tablespace = /^pg_tblspc\/(\d+)\/[^/]+\/(\d+)\/(\d+)$/.exec(path);
  return tablespace ? `${tablespace[1]}/${tablespace[2]}/${tablespace[3]}` : null;
}

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
    const dropped = (/; rels:((?: [^\s;]+)+)/.exec(rest)?.[1]?.trim().split(' ') ?? []).map(relationOfPath).filter((relation): relation is string => relation !== null);
    return { kind: 'xact-end', xid: end[2] ? Number(end[2]) : Number(tx), lsn, status: end[1] === 'COMMIT' ? 'commit' : 'abort', time: isoTime(end[3]!, end[4]!, end[5]), subxacts, dropped };
  }
  if (rmgr === 'Storage') {
    const created = /^CREATE (\S+)$/.exec(desc.trim());
    const relation = created ? relationOfPath(created[1]!) : null;
    return relation ? { kind: 'storage-create', xid: Number(tx), lsn, relation } : null;
  }
  if (rmgr === 'XLOG') {
    if (!/^FPI[\s,]/.test(desc)) return null; // FPI_FOR_HINT, checkpoints, NEXTOID…: nothing copied
    const relations = new Set<string>();
    for (const ref of desc.matchAll(BLKREF)) if (ref[2] === undefined || ref[2] === 'main') relations.add(ref[1]!);
    return { kind: 'page-image', xid: Number(tx), lsn, relations: [...relations] };
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
