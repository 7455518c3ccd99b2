/**
 * Retention (pure): which base backups a policy keeps and why, which expire, which interrupted
 * uploads go, and which archived WAL no kept backup needs. `recover expire`, the runner's
 * schedule and `/recover backups` all show this one plan.
 *
 * What is never deleted, whatever the policy:
 * - the newest complete backup, and the newest one the current (highest) timeline can be
 *   restored from (after an in-place PITR the newest backups may lie on the abandoned branch);
 * - WAL a kept backup needs to restore to its end and on to the newest WAL of every timeline
 *   that descends from it (a timeline whose history has the backup before its branch point):
 *   on such a timeline, every segment from the oldest such backup's start segment on;
 * - WAL of the current timeline from the oldest kept backup's start segment on;
 * - every timeline .history file, and files whose names retention does not know;
 * - a directory whose manifest exists but cannot be read (a newer format, a damaged file:
 *   people look at it), and one without a manifest written to within INCOMPLETE_IDLE_HOURS
 *   or after the oldest kept backup began (it may be a backup still uploading).
 * With no complete backup, or no policy, nothing is deleted at all.
 */
import type { BackupManifest, Catalog } from '../../catalog/catalog.js';
import { backupOnPath, pathTo } from '../../catalog/coverage.js';
import { DEFAULT_SEGMENT_SIZE, parseLsn, parseSegmentName, segmentOfLsn } from '../../catalog/segments.js';

/** RECOVER_RETENTION_FULL (keep the newest N complete backups) and RECOVER_RETENTION_DAYS (restorable for D days); a backup any rule keeps is kept. */
export interface RetentionPolicy {
  full?: number;
  days?: number;
}

/** A directory without a manifest may be a backup still uploading (a large one takes hours). */
export const INCOMPLETE_IDLE_HOURS = 24;

export interface BackupFate {
  id: string;
  timeline: number;
  startLsn: string;
  stopTime: string;
  keep: boolean;
  /** Why it is kept (every rule that keeps it), or why it goes. */
  reasons: string[];
}

export interface IncompleteFate {
  id: string;
  delete: boolean;
  reason: string;
}

export interface WalRange {
  timeline: number;
  first: string;
  last: string;
  files: number;
}

export interface RetentionPlan {
  policy: RetentionPolicy;
  /** False without RECOVER_RETENTION_FULL and RECOVER_RETENTION_DAYS: everything is kept. */
  configured: boolean;
  /** Complete backups, oldest first. */
  backups: BackupFate[];
  incomplete: IncompleteFate[];
  wal: {
    /** File names under the WAL prefix, oldest first: the order to delete them in. */
    delete: string[];
    kept: WalRange[];
    deleted: WalRange[];
  };
  /** The stop time of the oldest kept backup: nothing before it is restorable once the plan ran. */
  earliestRestorable: string | null;
  /** Why nothing at all is deleted, when that is so. */
  nothingDeleted: string | null;
}

export const describePolicy = (policy: RetentionPolicy): string => {
  const rules = [policy.full !== undefined ? `the newest ${policy.full} backups` : null, policy.days !== undefined ? `${policy.days} days restorable` : null].filter(Boolean);
  return rules.length === 0 ? 'none (everything is kept)' : `keep ${rules.join(' and ')}`;
};

/** Why a backup no rule keeps goes. */
const expiryReasons = (policy: RetentionPolicy): string[] => [
  ...(policy.full !== undefined ? [`not one of the newest ${policy.full}`] : []),
  ...(policy.days !== undefined ? [`older than ${policy.days} days, and a newer backup restores the window's start`] : []),
];

function keepReasons(backups: readonly BackupManifest[], catalog: Catalog, policy: RetentionPolicy, now: Date, currentTimeline: number): Map<string, string[]> {
  const reasons = new Map<string, string[]>(backups.map((b) => [b.id, []]));
  const newestFirst = [...backups].reverse();
  const add = (backup: BackupManifest | undefined, reason: string) => backup && reasons.get(backup.id)!.push(reason);
  add(newestFirst[0], 'newest backup');
  if (policy.full !== undefined) newestFirst.slice(0, policy.full).forEach((b) => add(b, `one of the newest ${policy.full}`));
  if (policy.days !== undefined) {
    const cutoff = now.getTime() - policy.days * 86_400_000;
    newestFirst.filter((b) => Date.parse(b.stopTime) >= cutoff).forEach((b) => add(b, `within ${policy.days} days`));
    // The newest backup older than the window restores its beginning.
    add(newestFirst.find((b) => Date.parse(b.stopTime) < cutoff), `restores the start of the ${policy.days}-day window`);
  }
  const current = newestFirst.find((b) => backupOnPath(b, pathTo(catalog, currentTimeline)));
  if (current && reasons.get(current.id)!.length === 0) add(current, `newest backup of the current timeline ${currentTimeline}`);
  return reasons;
}

/** Per timeline, the first segment no kept backup may lose (undefined: the timeline needs none of its WAL). */
function walFloors(catalog: Catalog, kept: readonly BackupManifest[], timelines: readonly number[], currentTimeline: number, segmentSize: number): Map<number, bigint> {
  const startSegno = (b: BackupManifest) => segmentOfLsn(parseLsn(b.startLsn), segmentSize);
  const floors = new Map<number, bigint>();
  const lower = (timeline: number, segno: bigint) => {
    const floor = floors.get(timeline);
    if (floor === undefined || segno < floor) floors.set(timeline, segno);
  };
  for (const timeline of timelines) {
    const path = pathTo(catalog, timeline);
    for (const backup of kept) if (backupOnPath(backup, path)) lower(timeline, startSegno(backup));
  }
  const oldest = kept.reduce<bigint | null>((min, b) => (min === null || startSegno(b) < min ? startSegno(b) : min), null);
  if (oldest !== null) lower(currentTimeline, oldest);
  return floors;
}

