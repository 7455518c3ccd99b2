/**
 * A side instance compared with production (informational): the row count of each compared
 * table on both, with the difference. A side instance is production at an earlier time, so
 * differences are expected: the check says so and never fails on them; it shows what the
 * restore brings back (and what happened since) before anyone copies from it.
 */
import type pg from 'pg';
import { rowCountSql } from '../sql.js';
import { plural, type IntegrityCheck } from './types.js';

export interface SideTableCount {
  table: string;
  side: number;
  /** null: the table is not in production's database. */
  production: number | null;
}

/** Tables listed per check message; the rest are summed. */
const LISTED = 20;

const signed = (n: number): string => (n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '±0');

/** The comparison of one database as a check (pure). */
export function sideComparisonCheck(database: string, production: string, counts: readonly SideTableCount[], missingDatabase = false): IntegrityCheck {
  const name = `compared with production ${database}`;
  const note = `informational: the side instance is ${production} at an earlier time, so differences are expected`;
  if (missingDatabase) return { name, ok: true, informational: true, message: `${note}; production has no database ${database}` };
  if (counts.length === 0) return { name, ok: true, informational: true, message: `${note}; no tables to compare` };
  const differing = counts.filter((c) => c.production !== c.side);
  const describe = (c: SideTableCount) =>
    c.production === null ? `${c.table} side ${c.side}, not in production` : `${c.table} side ${c.side} / production ${c.production} (${signed(c.side - c.production)} on the side)`;
  const listed = differing.slice(0, LISTED).map(describe);
  const more = differing.length > LISTED ? `; and ${differing.length - LISTED} more differing` : '';
  const same = counts.length - differing.length;
  const body = differing.length === 0 ? (counts.length === 1 ? 'the table has the same row count on both' : `all ${counts.length} tables have the same row count on both`) : `${listed.join('; ')}${more}; ${plural(same, 'table')} with the same count`;
  return { name, ok: true, informational: true, message: `${note}. Row counts: ${body}` };
}

/** Production's row count of each table (null where it has no such table), on a client of that database. */
export async function productionCounts(client: pg.Client, tables: readonly string[]): Promise<Map<string, number | null>> {
  const counts = new Map<string, number | null>();
  for (const table of tables) {
    try {
      counts.set(table, Number((await client.query(rowCountSql(table))).rows[0].rows));
    } catch (error) {
      if ((error as { code?: string }).code !== '42P01') throw error; // undefined_table: not in production
      counts.set(table, null);
    }
  }
  return counts;
}
