import { describe, expect, it } from 'vitest';
import type { Catalog } from '../../../../src/catalog/catalog.js';
import { formatLsn, type HistoryEntry } from '../../../../src/catalog/segments.js';
import { planRetention, type RetentionPolicy } from '../../../../src/engine/retention/plan.js';
import { backup, catalog, SEG, seg, segment } from '../../catalog/catalog-fixtures.js';

/** 2025-01-01 plus `n` days (fractions allowed), UTC. */
const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);
const NOW = day(30);
const lsnIn = (segno: number, offset = 0x28) => formatLsn(BigInt(segno) * BigInt(SEG) + BigInt(offset));

/** A complete backup on `timeline` starting in segment `startSeg` and stopping one segment later, `stopDay` days after Jan 1. */
const bk = (id: string, timeline: number, startSeg: number, stopDay: number) =>
  backup(id, { startLsn: lsnIn(startSeg), stopLsn: lsnIn(startSeg + 1, 0x100), startTime: day(stopDay - 0.01), stopTime: day(stopDay), timeline });

const segs = (timeline: number, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => segment(timeline, from + i, day(0)));
const names = (timeline: number, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => seg(timeline, from + i));
const branch = (parent: number, segno: number): HistoryEntry => ({ timeline: parent, switchLsn: BigInt(segno) * BigInt(SEG) + 0x100n, reason: 'no recovery target specified' });

const kept = (cat: Catalog, policy: RetentionPolicy) => planRetention(cat, policy, NOW).backups.filter((b) => b.keep).map((b) => b.id);

describe('planRetention: one timeline', () => {
  // Four backups, 20, 23, 27 and 29 days after Jan 1 (now is day 30); WAL segments 1..40.
  const linear = () => catalog([bk('A', 1, 2, 20), bk('B', 1, 10, 23), bk('C', 1, 20, 27), bk('D', 1, 30, 29)], segs(1, 1, 40));

  it.each<[string, RetentionPolicy, string[], string | null]>([
    ['the newest 2', { full: 2 }, ['C', 'D'], seg(1, 19)],
    ['the newest 1', { full: 1 }, ['D'], seg(1, 29)],
    ['5 days: within them, and the newest before them (restores the window start)', { days: 5 }, ['B', 'C', 'D'], seg(1, 9)],
    ['2 days', { days: 2 }, ['C', 'D'], seg(1, 19)],
    ['a backup any rule keeps is kept (union)', { full: 1, days: 5 }, ['B', 'C', 'D'], seg(1, 9)],
    ['more than there are', { full: 10 }, ['A', 'B', 'C', 'D'], seg(1, 1)],
    ['0 days still keeps the newest', { days: 0 }, ['D'], seg(1, 29)],
  ])('%s', (_name, policy, keep, lastDeleted) => {
    const plan = planRetention(linear(), policy, NOW);
    expect(plan.backups.filter((b) => b.keep).map((b) => b.id)).toEqual(keep);
    expect(plan.wal.delete.at(-1) ?? null).toBe(lastDeleted);
    expect(plan.wal.delete[0]).toBe(seg(1, 1));
    // WAL goes oldest first, every file before the oldest kept backup's start, nothing after.
    expect(plan.wal.delete).toEqual(names(1, 1, plan.wal.delete.length));
  });

  it('says why each backup is kept or goes', () => {
    const plan = planRetention(linear(), { full: 2, days: 2 }, NOW);
    expect(Object.fromEntries(plan.backups.map((b) => [b.id, b.reasons]))).toEqual({
      A: ['not one of the newest 2', "older than 2 days, and a newer backup restores the window's start"],
      B: ['not one of the newest 2', "older than 2 days, and a newer backup restores the window's start"],
      C: ['one of the newest 2', 'restores the start of the 2-day window'],
      D: ['newest backup', 'one of the newest 2', 'within 2 days'],
    });
    expect(plan.earliestRestorable).toBe(day(27).toISOString());
    expect(plan.wal.kept).toEqual([{ timeline: 1, first: seg(1, 20), last: seg(1, 40), files: 21 }]);
    expect(plan.wal.deleted).toEqual([{ timeline: 1, first: seg(1, 1), last: seg(1, 19), files: 19 }]);
  });

  it.each<[string, Catalog, RetentionPolicy, string]>([
    ['no policy', linear(), {}, 'no retention policy (RECOVER_RETENTION_FULL, RECOVER_RETENTION_DAYS)'],
    ['no complete backup', catalog([], segs(1, 1, 40)), { full: 1 }, 'no complete backup'],
  ])('deletes nothing at all with %s', (_name, cat, policy, why) => {
    const plan = planRetention({ ...cat, unreadableBackups: [{ id: 'X', reason: 'no manifest.json', lastWrite: day(1).toISOString() }] }, policy, NOW);
    expect(plan.nothingDeleted).toBe(why);
    expect(plan.backups.every((b) => b.keep)).toBe(true);
    expect(plan.wal.delete).toEqual([]);
    expect(plan.incomplete).toEqual([{ id: 'X', delete: false, reason: `kept: ${why}` }]);
  });
});

