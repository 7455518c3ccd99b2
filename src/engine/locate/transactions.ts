/**
 * From pg_waldump records, in WAL order, to the transactions that deleted or updated rows of
 * one table, or emptied it (pure). Records are kept per xid only while a transaction is open: at
 * its commit or abort (which lists its committed subtransactions) the group is merged under the
 * top-level xid and kept only if it touched the table, so memory follows the open transactions,
 * not the WAL.
 *
 * A TRUNCATE, VACUUM FULL, CLUSTER or rewriting ALTER TABLE gives the table new storage: the
 * transaction creates a new relfilenode (Storage CREATE) and its commit drops the old one
 * (`rels:`); rows changed before it are in records of the OLD relfilenode, which production no
 * longer knows. So, given production's live relfilenodes, committed transactions that changed
 * rows of a relfilenode production no longer has are kept aside (bounded), and so are the
 * transactions that replaced storage; at the end the table's old relfilenodes are traced back
 * from its current ones (storage-history.ts), and the changes made under them are the table's
 * too.
 */
import { formatLsn } from '../../catalog/segments.js';
import { numberOf, traceStorage, type StorageChange, type StorageHistory } from './storage-history.js';
import type { HeapRecord, WaldumpRecord, XactEndRecord } from './waldump-lines.js';

export type { Rewrite, StorageChange, StorageHistory } from './storage-history.js';

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
  /** The table's new storage made by this transaction (TRUNCATE, rewrite), else null. */
  storage: StorageChange | null;
  /** Old relfilenodes of the table (before a later TRUNCATE or rewrite) whose records are counted in `table`. */
  oldStorage: string[];
}

export interface TrackerOptions {
  /** Production's relfilenodes now (this database): a record of another relfilenode of the database is of storage since dropped or replaced. */
  live?: ReadonlySet<string>;
  /** The table's own relations now (heap, TOAST table and their indexes; every partition's): tells a replacement of only this table. */
  own?: ReadonlySet<string>;
  /** At most this many transactions on since-dropped storage are kept aside (default 20 000). */
  maxKept?: number;
}

interface State {
  lsn: bigint;
  table: RowCounts & { truncated: boolean };
  others: Map<string, RowCounts>;
  /** Storage created in the transaction, in order. */
  creates: string[];
  /** Created storage that got whole page images in the transaction. */
  copied: Set<string>;
}

interface Ended {
  xid: number;
  lsn: bigint;
  time: string;
  subxacts: number[];
  state: State;
  dropped: string[];
}

const COUNTED: Record<string, keyof RowCounts> = { DELETE: 'deleted', UPDATE: 'updated', HOT_UPDATE: 'updated', INSERT: 'inserted', MULTI_INSERT: 'inserted' };
const zero = (): RowCounts => ({ inserted: 0, updated: 0, deleted: 0 });
const databaseOf = (relation: string) => relation.split('/')[1];
const MAX_REPLACEMENTS = 5000;
/** Relfilenodes below this are the system catalogs' (PostgreSQL's FirstNormalObjectId). */
const FIRST_NORMAL_OBJECT_ID = 16384;

export class TransactionTracker {
  private readonly open = new Map<number, State>();
  private readonly found: Ended[] = [];
  /** Committed transactions that changed rows of storage production no longer has. */
  private readonly kept: Ended[] = [];
  /** Committed transactions that created storage and dropped other storage. */
  private readonly replacements: Ended[] = [];
  /** Heap records per relfilenode production no longer has. */
  private readonly goneRecords = new Map<string, number>();
  private readonly database: string | undefined;
  private keptFull = false;
  private resolved: { transactions: LocatedTransaction[]; history: StorageHistory; oldRecords: number } | null = null;
  /** Transactions that changed the table and then rolled back (nothing to restore). */
  abortedTouching = 0;
  private currentRecords = 0;

  /** `relations`: the table's `tablespace/database/relfilenode`s; `oids`: its OIDs (TRUNCATE records name OIDs). */
  constructor(private readonly relations: ReadonlySet<string>, private readonly oids: ReadonlySet<number>, private readonly options: TrackerOptions = {}) {
    const first = relations.values().next();
    this.database = first.done ? undefined : databaseOf(first.value);
  }

