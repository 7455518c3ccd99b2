import { describe, expect, it, test } from 'vitest';
import { refusal } from '../../support/refusal.js';
import { describeTarget, selectRestore } from '../../../src/catalog/select-restore.js';
import { timeTarget } from '../../../src/catalog/targets.js';
import { parseLsn } from '../../../src/catalog/segments.js';
import type { Catalog } from '../../../src/catalog/catalog.js';
import type { RecoveryTarget } from '../../../src/types.js';
import { at, backup, catalog, linearCatalog, SEG, seg, segment } from './catalog-fixtures.js';

const B1 = '20250115T100000Z';
const B2 = '20250115T102900Z';
const time = (d: Date): RecoveryTarget => ({ kind: 'time', time: d, raw: d.toISOString() });
const range = (timeline: number, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => seg(timeline, from + i));


describe('describeTarget', () => {
  it.each<[RecoveryTarget, string]>([
    [time(at(20, 30)), 'time 2025-01-15T10:20:30.000Z'],
    // Exactly as given: microseconds kept, and the UTC instant when the offset is not UTC.
    [timeTarget('2025-01-15T10:20:30.120555+00'), 'time 2025-01-15T10:20:30.120555Z'],
    [timeTarget('2025-01-15 11:20:30.000001+01:00'), 'time 2025-01-15T11:20:30.000001+01:00 (2025-01-15T10:20:30.000001Z)'],
    [{ kind: 'time', time: at(20, 30), raw: '' }, 'time 2025-01-15T10:20:30.000Z'],
    [{ kind: 'xid', xid: '42' }, 'transaction 42'],
    [{ kind: 'lsn', lsn: 0x3000028n }, 'LSN 0/3000028'],
    [{ kind: 'name', name: 'p1' }, 'restore point "p1"'],
    [{ kind: 'immediate' }, 'the end of the base backup (immediate)'],
    [{ kind: 'latest' }, 'the end of the archived WAL (latest)'],
  ])('%o', (target, text) => expect(describeTarget(target)).toBe(text));
});

describe('selectRestore on one timeline (segments 2..10, archived at 10:10 .. 10:50)', () => {
  it.each<[string, RecoveryTarget, { backupId?: string }, string, [number, number], [number, number]]>([
    ['time after B1 only', time(at(20, 30)), {}, B1, [2, 5], [2, 6]],
    ['time after B2: newest backup before the target', time(at(37)), {}, B2, [6, 8], [6, 9]],
    ['time just after B2 stopped', time(at(31, 1)), {}, B2, [6, 7], [6, 8]],
    ['time in the last segment', time(at(49)), {}, B2, [6, 10], [6, 10]],
    ['latest: newest backup, whole chain', { kind: 'latest' }, {}, B2, [6, 10], [6, 10]],
    ['name: whole chain', { kind: 'name', name: 'before_migration' }, {}, B2, [6, 10], [6, 10]],
    ['xid after B2 started', { kind: 'xid', xid: '5000' }, {}, B2, [6, 10], [6, 10]],
    ['xid between the backups', { kind: 'xid', xid: '3000' }, {}, B1, [2, 10], [2, 10]],
    ['lsn through its segment', { kind: 'lsn', lsn: parseLsn('0/4000100') }, {}, B1, [2, 4], [2, 5]],
    ['lsn after B2 stopped', { kind: 'lsn', lsn: parseLsn('0/9000000') }, {}, B2, [6, 9], [6, 10]],
    ['immediate: through the stop segment only', { kind: 'immediate' }, {}, B2, [6, 7], [6, 8]],
    ['--backup B1 with latest', { kind: 'latest' }, { backupId: B1 }, B1, [2, 10], [2, 10]],
    ['--backup B1 with immediate', { kind: 'immediate' }, { backupId: B1 }, B1, [2, 2], [2, 3]],
  ])('%s', (_name, target, options, backupId, [from, to], [pFrom, pTo]) => {
    const selection = selectRestore(linearCatalog(), target, options);
    expect(selection.backup.id).toBe(backupId);
    expect(selection.timeline).toBe(1);
    expect(selection.requiredSegments).toEqual(range(1, from, to));
    expect(selection.prefetchSegments).toEqual(range(1, pFrom, pTo));
    expect(selection.walBytes).toBe((to - from + 1) * SEG);
  });

  it('reports the window and what to check each download against', () => {
    const selection = selectRestore(linearCatalog(), time(at(20, 30)));
    expect(selection.window).toEqual({ earliest: '2025-01-15T10:01:00.000Z', latest: '2025-01-15T10:50:00.000Z', timeline: 1 });
    expect(selection.path).toEqual([{ timeline: 1, beginLsn: 0n, endLsn: null }]);
    expect([...selection.expected.entries()]).toEqual([
      [seg(1, 2), { size: SEG, sha256: 'sha-2' }],
      [seg(1, 3), { size: SEG }],
      [seg(1, 4), { size: SEG, sha256: 'sha-4' }],
      [seg(1, 5), { size: SEG }],
      [seg(1, 6), { size: SEG, sha256: 'sha-6' }],
    ]);
  });

  it('refuses a time before the first backup finished, with the window in the hint', () => {
    const error = refusal(() => selectRestore(linearCatalog(), time(at(0, 30))));
    expect(error.code).toBe('TARGET_OUTSIDE_WINDOW');
    expect(error.message).toBe('The target time 2025-01-15T10:00:30.000Z is before the first base backup (2025-01-15T10:01:00.000Z).');
    expect(error.hint).toBe('Restorable window (timeline 1): 2025-01-15T10:01:00.000Z … 2025-01-15T10:50:00.000Z.');
  });

  it.each<[string, RecoveryTarget]>([
    ['xid older than every backup', { kind: 'xid', xid: '999' }],
    ['lsn inside the first backup', { kind: 'lsn', lsn: parseLsn('0/2000100') }],
  ])('refuses %s as outside the window', (_name, target) => {
    expect(refusal(() => selectRestore(linearCatalog(), target)).code).toBe('TARGET_OUTSIDE_WINDOW');
  });

  it.each<[string, RecoveryTarget]>([
    ['a time after the newest archived WAL', time(at(55))],
    ['a time equal to the newest archive time', time(at(50))],
    ['an lsn past the newest segment', { kind: 'lsn', lsn: parseLsn('0/B000000') }],
  ])('refuses %s as beyond the archive', (_name, target) => {
    const error = refusal(() => selectRestore(linearCatalog(), target));
    expect(error.code).toBe('TARGET_OUTSIDE_WINDOW');
    expect(error.message).toContain('is beyond the newest archived WAL (2025-01-15T10:50:00.000Z)');
    expect(error.hint).toContain('Restorable window (timeline 1): 2025-01-15T10:01:00.000Z … 2025-01-15T10:50:00.000Z.');
  });

  it('an unknown --backup is NO_BASE_BACKUP listing the known ones', () => {
    const error = refusal(() => selectRestore(linearCatalog(), { kind: 'latest' }, { backupId: '20990101T000000Z' }));
    expect(error.code).toBe('NO_BASE_BACKUP');
    expect(error.message).toBe('Base backup 20990101T000000Z does not exist.');
    expect(error.hint).toContain(`Known backups: ${B1}, ${B2}.`);
  });

  it.each<RecoveryTarget>([{ kind: 'latest' }, time(at(20)), { kind: 'immediate' }])('no backups at all is NO_BASE_BACKUP (%o)', (target) => {
    const empty = catalog([], [segment(1, 2, at(10))]);
    const error = refusal(() => selectRestore(empty, target));
    expect(error.code).toBe('NO_BASE_BACKUP');
    expect(error.message).toBe('There is no base backup to restore from.');
  });
});