describe('planRetention: timelines', () => {
  // Timeline 1: segments 1..20, backups A (seg 2) and B (seg 10). Timeline 2 branches from 1 in
  // segment 15: 15..30, backup C (seg 22). Timeline 3 branches from 2 in segment 26: 26..35,
  // backup D (seg 32). Timeline 1's last segment before the promotion as .partial, a .backup file.
  const histories: [number, HistoryEntry[]][] = [
    [2, [branch(1, 15)]],
    [3, [branch(1, 15), branch(2, 26)]],
  ];
  const three = () => {
    const cat = catalog([bk('A', 1, 2, 10), bk('B', 1, 10, 12), bk('C', 2, 22, 20), bk('D', 3, 32, 28)], [...segs(1, 1, 20), ...segs(2, 15, 30), ...segs(3, 26, 35)], histories);
    cat.wal.others.push(`${seg(1, 15)}.partial`, `${seg(1, 2)}.00000028.backup`, 'README.txt');
    return cat;
  };

  it('the newest 2: timeline 1 is needed by no kept backup; timeline 2 from C on; timeline 3 whole', () => {
    const plan = planRetention(three(), { full: 2 }, NOW);
    expect(plan.backups.filter((b) => b.keep).map((b) => b.id)).toEqual(['C', 'D']);
    expect(plan.wal.kept).toEqual([
      { timeline: 2, first: seg(2, 22), last: seg(2, 30), files: 9 },
      { timeline: 3, first: seg(3, 26), last: seg(3, 35), files: 10 },
    ]);
    expect(new Set(plan.wal.delete)).toEqual(new Set([...names(1, 1, 20), ...names(2, 15, 21), `${seg(1, 15)}.partial`, `${seg(1, 2)}.00000028.backup`]));
    // Oldest first, a timeline's file before a newer timeline's of the same segment.
    expect(plan.wal.delete.slice(0, 3)).toEqual([seg(1, 1), seg(1, 2), `${seg(1, 2)}.00000028.backup`]);
    expect(plan.wal.delete.indexOf(seg(1, 15))).toBeLessThan(plan.wal.delete.indexOf(seg(2, 15)));
    expect(plan.wal.delete).not.toContain('README.txt');
  });

  it('the newest 3: B (before the branch) keeps timeline 1 from its start and the descendants whole', () => {
    const plan = planRetention(three(), { full: 3 }, NOW);
    expect(plan.backups.filter((b) => b.keep).map((b) => b.id)).toEqual(['B', 'C', 'D']);
    expect(plan.wal.delete).toEqual([seg(1, 1), seg(1, 2), `${seg(1, 2)}.00000028.backup`, ...names(1, 3, 9)]);
    expect(plan.wal.kept.map((r) => [r.timeline, r.first, r.files])).toEqual([
      [1, seg(1, 10), 12], // 10..20 and the .partial of segment 15
      [2, seg(2, 15), 16],
      [3, seg(3, 26), 10],
    ]);
  });

  it('after an in-place PITR to an earlier point, the newest backup the current timeline can use is kept too', () => {
    // Timeline 1: 1..30 with backups A (2), B (10), C (20), D (25); production went back to
    // segment 12 and runs on timeline 2 (12..18), which C and D (after the branch) cannot restore.
    const cat = catalog([bk('A', 1, 2, 5), bk('B', 1, 10, 10), bk('C', 1, 20, 15), bk('D', 1, 25, 18)], [...segs(1, 1, 30), ...segs(2, 12, 18)], [[2, [branch(1, 12)]]]);
    const plan = planRetention(cat, { full: 2 }, NOW);
    expect(plan.backups.map((b) => [b.id, b.keep, b.reasons[0]])).toEqual([
      ['A', false, 'not one of the newest 2'],
      ['B', true, 'newest backup of the current timeline 2'],
      ['C', true, 'one of the newest 2'],
      ['D', true, 'newest backup'],
    ]);
    expect(plan.wal.delete).toEqual(names(1, 1, 9));
  });

  it('keeps the current timeline from the oldest kept start even when no kept backup lies on its path', () => {
    // Timeline 2 has only a history file naming a switch from timeline 7 (a foreign history): no backup is on its path.
    const cat = catalog([bk('A', 1, 2, 5), bk('B', 1, 10, 10)], [...segs(1, 1, 12), ...segs(2, 5, 14)], [[2, [branch(7, 5)]]]);
    const plan = planRetention(cat, { full: 1 }, NOW);
    expect(plan.wal.delete).toEqual([...names(1, 1, 9).flatMap((n, i) => (i + 1 >= 5 ? [n, seg(2, i + 1)] : [n]))]);
  });
});