  /** WAL records (of the kinds counted) that belong to the table, under its current or old relfilenodes: 0 means no change was seen. */
  get tableRecords(): number {
    return this.currentRecords + this.resolve().oldRecords;
  }

  add(record: WaldumpRecord): void {
    this.resolved = null;
    if (record.kind === 'heap') this.heap(record);
    else if (record.kind === 'xact-end') this.end(record);
    else if (record.kind === 'storage-create') {
      if (record.xid !== 0) this.state(record.xid, record.lsn).creates.push(record.relation);
    } else {
      const state = this.open.get(record.xid);
      for (const relation of record.relations) if (state?.creates.includes(relation)) state.copied.add(relation);
    }
  }

  private state(xid: number, lsn: bigint): State {
    let state = this.open.get(xid);
    if (!state) this.open.set(xid, (state = { lsn, table: { ...zero(), truncated: false }, others: new Map(), creates: [], copied: new Set() }));
    state.lsn = lsn;
    return state;
  }

  /** A relfilenode of this database that production does not have now (dropped, or replaced by a TRUNCATE or rewrite). */
  private gone(relation: string): boolean {
    return this.options.live !== undefined && databaseOf(relation) === this.database && !this.options.live.has(relation) && !this.relations.has(relation);
  }

  private heap(record: HeapRecord): void {
    if (record.xid === 0) return; // pruning, freezing: no transaction
    if (record.op === 'TRUNCATE') {
      if (record.truncatedOids.some((oid) => this.oids.has(oid))) {
        this.state(record.xid, record.lsn).table.truncated = true;
        this.currentRecords += 1;
      }
      return;
    }
    const column = COUNTED[record.op];
    if (!column) return; // LOCK, CONFIRM, INPLACE, VISIBLE…: no row changed
    for (const relation of record.relations) {
      const state = this.state(record.xid, record.lsn);
      if (this.relations.has(relation)) {
        state.table[column] += record.tuples;
        this.currentRecords += 1;
      } else {
        const counts = state.others.get(relation) ?? zero();
        counts[column] += record.tuples;
        state.others.set(relation, counts);
        if (this.gone(relation)) this.goneRecords.set(relation, (this.goneRecords.get(relation) ?? 0) + 1);
      }
    }
  }

  private end(record: XactEndRecord): void {
    const group = [record.xid, ...record.subxacts].map((xid) => [xid, this.open.get(xid)] as const).filter((entry): entry is readonly [number, State] => entry[1] !== undefined);
    for (const [xid] of group) this.open.delete(xid);
    const merged = merge(group.map(([, state]) => state));
    if (!merged) return;
    if (record.status === 'abort') {
      if (touched(merged)) this.abortedTouching += 1;
      return;
    }
    const ended: Ended = { xid: record.xid, lsn: record.lsn, time: record.time, subxacts: group.map(([xid]) => xid).filter((xid) => xid !== record.xid), state: merged, dropped: record.dropped };
    if (touched(merged)) this.found.push(ended);
    else if ([...merged.others].some(([relation, counts]) => (counts.deleted > 0 || counts.updated > 0) && this.gone(relation))) {
      if (this.kept.length < (this.options.maxKept ?? 20_000)) this.kept.push(ended);
      else this.keptFull = true;
    }
    if (merged.creates.length > 0 && record.dropped.length > 0 && this.replacements.length < MAX_REPLACEMENTS) this.replacements.push(ended);
  }

  /** Newest first (by commit LSN; open transactions, being newest, first of all). */
  transactions(): LocatedTransaction[] {
    return this.resolve().transactions;
  }

  /** The table's old storage found, its rewrites (not candidates) and what could not be told apart. */
  history(): StorageHistory {
    return this.resolve().history;
  }