describe('selectRestore with a gap (segment 8 missing)', () => {
  const gapped = () => linearCatalog({ drop: [8] });

  it.each<[string, RecoveryTarget]>([
    ['latest', { kind: 'latest' }],
    ['name', { kind: 'name', name: 'p' }],
    ['xid', { kind: 'xid', xid: '6000' }],
    ['time past the gap', time(at(42))],
    ['time before the gap, but archived nothing later', time(at(37))],
    ['lsn past the gap', { kind: 'lsn', lsn: parseLsn('0/9000000') }],
  ])('%s → WAL_GAP naming the missing segment', (_name, target) => {
    const error = refusal(() => selectRestore(gapped(), target));
    expect(error.code).toBe('WAL_GAP');
    expect(error.message).toContain('segment 000000010000000000000008 is missing');
    // The archive time of the last contiguous segment is not a time that restores (a segment is
    // archived after its last commit): the pure refusal names the segment, not that time.
    expect(error.message).toContain('can replay only through segment 000000010000000000000007');
    expect(error.message).not.toContain('can only reach 2025-01-15T10:35:00.000Z');
    expect(error.hint).toContain('before the last transaction in 000000010000000000000007');
  });

  it.each<[string, RecoveryTarget, number]>([
    ['immediate', { kind: 'immediate' }, 7],
    ['time before segment 7 was archived', time(at(33)), 7],
    ['lsn in segment 7', { kind: 'lsn', lsn: parseLsn('0/7000200') }, 7],
  ])('%s is still reachable', (_name, target, last) => {
    const selection = selectRestore(gapped(), target);
    expect(selection.requiredSegments).toEqual(range(1, 6, last));
    expect(selection.prefetchSegments).toEqual(range(1, 6, 7));
  });

  it('a backup whose own WAL is missing cannot be made consistent', () => {
    const error = refusal(() => selectRestore(linearCatalog({ drop: [7] }), { kind: 'immediate' }));
    expect(error.code).toBe('WAL_GAP');
    expect(error.message).toBe(`Base backup ${B2} cannot be made consistent: WAL segment 000000010000000000000007 is missing from the archive.`);
    expect(error.hint).toContain('--backup');
  });

  it('a backup whose start segment is missing names that segment', () => {
    const error = refusal(() => selectRestore(linearCatalog({ drop: [2] }), { kind: 'immediate' }, { backupId: B1 }));
    expect(error.code).toBe('WAL_GAP');
    expect(error.message).toContain('WAL segment 000000010000000000000002 is missing');
  });
});