/** Timeline and segment of a segment, .partial or .backup file name; null for anything else (never deleted). */
function walPosition(name: string, segmentSize: number): { timeline: number; segno: bigint } | null {
  if (!/^[0-9A-F]{24}(\.partial|\.[0-9A-F]{8}\.backup)?$/.test(name)) return null;
  return parseSegmentName(name.slice(0, 24), segmentSize);
}

function ranges(files: readonly { name: string; timeline: number }[]): WalRange[] {
  const byTimeline = new Map<number, WalRange>();
  for (const file of files) {
    const range = byTimeline.get(file.timeline);
    if (!range) byTimeline.set(file.timeline, { timeline: file.timeline, first: file.name, last: file.name, files: 1 });
    else {
      if (file.name < range.first) range.first = file.name;
      if (file.name > range.last) range.last = file.name;
      range.files++;
    }
  }
  return [...byTimeline.values()].sort((a, b) => a.timeline - b.timeline);
}

const oldestStarted = (backups: readonly BackupManifest[]): BackupManifest | undefined =>
  backups.reduce<BackupManifest | undefined>((min, b) => (min === undefined || Date.parse(b.startTime) < Date.parse(min.startTime) ? b : min), undefined);

function incompleteFates(catalog: Catalog, oldestKept: BackupManifest | undefined, now: Date): IncompleteFate[] {
  return catalog.unreadableBackups.map(({ id, reason, lastWrite }) => {
    if (lastWrite === undefined) return { id, delete: false, reason: `kept: its manifest cannot be read (${reason}); look at it` };
    if (!oldestKept) return { id, delete: false, reason: 'kept: no complete backup to keep instead' };
    if (Date.parse(lastWrite) >= Date.parse(oldestKept.startTime)) return { id, delete: false, reason: `kept: written after the oldest kept backup began (may still be uploading)` };
    if (now.getTime() - Date.parse(lastWrite) < INCOMPLETE_IDLE_HOURS * 3_600_000) return { id, delete: false, reason: `kept: written within ${INCOMPLETE_IDLE_HOURS} h (may still be uploading)` };
    return { id, delete: true, reason: `interrupted upload (no manifest), last written ${lastWrite}, older than the oldest kept backup` };
  });
}

export function planRetention(catalog: Catalog, policy: RetentionPolicy, now: Date): RetentionPlan {
  const configured = policy.full !== undefined || policy.days !== undefined;
  const backups = [...catalog.backups].sort((a, b) => Date.parse(a.stopTime) - Date.parse(b.stopTime) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const segmentSize = backups.at(-1)?.walSegmentSize ?? DEFAULT_SEGMENT_SIZE;
  const timelines = [...new Set([...catalog.wal.segments.map((s) => s.timeline), ...catalog.wal.histories.keys(), ...backups.map((b) => b.timeline)])].sort((a, b) => a - b);
  const currentTimeline = timelines.at(-1) ?? 1;
  const nothingDeleted = !configured ? 'no retention policy (RECOVER_RETENTION_FULL, RECOVER_RETENTION_DAYS)' : backups.length === 0 ? 'no complete backup' : null;
  const reasons = nothingDeleted ? new Map(backups.map((b) => [b.id, [nothingDeleted]])) : keepReasons(backups, catalog, policy, now, currentTimeline);
  const kept = backups.filter((b) => reasons.get(b.id)!.length > 0);
  const fates: BackupFate[] = backups.map((b) => {
    const why = reasons.get(b.id)!;
    return { id: b.id, timeline: b.timeline, startLsn: b.startLsn, stopTime: b.stopTime, keep: why.length > 0, reasons: why.length > 0 ? why : expiryReasons(policy) };
  });
  const floors = walFloors(catalog, kept, timelines, currentTimeline, segmentSize);
  const names = [...catalog.wal.segments.map((s) => s.name), ...catalog.wal.others];
  const keptFiles: { name: string; timeline: number }[] = [];
  const deleted: { name: string; timeline: number; segno: bigint }[] = [];
  for (const name of names) {
    const position = walPosition(name, segmentSize);
    if (!position) continue;
    const floor = floors.get(position.timeline);
    if (nothingDeleted || (floor !== undefined && position.segno >= floor)) keptFiles.push({ name, timeline: position.timeline });
    else deleted.push({ name, ...position });
  }
  deleted.sort((a, b) => (a.segno < b.segno ? -1 : a.segno > b.segno ? 1 : a.timeline - b.timeline || (a.name < b.name ? -1 : 1)));
  return {
    policy,
    configured,
    backups: fates,
    incomplete: nothingDeleted ? catalog.unreadableBackups.map(({ id }) => ({ id, delete: false, reason: `kept: ${nothingDeleted}` })) : incompleteFates(catalog, oldestStarted(kept), now),
    wal: { delete: deleted.map((d) => d.name), kept: ranges(keptFiles), deleted: ranges(deleted) },
    earliestRestorable: kept[0]?.stopTime ?? null,
    nothingDeleted,
  };
}
