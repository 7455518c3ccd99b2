/**
 * Which WAL segments of a full pg_wal may be removed (pure). Removing any other segment makes the
 * server unable to start (crash recovery reads from the latest checkpoint's REDO on) or loses
 * WAL that exists nowhere else (not archived), so the rule is narrow:
 * - older than the REDO segment, compared as pg_archivecleanup and PostgreSQL's own
 *   RemoveOldXlogFiles do: by the name without its timeline (characters 8…24);
 * - archived: PostgreSQL marked it `.done`, and the archive holds it when it could be listed
 *   (a `.done` segment the listing lacks is kept: something removed it there);
 * - no replication slot still needs it (a slot being dropped on request is left out by the caller).
 * Anything that is not a segment name (history, `.partial`, `.backup`, temporary files) is never
 * a candidate. pg_archivecleanup alone would also remove unarchived segments older than REDO.
 */
import { walFileKind } from '../../catalog/segments.js';

export type ArchiveState = 'ready' | 'done';

export interface RemovalInput {
  segments: readonly { name: string; bytes: number }[];
  /** archive_status: `<name>.ready` / `<name>.done`; a segment without either is not archived. */
  status: ReadonlyMap<string, ArchiveState>;
  /** "Latest checkpoint's REDO WAL file" of pg_controldata. */
  redoSegment: string;
  /** Segments the WAL archive holds (same size); null when it could not be listed: `.done` alone then counts. */
  archived: ReadonlySet<string> | null;
  /** Each slot's oldest needed segment (from its restart_lsn); slots with none are left out. */
  slots: readonly { name: string; oldestNeeded: string }[];
}

export type KeptReason = 'redo' | 'not-archived' | 'missing-from-archive' | 'slot';

export interface Removal {
  /** Removable, oldest first. */
  safe: { name: string; bytes: number }[];
  kept: { name: string; bytes: number; reason: KeptReason; slot?: string }[];
}

/** The part of a segment name pg_archivecleanup compares: log and segment, not the timeline. */
export const position = (name: string): string => name.slice(8);

export function walRemoval(input: RemovalInput): Removal {
  const redo = position(input.redoSegment);
  const safe: Removal['safe'] = [];
  const kept: Removal['kept'] = [];
  const sorted = [...input.segments].filter((s) => walFileKind(s.name) === 'segment').sort((a, b) => (position(a.name) < position(b.name) ? -1 : position(a.name) > position(b.name) ? 1 : a.name < b.name ? -1 : 1));
  for (const segment of sorted) {
    const at = position(segment.name);
    if (at >= redo) kept.push({ ...segment, reason: 'redo' });
    else if (input.status.get(segment.name) !== 'done') kept.push({ ...segment, reason: 'not-archived' });
    else if (input.archived && !input.archived.has(segment.name)) kept.push({ ...segment, reason: 'missing-from-archive' });
    else {
      const holder = input.slots.filter((slot) => at >= position(slot.oldestNeeded)).sort((a, b) => (position(a.oldestNeeded) < position(b.oldestNeeded) ? -1 : 1))[0];
      if (holder) kept.push({ ...segment, reason: 'slot', slot: holder.name });
      else safe.push(segment);
    }
  }
  return { safe, kept };
}

/** The same input once the `.ready` segments are archived and verified (what --fix does first when storage answers). */
export function afterArchiving(input: RemovalInput, archivable: readonly string[]): RemovalInput {
  const status = new Map(input.status);
  for (const name of archivable) if (status.get(name) === 'ready') status.set(name, 'done');
  const archived = input.archived ? new Set([...input.archived, ...archivable]) : null;
  return { ...input, status, archived };
}

export const totalBytes = (items: readonly { bytes: number }[]): number => items.reduce((sum, item) => sum + item.bytes, 0);
