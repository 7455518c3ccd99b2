import { describe, expect, it } from 'vitest';
import { backupOnPath, coverage, indexSegments, latestTimelineFor, pathTo, reachFrom, rpoExposureSeconds } from '../../../src/catalog/coverage.js';
import { timelinePath } from '../../../src/catalog/segments.js';
import { at, backup, catalog, linearCatalog, SEG, seg, segment } from './catalog-fixtures.js';

const B1 = '20250115T100000Z';
const B2 = '20250115T102900Z';

describe('indexSegments', () => {
  it('indexes names, timelines (from segments and histories) and the newest segment per timeline', () => {
    const cat = catalog(
      [],
      [segment(1, 2, at(10), { sha256: 'h2' }), segment(1, 9, at(45)), segment(3, 4, at(20), { size: 1234 })],
      [[2, [{ timeline: 1, switchLsn: 0x3000000n, reason: '' }]]],
    );
    const index = indexSegments(cat);
    expect(index.timelines).toEqual([1, 2, 3]);
    expect(index.maxSegnoByTimeline).toEqual(new Map([[1, 9n], [3, 4n]]));
    expect(index.byName.get(seg(1, 2))).toEqual({ archivedAt: at(10), size: SEG, sha256: 'h2' });
    expect(index.byName.get(seg(3, 4))).toEqual({ archivedAt: at(20), size: 1234 });
    expect(index.byName.has(seg(1, 3))).toBe(false);
  });
});

describe('backupOnPath / latestTimelineFor', () => {
  const path2 = timelinePath(2, [{ timeline: 1, switchLsn: 0x5000a00n, reason: '' }]);
  const on = (startLsn: string, timeline: number) =>
    backupOnPath(backup('b', { startLsn, stopLsn: startLsn, startTime: at(0), stopTime: at(1), timeline }), path2);

  it.each([
    ['timeline 1 before the branch', '0/2000028', 1, true],
    ['timeline 1 just before the switch point', '0/50009FF', 1, true],
    ['timeline 1 at the switch point', '0/5000A00', 1, false],
    ['timeline 1 after the branch', '0/5800028', 1, false],
    ['timeline 2 after the branch', '0/6000028', 2, true],
    ['timeline 3 is not on the path', '0/6000028', 3, false],
  ])('%s → %s', (_name, startLsn, timeline, expected) => {
    expect(on(startLsn, timeline)).toBe(expected);
  });

  it('picks the newest timeline whose history contains the backup', () => {
    const histories: [number, { timeline: number; switchLsn: bigint; reason: string }[]][] = [
      [2, [{ timeline: 1, switchLsn: 0x5000a00n, reason: '' }]],
      [3, [{ timeline: 1, switchLsn: 0x5000a00n, reason: '' }, { timeline: 2, switchLsn: 0x8000000n, reason: '' }]],
    ];
    const early = backup('early', { startLsn: '0/2000028', stopLsn: '0/2000100', startTime: at(0), stopTime: at(1) });
    const orphan = backup('orphan', { startLsn: '0/6000028', stopLsn: '0/6000100', startTime: at(30), stopTime: at(31) });
    const onTwo = backup('two', { startLsn: '0/9000028', stopLsn: '0/9000100', startTime: at(40), stopTime: at(41), timeline: 2 });
    const cat = catalog([early, orphan, onTwo], [segment(1, 2, at(10)), segment(3, 9, at(45))], histories);
    const index = indexSegments(cat);
    expect(latestTimelineFor(cat, index, early).timeline).toBe(3);
    expect(latestTimelineFor(cat, index, orphan)).toEqual({ timeline: 1, path: [{ timeline: 1, beginLsn: 0n, endLsn: null }] });
    // Timeline 2 branched to 3 at 0/8000000; a backup on 2 after that is only on 2.
    expect(latestTimelineFor(cat, index, onTwo)).toEqual({ timeline: 2, path: pathTo(cat, 2) });
  });
});

describe('reachFrom', () => {
  it.each([
    ['complete chain from B1', [], B1, 10, '2025-01-15T10:50:00.000Z', null],
    ['gap at 8 from B2', [8], B2, 7, '2025-01-15T10:35:00.000Z', seg(1, 8)],
    ['start segment missing', [6], B2, null, null, seg(1, 6)],
  ])('%s', (_name, drop, id, lastSegno, lastArchivedAt, gapAt) => {
    const cat = linearCatalog({ drop });
    const b = cat.backups.find((x) => x.id === id)!;
    const reach = reachFrom(b, pathTo(cat, 1), indexSegments(cat), SEG);
    expect(reach).toEqual({
      lastSegno: lastSegno === null ? null : BigInt(lastSegno),
      lastArchivedAt: lastArchivedAt === null ? null : new Date(lastArchivedAt),
      gapAt,
      newestSegno: 10n,
    });
  });
});

