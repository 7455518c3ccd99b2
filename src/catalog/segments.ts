/**
 * WAL naming and position arithmetic (pure). Segment file names are
 * TTTTTTTT XXXXXXXX YYYYYYYY: timeline, then the segment number split into a "log" part
 * and a segment-within-log part, where one log holds 4 GiB of WAL.
 */
import type { Lsn } from '../types.js';

export const DEFAULT_SEGMENT_SIZE = 16 * 1024 * 1024;
const FOUR_GIB = 0x1_0000_0000n;

const SEGMENT_RE = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/;
const HISTORY_RE = /^([0-9A-F]{8})\.history$/;
const BACKUP_HISTORY_RE = /^([0-9A-F]{24})\.([0-9A-F]{8})\.backup$/;
const PARTIAL_RE = /^([0-9A-F]{24})\.partial$/;

export interface SegmentId {
  timeline: number;
  segno: bigint;
}

export function parseLsn(text: string): Lsn {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!match) throw new Error(`not an LSN: ${JSON.stringify(text)} (expected e.g. 0/3000028)`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffff_ffffn).toString(16).toUpperCase()}`;
}

function segmentsPerLog(segmentSize: number): bigint {
  return FOUR_GIB / BigInt(segmentSize);
}

export function segmentOfLsn(lsn: Lsn, segmentSize = DEFAULT_SEGMENT_SIZE): bigint {
  return lsn / BigInt(segmentSize);
}

export function segmentStartLsn(segno: bigint, segmentSize = DEFAULT_SEGMENT_SIZE): Lsn {
  return segno * BigInt(segmentSize);
}

const hex8 = (value: bigint | number) => value.toString(16).toUpperCase().padStart(8, '0');

export function segmentName(timeline: number, segno: bigint, segmentSize = DEFAULT_SEGMENT_SIZE): string {
  const perLog = segmentsPerLog(segmentSize);
  return `${hex8(timeline)}${hex8(segno / perLog)}${hex8(segno % perLog)}`;
}

export function parseSegmentName(name: string, segmentSize = DEFAULT_SEGMENT_SIZE): SegmentId | null {
  const match = SEGMENT_RE.exec(name);
  if (!match) return null;
  const log = BigInt(`0x${match[2]}`);
  const seg = BigInt(`0x${match[3]}`);
  const perLog = segmentsPerLog(segmentSize);
  if (seg >= perLog) return null;
  return { timeline: Number.parseInt(match[1]!, 16), segno: log * perLog + seg };
}

export type WalFileKind = 'segment' | 'history' | 'backup-history' | 'partial';

/** Names PostgreSQL may hand to archive_command / restore_command; anything else is refused. */
export function walFileKind(name: string): WalFileKind | null {
  if (SEGMENT_RE.test(name)) return 'segment';
  if (HISTORY_RE.test(name)) return 'history';
  if (BACKUP_HISTORY_RE.test(name)) return 'backup-history';
  if (PARTIAL_RE.test(name)) return 'partial';
  return null;
}

export function historyFileName(timeline: number): string {
  return `${hex8(timeline)}.history`;
}

export function parseHistoryFileTimeline(name: string): number | null {
  const match = HISTORY_RE.exec(name);
  return match ? Number.parseInt(match[1]!, 16) : null;
}

/** One line of a timeline history file: `parentTLI  switchpoint  reason`. */
export interface HistoryEntry {
  timeline: number;
  switchLsn: Lsn;
  reason: string;
}

export function parseHistoryFile(text: string): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const [tli, lsn, ...reason] = trimmed.split(/\s+/);
    if (!tli || !lsn || !/^\d+$/.test(tli)) throw new Error(`malformed timeline history line: ${JSON.stringify(line)}`);
    entries.push({ timeline: Number(tli), switchLsn: parseLsn(lsn), reason: reason.join(' ') });
  }
  return entries;
}

/** A timeline and the WAL position where it begins (0 for the first timeline). */
export interface TimelineSpan {
  timeline: number;
  beginLsn: Lsn;
  /** Where the next timeline branched off, or null for the target timeline itself. */
  endLsn: Lsn | null;
}

/** The path from the oldest ancestor to `target`, as PostgreSQL's expectedTLEs. */
export function timelinePath(target: number, history: HistoryEntry[]): TimelineSpan[] {
  const spans: TimelineSpan[] = [];
  let begin = 0n;
  for (const entry of history) {
    spans.push({ timeline: entry.timeline, beginLsn: begin, endLsn: entry.switchLsn });
    begin = entry.switchLsn;
  }
  spans.push({ timeline: target, beginLsn: begin, endLsn: null });
  return spans;
}

/**
 * Which timeline's file PostgreSQL reads for a segment: the newest timeline that has begun
 * by the end of the segment (the segment holding a switch point is read from the new one).
 */
export function timelineForSegment(segno: bigint, path: TimelineSpan[], segmentSize = DEFAULT_SEGMENT_SIZE): number {
  for (let i = path.length - 1; i >= 0; i--) {
    const span = path[i]!;
    if (segmentOfLsn(span.beginLsn, segmentSize) <= segno) return span.timeline;
  }
  return path[0]!.timeline;
}

/** The segment file names needed to replay from `fromLsn` through segment `toSegno`. */
export function segmentsBetween(fromLsn: Lsn, toSegno: bigint, path: TimelineSpan[], segmentSize = DEFAULT_SEGMENT_SIZE): string[] {
  const names: string[] = [];
  for (let segno = segmentOfLsn(fromLsn, segmentSize); segno <= toSegno; segno++) {
    names.push(segmentName(timelineForSegment(segno, path, segmentSize), segno, segmentSize));
  }
  return names;
}
