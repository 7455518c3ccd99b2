/**
 * The table's storage history (pure): walking back from its current relfilenode(s) through each
 * committed transaction that created storage and dropped other storage (a TRUNCATE, VACUUM FULL,
 * CLUSTER or rewriting ALTER TABLE), which relfilenodes the table had before. The old one is the
 * dropped relfilenode named after one of the table's OIDs (a relation's first storage is), else,
 * when the transaction replaced only this table's own relations (heap, TOAST table, indexes;
 * storage it created and dropped itself left out), the lowest-numbered one it dropped: a table's
 * heap is allocated before its TOAST table and indexes, at creation and at every rewrite. A
 * transaction that replaced other tables' storage too (TRUNCATE a, b; … CASCADE) and dropped no
 * relfilenode named after the table is `unresolved`: WAL alone does not say which was the table's.
 */
import type { RowCounts } from './transactions.js';

/**
 * The table got new storage in the transaction: `truncate` (new, empty: TRUNCATE), `copied` (its
 * pages written into the new storage by image: VACUUM FULL or CLUSTER, no row removed), `written`
 * (rows inserted into the new storage in the same transaction: a rewriting ALTER TABLE, or
 * TRUNCATE then INSERT).
 */
export interface StorageChange {
  kind: 'truncate' | 'copied' | 'written';
  /** The table's relfilenode(s) before (empty when they could not be told apart: `unresolved`). */
  from: string[];
  /** Its relfilenode(s) after. */
  to: string[];
  /** The transaction replaced other tables' storage too and the table's old relfilenode could not be told apart. */
  unresolved: boolean;
}

/** A committed storage replacement of this table that copied its rows (VACUUM FULL, CLUSTER): no rows lost, not a candidate. */
export interface Rewrite {
  xid: number;
  commitTime: string;
  commitLsn: string;
  from: string[];
  to: string[];
}

export interface StorageHistory {
  /** The table's relfilenodes before TRUNCATEs and rewrites found in the WAL read. */
  oldRelfilenodes: string[];
  rewrites: Rewrite[];
  /** Transactions that replaced the table's storage with other tables' at once: changes before them under the old storage are not listed. */
  unresolved: { xid: number; commitTime: string }[];
  /** More transactions on since-dropped storage than kept: some changes under old storage may be missing. */
  keptFull: boolean;
}

/** What a committed transaction that created and dropped storage did (as the tracker merged it). */
export interface Replacement {
  xid: number;
  lsn: bigint;
  time: string;
  dropped: string[];
  state: { creates: string[]; copied: Set<string>; table: RowCounts & { truncated: boolean }; others: Map<string, RowCounts> };
}

export const numberOf = (relation: string): number => Number(relation.split('/')[2]);

/**
 * From the newest replacement back: each one that created storage of the table tells its
 * storage before. `relations`: the table's heap relfilenodes now; `oids`: its OIDs; `own`: its
 * own relations now (heap, TOAST, indexes).
 */
export function traceStorage(
  replacements: readonly Replacement[],
  table: { relations: ReadonlySet<string>; oids: ReadonlySet<number>; own: ReadonlySet<string> },
): { changes: Map<number, StorageChange>; oldRelfilenodes: string[]; unresolved: { xid: number; commitTime: string }[] } {
  const heaps = new Set(table.relations);
  const own = new Set(table.own);
  const changes = new Map<number, StorageChange>();
  const oldRelfilenodes: string[] = [];
  const unresolvedList: { xid: number; commitTime: string }[] = [];
  for (const replacement of [...replacements].sort((a, b) => (a.lsn > b.lsn ? -1 : a.lsn < b.lsn ? 1 : 0))) {
    const created = replacement.state.creates.filter((relation) => heaps.has(relation));
    if (created.length === 0) continue;
    // Storage created and dropped in the same transaction (an ALTER TABLE's transient relation) is neither side.
    const transient = new Set(replacement.state.creates.filter((relation) => replacement.dropped.includes(relation)));
    const onlyOurs = replacement.state.creates.every((relation) => own.has(relation) || transient.has(relation));
    const dropped = replacement.dropped.filter((relation) => !heaps.has(relation) && !transient.has(relation));
    let from = dropped.filter((relation) => table.oids.has(numberOf(relation)));
    let unresolved = false;
    if (from.length < created.length) {
      const lowest = [...dropped].sort((a, b) => numberOf(a) - numberOf(b))[0];
      if (created.length === 1 && onlyOurs && lowest) from = [lowest];
      else unresolved = true;
    }
    for (const relation of from) heaps.add(relation);
    for (const relation of onlyOurs ? dropped : from) own.add(relation);
    oldRelfilenodes.push(...from);
    const { state } = replacement;
    const written = (created.some((relation) => table.relations.has(relation)) ? state.table.inserted : 0) + created.reduce((sum, relation) => sum + (state.others.get(relation)?.inserted ?? 0), 0);
    const kind = state.table.truncated ? 'truncate' : created.some((relation) => state.copied.has(relation)) ? 'copied' : written > 0 ? 'written' : 'truncate';
    changes.set(replacement.xid, { kind, from, to: created, unresolved });
    if (unresolved) unresolvedList.push({ xid: replacement.xid, commitTime: replacement.time });
  }
  return { changes, oldRelfilenodes, unresolved: unresolvedList };
}
