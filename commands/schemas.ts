/** Pieces of the words several commands share: names, exact times, the side-restore steps (pure). */
import { z } from 'zod';
import { parseTargetTime } from '../src/catalog/targets.js';

/** A database name as the commands accept it (then always quoted as an identifier). */
export const databaseName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a database name: letters, digits, _ or $, up to 63');

/** `table` or `schema.table`. */
export const tableName = z.string().regex(/^([A-Za-z_][A-Za-z0-9_$]{0,62}\.)?[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a table: name or schema.name (letters, digits, _ or $)');

/** A time target's exact text (microseconds and offset kept); parsed again wherever it is used. */
export const exactTime = z.string().max(64).refine((text) => {
  try {
    parseTargetTime(text);
    return true;
  } catch {
    return false;
  }
}, 'a time with an explicit offset and at most 6 fractional digits');

/** The steps of restoring a side instance to a target (restoreSideForJob / restoreSideInstance). */
export const SIDE_RESTORE_STEPS = [
  { kind: 'select', title: 'Check the base backup and WAL segments in storage', destructive: false },
  { kind: 'restore-base-backup', title: 'Restore the base backup into a side instance', destructive: false },
  { kind: 'configure-recovery', title: 'Configure recovery', destructive: false },
  { kind: 'replay-wal', title: 'Replay WAL', destructive: false },
] as const;
