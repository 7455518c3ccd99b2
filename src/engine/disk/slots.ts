/**
 * Replication slots and the WAL they retain: from pg_replication_slots when the server answers,
 * else from their state files under pg_replslot. Dropping one (only when asked by name) breaks
 * the standby or consumer that uses it: it must then be rebuilt.
 */
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RecoverError } from '../../errors.js';
import { fsyncPath } from '../durable-file.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { parseSlotState } from './parse.js';

export interface SlotFacts {
  name: string;
  kind: 'physical' | 'logical';
  /** Whether a standby or consumer is connected now; null when the server is down. */
  active: boolean | null;
  restartLsn: string | null;
  /** pg_replication_slots.wal_status (reserved, extended, unreserved, lost); null when down. */
  walStatus: string | null;
}

export async function readSlotFiles(dataDir: string): Promise<SlotFacts[]> {
  const slots: SlotFacts[] = [];
  for (const entry of await readdir(join(dataDir, 'pg_replslot')).catch(() => [] as string[])) {
    if (entry.endsWith('.tmp')) continue; // a drop PostgreSQL finishes at its next start
    const state = await readFile(join(dataDir, 'pg_replslot', entry, 'state')).catch(() => null);
    const parsed = state ? parseSlotState(state) : null;
    if (parsed) slots.push({ ...parsed, active: null, walStatus: null });
  }
  return slots.sort((a, b) => (a.name < b.name ? -1 : 1));
}

export async function slotsFromServer(connection: TargetConnection): Promise<SlotFacts[]> {
  const sql = 'SELECT slot_name AS name, slot_type AS kind, active, restart_lsn::text AS restart_lsn, wal_status FROM pg_replication_slots ORDER BY slot_name';
  const rows = await withTargetClient(connection, async (c) => (await c.query<{ name: string; kind: string; active: boolean; restart_lsn: string | null; wal_status: string | null }>(sql)).rows);
  return rows.map((r) => ({ name: r.name, kind: r.kind === 'logical' ? 'logical' : 'physical', active: r.active, restartLsn: r.restart_lsn, walStatus: r.wal_status }));
}

/**
 * Drops slot `name`: with pg_drop_replication_slot when the server answers; when it is stopped,
 * as PostgreSQL itself does (the directory renamed to `<name>.tmp`, fsync'd, then removed: a
 * crash in between leaves a `.tmp` PostgreSQL removes at start).
 */
export async function dropSlot(dataDir: string, name: string, connection: TargetConnection | null): Promise<void> {
  if (connection) {
    await withTargetClient(connection, (c) => c.query('SELECT pg_drop_replication_slot($1)', [name]));
    return;
  }
  const dir = join(dataDir, 'pg_replslot');
  if (!(await readSlotFiles(dataDir)).some((slot) => slot.name === name)) {
    throw new RecoverError('BAD_INPUT', `There is no replication slot ${name} in ${dir}.`, { hint: 'Run /recover disk to list the slots.' });
  }
  await rename(join(dir, name), join(dir, `${name}.tmp`));
  await fsyncPath(dir);
  await rm(join(dir, `${name}.tmp`), { recursive: true, force: true });
  await fsyncPath(dir);
}
