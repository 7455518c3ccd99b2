/**
 * From pg_waldump records, in WAL order, to the transactions that deleted or updated rows of
 * one table (pure). Records are kept per xid only while a transaction is open: at its commit or
 * abort (which lists its committed subtransactions) the group is merged under the top-level xid
 * and kept only if it touched the table, so memory follows the open transactions, not the WAL.
 */
import { formatLsn } from '../../catalog/segments.js';
import type { HeapRecord, WaldumpRecord, XactEndRecord } from './waldump-lines.js';

export interface RowCounts {
  inserted: number;
  updated: number;
  deleted: number;
}

export interface LocatedTransaction {
  /** The top-level xid: what `--before-xid` takes. */
  xid: number;
  /** `committed`; or `open` when no commit/abort is in the WAL read (still running, or not archived yet). */
  status: 'committed' | 'open';
  /** Commit time to the microsecond (`…+00:00`); null while open. */
  commitTime: string | null;
  commitLsn: string | null;
  /** WAL records of the table: rows deleted, updated (HOT or not), inserted; truncated (TRUNCATE) at once. */
  table: RowCounts & { truncated: boolean };
  /** Committed subtransactions whose changes count here (savepoints). */
  subxacts: number[];
  /** Other relations the transaction wrote (heap records): `tablespace/database/relfilenode` and counts. */
  others: ({ relation: string } & RowCounts)[];
}

interface State {
  lsn: bigint;
  table: RowCounts & { truncated: boolean };
  others: Map<string, RowCounts>;
}

const COUNTED: Record<string, keyof RowCounts> = { DELETE: 'deleted', UPDATE: 'updated', HOT_UPDATE: 'updated', INSERT: 'inserted', MULTI_INSERT: 'inserted' };
const zero = (): RowCounts => ({ inserted: 0, updated: 0, deleted: 0 });

export class TransactionTracker {
  private readonly open = new Map<number, State>();
  private readonly found: (LocatedTransaction & { order: bigint })[] = [];
  /** Transactions that changed the table and then rolled back (nothing to restore). */
  abortedTouching = 0;
  /** WAL records (of the kinds counted) that belong to the table: 0 means the relfilenode saw no change. */
  tableRecords = 0;

  /** `relations`: the table's `tablespace/database/relfilenode`s; `oids`: its OIDs (TRUNCATE records name OIDs). */
  constructor(private readonly relations: ReadonlySet<string>, private readonly oids: ReadonlySet<number>) {}

  add(record: WaldumpRecord): void {
    if (record.kind === 'heap') this.heap(record);
    else this.end(record);
  }

  private state(xid: number, lsn: bigint): State {
    let state = this.open.get(xid);
    if (!state) this.open.set(xid, (state = { lsn, table: { ...zero(), truncated: false }, others: new Map() }));
    state.lsn = lsn;
    return state;
  }

  private heap(record: HeapRecord): void {
    if (record.xid === 0) return; // pruning, freezing: no transaction
    if (record.op === 'TRUNCATE') {
      if (record.truncatedOids.some((oid) => this.oids.has(oid))) {
        this.state(record.xid, record.lsn).table.truncated = true;
        this.tableRecords += 1;
      }
      return;
    }
    const column = COUNTED[record.op];
    if (!column) return; // LOCK, CONFIRM, INPLACE, VISIBLE…: no row changed
    for (const relation of record.relations) {
      const state = this.state(record.xid, record.lsn);
      if (this.relations.has(relation)) {
        state.table[column] += record.tuples;
        this.tableRecords += 1;
      } else {
        const counts = state.others.get(relation) ?? zero();
        counts[column] += record.tuples;
        state.others.set(relation, counts);
      }
    }
  }

  private end(record: XactEndRecord): void {
    const group = [record.xid, ...record.subxacts].map((xid) => [xid, this.open.get(xid)] as const).filter((entry): entry is readonly [number, State] => entry[1] !== undefined);
    for (const [xid] of group) this.open.delete(xid);
    const merged = merge(group.map(([, state]) => state));
    if (!merged || !touched(merged)) return;
    if (record.status === 'abort') {
      this.abortedTouching += 1;
      return;
    }
    this.found.push({ ...located(record.xid, merged, group.map(([xid]) => xid).filter((xid) => xid !== record.xid)), status: 'committed', commitTime: record.time, commitLsn: formatLsn(record.lsn), order: record.lsn });
  }

  /** Newest first (by commit LSN; open transactions, being newest, first of all). */
  transactions(): LocatedTransaction[] {
    const open = [...this.open.entries()].filter(([, state]) => touched(state)).map(([xid, state]) => ({ ...located(xid, state, []), status: 'open' as const, commitTime: null, commitLsn: null, order: (1n << 64n) + state.lsn }));
    return [...this.found, ...open].sort((a, b) => (a.order === b.order ? 0 : a.order > b.order ? -1 : 1)).map(({ order: _order, ...rest }) => rest);
  }
}

function touched(state: State): boolean {
  return state.table.deleted > 0 || state.table.updated > 0 || state.table.truncated;
}

function merge(states: State[]): State | null {
  if (states.length === 0) return null;
  const out: State = { lsn: 0n, table: { ...zero(), truncated: false }, others: new Map() };
  for (const state of states) {
    out.lsn = state.lsn > out.lsn ? state.lsn : out.lsn;
    out.table.inserted += state.table.inserted;
    out.table.updated += state.table.updated;
    out.table.deleted += state.table.deleted;
    out.table.truncated ||= state.table.truncated;
    for (const [relation, counts] of state.others) {
      const sum = out.others.get(relation) ?? zero();
      out.others.set(relation, { inserted: sum.inserted + counts.inserted, updated: sum.updated + counts.updated, deleted: sum.deleted + counts.deleted });
    }
  }
  return out;
}

function located(xid: number, state: State, subxacts: number[]): Omit<LocatedTransaction, 'status' | 'commitTime' | 'commitLsn'> {
  return { xid, table: { ...state.table }, subxacts, others: [...state.others.entries()].map(([relation, counts]) => ({ relation, ...counts })).sort((a, b) => a.relation.localeCompare(b.relation)) };
}
