/** What `locate` found, as text (CLI), as Slack follow-ups, and the exact commands to restore just before a transaction (pure). */
import type { LocatedTransaction, RowCounts } from '../src/engine/locate/transactions.js';

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
  /** WAL records of the table's current relfilenode(s) in what was read. */
  tableRecords: number;
  abortedTouching: number;
  /** How many transactions were found; `transactions` holds the newest of them. */
  found: number;
  transactions: (Omit<LocatedTransaction, 'others'> & { others: ({ relation: string; name: string | null } & RowCounts)[] })[];
  notes: string[];
}

/** At most this many transactions in a result (newest first). */
export const SHOWN_TRANSACTIONS = 20;

export function restoreCommands(result: Pick<LocateResult, 'database' | 'table'>, xid: number): { pitr: string; rows: string } {
  return {
    pitr: `/recover pitr --before-xid ${xid} --db ${result.database}`,
    rows: `/recover rows ${result.table} --where "…" --before-xid ${xid} --db ${result.database}`,
  };
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

export function transactionLine(result: Pick<LocateResult, 'table'>, t: LocateResult['transactions'][number]): string {
  const when = t.status === 'committed' ? `committed ${t.commitTime} (LSN ${t.commitLsn})` : 'not committed in the archived WAL (still open, or its commit is not archived yet)';
  const subs = t.subxacts.length > 0 ? ` (with subtransactions ${t.subxacts.join(', ')})` : '';
  const others = t.others.length > 0 ? `; also wrote ${t.others.map((o) => `${o.name ?? o.relation}: ${counts(o)}`).join('; ')}` : '';
  return `xid ${t.xid}${subs}, ${when}: ${result.table} ${counts(t.table)}${others}`;
}

export function locateNotes(input: { table: string; tableRecords: number; found: number; abortedTouching: number; gapAt: string | null; partitions: number }): string[] {
  const notes: string[] = [];
  if (input.tableRecords === 0) {
    notes.push(
      `The table's current relfilenode has no records in the WAL read. If it was rewritten since (TRUNCATE, VACUUM FULL, CLUSTER, an ALTER TABLE that rewrites), the rows you look for lived under its old relfilenode, which production no longer knows: give --since before the rewrite, or restore to a time before it.`,
    );
  } else if (input.found === 0) {
    notes.push(`No committed transaction deleted or updated rows of ${input.table} in the WAL read (only inserts${input.abortedTouching ? ', or changes rolled back' : ''}).`);
  }
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
    if (t.status === 'committed') {
      const commands = restoreCommands(result, t.xid);
      lines.push(`      restore just before it: ${commands.pitr.replace(/^\//, '')}   (rows only: ${commands.rows.replace(/^\//, '')})`);
    }
  }
  if (result.found > result.transactions.length) lines.push(`  … and ${result.found - result.transactions.length} older transaction(s) not shown: give --since to narrow.`);
  lines.push(...result.notes.map((note) => `Note: ${note}`));
  return lines.join('\n');
}

/** The Slack summary's follow-ups: the newest candidates and their exact commands. */
export function locateFollowUps(result: LocateResult, shown = 5): string[] {
  const items = result.transactions.slice(0, shown).map((t) => {
    const command = t.status === 'committed' ? ` → restore just before it: ${restoreCommands(result, t.xid).pitr} (or ${restoreCommands(result, t.xid).rows})` : '';
    return `${transactionLine(result, t)}${command}`;
  });
  if (result.transactions.length === 0) items.push(`No transaction deleted or updated rows of ${result.table} in ${result.segmentsRead} WAL segments read from ${result.from}.`);
  if (result.found > shown) items.push(`${result.found - shown} older transaction(s) not shown here: run recover locate on the runner for all, or give --since.`);
  return [...items, ...result.notes];
}