describe('planRetention: interrupted uploads', () => {
  const cat = (): Catalog => ({
    ...catalog([bk('A', 1, 2, 10), bk('B', 1, 10, 20)], segs(1, 1, 12)),
    unreadableBackups: [
      { id: 'old', reason: 'no manifest.json (interrupted or foreign upload)', lastWrite: day(15).toISOString() },
      { id: 'after-oldest-kept', reason: 'no manifest.json (interrupted or foreign upload)', lastWrite: day(21).toISOString() },
      { id: 'fresh', reason: 'no manifest.json (interrupted or foreign upload)', lastWrite: day(29.5).toISOString() },
      { id: 'unreadable', reason: 'formatVersion: Invalid input' },
    ],
  });

  it.each<[string, RetentionPolicy, Record<string, boolean>]>([
    ['the newest 1 (B, began day 20)', { full: 1 }, { old: true, 'after-oldest-kept': false, fresh: false, unreadable: false }],
    ['the newest 2 (A, began day 10)', { full: 2 }, { old: false, 'after-oldest-kept': false, fresh: false, unreadable: false }],
  ])('%s', (_name, policy, expected) => {
    const plan = planRetention(cat(), policy, NOW);
    expect(Object.fromEntries(plan.incomplete.map((i) => [i.id, i.delete]))).toEqual(expected);
  });

  it('keeps one written within a day, even older than every kept backup', () => {
    const recent: Catalog = { ...cat(), unreadableBackups: [{ id: 'slow', reason: 'no manifest.json', lastWrite: day(29.5).toISOString() }] };
    const plan = planRetention(recent, { full: 1 }, day(29.6));
    expect(plan.incomplete).toEqual([{ id: 'slow', delete: false, reason: 'kept: written after the oldest kept backup began (may still be uploading)' }]);
    const idle = planRetention({ ...recent, unreadableBackups: [{ id: 'slow', reason: 'no manifest.json', lastWrite: day(19.5).toISOString() }] }, { full: 1 }, day(20.1));
    expect(idle.incomplete[0]).toEqual({ id: 'slow', delete: false, reason: 'kept: written within 24 h (may still be uploading)' });
  });

  it('a manifest that exists but cannot be read is never deleted', () => {
    expect(planRetention(cat(), { full: 1 }, NOW).incomplete.find((i) => i.id === 'unreadable')?.reason).toMatch(/^kept: its manifest cannot be read/);
  });
});

describe('planRetention: kept backups', () => {
  it('counts only complete backups: an interrupted upload is not one of the newest N', () => {
    const cat: Catalog = { ...catalog([bk('A', 1, 2, 10), bk('B', 1, 10, 20)], segs(1, 1, 12)), unreadableBackups: [{ id: 'Z', reason: 'no manifest.json', lastWrite: day(25).toISOString() }] };
    expect(kept(cat, { full: 2 })).toEqual(['A', 'B']);
  });
});