  private resolve(): { transactions: LocatedTransaction[]; history: StorageHistory; oldRecords: number } {
    if (this.resolved) return this.resolved;
    const traced = traceStorage(this.replacements, { relations: this.relations, oids: this.oids, own: this.options.own ?? this.relations });
    const changes = traced.changes;
    const history: StorageHistory = { oldRelfilenodes: traced.oldRelfilenodes, rewrites: [], unresolved: traced.unresolved, keptFull: this.keptFull };
    const old = new Set(history.oldRelfilenodes);
    const chosen = new Map<number, Ended>();
    for (const ended of [...this.found, ...this.kept, ...this.replacements]) {
      const ours = this.found.includes(ended) || changes.has(ended.xid) || [...ended.state.others.keys()].some((relation) => old.has(relation));
      if (ours && !chosen.has(ended.xid)) chosen.set(ended.xid, ended);
    }
    const found: (LocatedTransaction & { order: bigint })[] = [];
    for (const ended of chosen.values()) {
      const located = locate(ended.xid, ended.state, ended.subxacts, old, changes.get(ended.xid) ?? null);
      const storage = located.storage;
      if (storage?.kind === 'copied') history.rewrites.push({ xid: ended.xid, commitTime: ended.time, commitLsn: formatLsn(ended.lsn), from: storage.from, to: storage.to });
      if (!touchedLocated(located)) continue;
      found.push({ ...located, status: 'committed', commitTime: ended.time, commitLsn: formatLsn(ended.lsn), order: ended.lsn });
    }
    const open = [...this.open.entries()].filter(([, state]) => touched(state)).map(([xid, state]) => ({ ...locate(xid, state, [], old, null), status: 'open' as const, commitTime: null, commitLsn: null, order: (1n << 64n) + state.lsn }));
    const transactions = [...found, ...open].sort((a, b) => (a.order === b.order ? 0 : a.order > b.order ? -1 : 1)).map(({ order: _order, ...rest }) => rest);
    history.rewrites.sort((a, b) => b.commitLsn.localeCompare(a.commitLsn));
    const oldRecords = [...old].reduce((sum, relation) => sum + (this.goneRecords.get(relation) ?? 0), 0);
    this.resolved = { transactions, history, oldRecords };
    return this.resolved;
  }
}

function touched(state: State): boolean {
  return state.table.deleted > 0 || state.table.updated > 0 || state.table.truncated;
}

/** A candidate: rows deleted or updated, or the table emptied (a rewrite that copied its rows is not one). */
function touchedLocated(t: Omit<LocatedTransaction, 'status' | 'commitTime' | 'commitLsn'>): boolean {
  return t.table.deleted > 0 || t.table.updated > 0 || t.table.truncated || (t.storage !== null && t.storage.kind !== 'copied');
}

function merge(states: State[]): State | null {
  if (states.length === 0) return null;
  const out: State = { lsn: 0n, table: { ...zero(), truncated: false }, others: new Map(), creates: [], copied: new Set() };
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
    out.creates.push(...state.creates);
    for (const relation of state.copied) out.copied.add(relation);
  }
  return out;
}

/** The transaction as listed: changes under the table's old relfilenodes count as the table's; a TRUNCATE (new empty storage) marks it truncated. */
function locate(xid: number, state: State, subxacts: number[], old: ReadonlySet<string>, storage: StorageChange | null): Omit<LocatedTransaction, 'status' | 'commitTime' | 'commitLsn'> {
  const table = { ...state.table };
  const oldStorage: string[] = [];
  const others: LocatedTransaction['others'] = [];
  for (const [relation, counts] of state.others) {
    if (storage?.to.includes(relation)) {
      table.inserted += counts.inserted; // rows written into the table's new storage in the same transaction
    } else if (old.has(relation)) {
      oldStorage.push(relation);
      table.inserted += counts.inserted;
      table.updated += counts.updated;
      table.deleted += counts.deleted;
    } else if (!storage || numberOf(relation) >= FIRST_NORMAL_OBJECT_ID) {
      others.push({ relation, ...counts }); // a TRUNCATE's or rewrite's own catalog updates are not "other tables written"
    }
  }
  if (storage?.kind === 'truncate') table.truncated = true;
  return { xid, table, subxacts, others: others.sort((a, b) => a.relation.localeCompare(b.relation)), storage, oldStorage: oldStorage.sort() };
}