describe('coverage', () => {
  it('a complete timeline: both backups usable, window from the oldest stop to the newest segment', () => {
    expect(coverage(linearCatalog(), SEG)).toEqual([
      {
        timeline: 1,
        firstSegment: seg(1, 2),
        lastSegment: seg(1, 10),
        segmentCount: 9,
        gaps: [],
        earliestRestorable: '2025-01-15T10:01:00.000Z',
        latestRestorable: '2025-01-15T10:50:00.000Z',
        usableBackups: [B1, B2],
      },
    ]);
  });

  it('lists each gap with its first and last missing segment', () => {
    const [tl1] = coverage(linearCatalog({ drop: [4, 5, 8] }), SEG);
    expect(tl1!.gaps).toEqual([
      { from: seg(1, 4), to: seg(1, 5), missing: 2 },
      { from: seg(1, 8), to: seg(1, 8), missing: 1 },
    ]);
    expect(tl1!.segmentCount).toBe(6);
    // B1 reaches segment 3 and B2 segment 7; the window spans both (gaps listed separately).
    expect(tl1!.usableBackups).toEqual([B1, B2]);
    expect(tl1!.earliestRestorable).toBe('2025-01-15T10:01:00.000Z');
    expect(tl1!.latestRestorable).toBe('2025-01-15T10:35:00.000Z');
  });

  it('a backup without its own WAL is not usable', () => {
    const [tl1] = coverage(linearCatalog({ drop: [7] }), SEG);
    expect(tl1!.usableBackups).toEqual([B1]);
    expect(tl1!.latestRestorable).toBe('2025-01-15T10:30:00.000Z');
  });

  it('nothing restorable without backups', () => {
    const [tl1] = coverage(catalog([], [segment(1, 2, at(10))]), SEG);
    expect(tl1).toMatchObject({ usableBackups: [], earliestRestorable: null, latestRestorable: null, segmentCount: 1 });
    expect(coverage(catalog([], []), SEG)).toEqual([]);
  });

  it('per timeline after a switch: the orphan backup on timeline 1 is not usable on timeline 2', () => {
    const b1 = backup(B1, { startLsn: '0/2000028', stopLsn: '0/2000138', startTime: at(0), stopTime: at(1) });
    const orphan = backup('orphan', { startLsn: '0/5800028', stopLsn: '0/5800100', startTime: at(27), stopTime: at(28) });
    const cat = catalog(
      [b1, orphan],
      [2, 3, 4, 5].map((n) => segment(1, n, at(5 * n))).concat([5, 6, 7].map((n) => segment(2, n, at(5 * n + 1)))),
      [[2, [{ timeline: 1, switchLsn: 0x5000a00n, reason: '' }]]],
    );
    const [tl1, tl2] = coverage(cat, SEG);
    expect(tl1).toMatchObject({ timeline: 1, usableBackups: [B1, 'orphan'], latestRestorable: '2025-01-15T10:25:00.000Z', lastSegment: seg(1, 5) });
    expect(tl2).toEqual({
      timeline: 2,
      firstSegment: seg(2, 5),
      lastSegment: seg(2, 7),
      segmentCount: 3,
      gaps: [],
      earliestRestorable: '2025-01-15T10:01:00.000Z',
      latestRestorable: '2025-01-15T10:36:00.000Z',
      usableBackups: [B1],
    });
  });
});

describe('rpoExposureSeconds', () => {
  it.each([
    ['90.4 s after the newest segment', new Date(at(50).getTime() + 90_400), 90],
    ['90.6 s after', new Date(at(50).getTime() + 90_600), 91],
    ['exactly at it', at(50), 0],
    ['clock behind the archive', at(45), 0],
  ])('%s', (_name, now, seconds) => {
    expect(rpoExposureSeconds(linearCatalog(), now)).toBe(seconds);
  });

  it('is null when nothing is archived', () => {
    expect(rpoExposureSeconds(catalog([], []), at(50))).toBeNull();
  });

  it('uses the newest archive time, whatever the segment order', () => {
    const cat = catalog([], [segment(1, 9, at(20)), segment(2, 3, at(40))]);
    expect(rpoExposureSeconds(cat, at(41))).toBe(60);
  });
});