describe('selectRestore across a timeline switch', () => {
  // Timeline 2 branched at 0/5000A00 (inside segment 5). The old primary also archived its own
  // full segments 5 and 6 on timeline 1; an orphan backup was taken there after the branch.
  const history: [number, { timeline: number; switchLsn: bigint; reason: string }[]][] = [
    [2, [{ timeline: 1, switchLsn: 0x5000a00n, reason: 'no recovery target specified' }]],
  ];
  const b1 = backup(B1, { startLsn: '0/2000028', stopLsn: '0/2000138', startTime: at(0), stopTime: at(1) });
  const orphan = backup('20250115T102700Z', { startLsn: '0/5800028', stopLsn: '0/5800100', startTime: at(27), stopTime: at(28), timeline: 1 });
  const switched = (tl1Last = 6, tl2Last = 7): Catalog =>
    catalog(
      [b1, orphan],
      [
        ...[2, 3, 4, 5, 6].filter((n) => n <= tl1Last).map((n) => segment(1, n, at(5 * n))),
        ...[5, 6, 7].filter((n) => n <= tl2Last).map((n) => segment(2, n, at(5 * n + 1))),
      ],
      history,
    );
  const viaTimeline2 = [seg(1, 2), seg(1, 3), seg(1, 4), seg(2, 5), seg(2, 6), seg(2, 7)];

  it('latest from B1 follows timeline 2, including the switch segment itself', () => {
    const selection = selectRestore(switched(), { kind: 'latest' }, { backupId: B1 });
    expect(selection.timeline).toBe(2);
    expect(selection.path).toEqual([
      { timeline: 1, beginLsn: 0n, endLsn: 0x5000a00n },
      { timeline: 2, beginLsn: 0x5000a00n, endLsn: null },
    ]);
    expect(selection.requiredSegments).toEqual(viaTimeline2);
    expect(selection.window).toEqual({ earliest: '2025-01-15T10:01:00.000Z', latest: '2025-01-15T10:36:00.000Z', timeline: 2 });
  });

  it('a time target after the switch reads the new timeline', () => {
    const selection = selectRestore(catalog([b1], switched().wal.segments, history), time(at(27)));
    expect(selection.requiredSegments).toEqual([seg(1, 2), seg(1, 3), seg(1, 4), seg(2, 5), seg(2, 6)]);
  });

  it('the orphan backup on timeline 1 after the branch stays on timeline 1', () => {
    const selection = selectRestore(switched(), { kind: 'latest' }, { backupId: orphan.id });
    expect(selection.timeline).toBe(1);
    expect(selection.requiredSegments).toEqual([seg(1, 5), seg(1, 6)]);
  });

  it('a missing switch segment on timeline 2 is a gap even when timeline 1 has one', () => {
    const cat = switched();
    cat.wal.segments = cat.wal.segments.filter((s) => s.name !== seg(2, 5));
    const error = refusal(() => selectRestore(cat, { kind: 'latest' }, { backupId: B1 }));
    expect(error.code).toBe('WAL_GAP');
    expect(error.message).toContain(`segment ${seg(2, 5)} is missing`);
  });

  // BUG: reachFrom() takes `newest` as the maximum segment over every timeline on the path,
  // including an ancestor's segments archived past its switch point (the old primary kept
  // archiving). It then walks timeline 2 up to timeline 1's newest segment and reports
  // 000000020000000000000006 as a gap, refusing "latest" with WAL_GAP although timeline 2
  // is complete. Its own doc says newestSegno is "on the path's final timeline".
  test('segments of the old timeline past the switch point are not a gap on the new one', () => {
    const selection = selectRestore(switched(6, 5), { kind: 'latest' }, { backupId: B1 });
    expect(selection.requiredSegments).toEqual([seg(1, 2), seg(1, 3), seg(1, 4), seg(2, 5)]);
  });
});

describe('selectRestore when archiving lagged', () => {
  // BUG: for a time target, requiredEnd() returns the first segment archived after the target
  // even when that is before the backup's stop segment, so requiredSegments stops short of the
  // WAL needed to make the backup consistent (here segment 6 of a backup ending in segment 7,
  // because segment 6 reached the archive late, at 10:32).
  test('required segments always reach the backup stop segment', () => {
    const b = backup(B2, { startLsn: '0/6000028', stopLsn: '0/7000100', startTime: at(29), stopTime: at(31) });
    const lagged = catalog([b], [segment(1, 6, at(32)), segment(1, 7, at(35)), segment(1, 8, at(40))]);
    const selection = selectRestore(lagged, time(at(31, 30)));
    expect(selection.requiredSegments).toEqual([seg(1, 6), seg(1, 7)]);
  });
});
