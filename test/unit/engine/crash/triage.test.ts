/** Crash triage as a table: from what was read, the local-only WAL, the damage and the recovery chosen. */
import { describe, expect, test } from 'vitest';
import type { ControlData } from '../../../../src/engine/crash/controldata.js';
import { localOnlyWal, localWalEnd, scanStart, segmentBefore, triage, type TriageInput } from '../../../../src/engine/crash/triage.js';
import type { WalScan } from '../../../../src/engine/crash/wal-scan.js';

const MB16 = 16 * 1024 * 1024;
const seg = (n: number, tli = 1) => `${String(tli).padStart(8, '0')}00000000${n.toString(16).toUpperCase().padStart(8, '0')}`;

const control: ControlData = {
  systemIdentifier: '1',
  state: 'in production',
  timeline: 1,
  checkpointLsn: '0/5000398',
  redoLsn: '0/5000360',
  redoWalFile: seg(5),
  checkpointWalFile: seg(5),
  checkpointTime: null,
  walSegmentSize: MB16,
  dataChecksumVersion: 0,
  catalogVersion: '202209061',
  fullPageWrites: true,
  walLogHints: false,
};

const commits = { count: 6, first: { xid: '733', lsn: '0/6000100', time: '2026-12-06 22:58:57.257664' }, last: { xid: '738', lsn: '0/7000370', time: '2026-12-06 22:58:57.351939' }, sample: [] };
const scan: WalScan = { records: 100, firstLsn: '0/5000360', lastRecordLsn: '0/7000370', endLsn: '0/7000398', stopReason: 'invalid record length at 0/7000398: wanted 24, got 0', commits, relationFiles: ['base/16384/16385'] };

const input = (patch: Partial<TriageInput> = {}): TriageInput => ({
  dataDir: '/pg/data',
  running: false,
  control,
  controlError: null,
  // 8 is a recycled future segment: after the end of valid WAL, never "local-only".
  localSegments: [5, 6, 7, 8].map((n) => ({ name: seg(n), size: MB16 })),
  readySegments: [seg(6)],
  archived: new Set([seg(3), seg(4), seg(5)]),
  scan,
  after: null,
  missingRelationFiles: [],
  serverFindings: [],
  newestBackup: { id: 'b1', stopTime: '2026-12-06T22:58:52.688Z', timeline: 1 },
  forceRebuild: false,
  ...patch,
});

describe('the WAL only this host has', () => {
  test('unarchived segments up to the one holding the end of valid WAL; the last partly written', () => {
    const result = triage(input());
    expect(result.localOnly).toEqual({ segments: [seg(6), seg(7)], partial: seg(7), bytes: 2 * MB16, commits, gap: null });
    expect(result.wal).toMatchObject({ endSegment: seg(7), newestArchived: seg(5), ready: 1 });
  });

  test('all archived: nothing only local, no commits counted', () => {
    const result = localOnlyWal({ localSegments: [{ name: seg(5), size: MB16 }], archived: new Set([seg(5)]) }, 1, MB16, seg(5), commits);
    expect(result).toEqual({ segments: [], partial: null, bytes: 0, commits: { count: 0, first: null, last: null, sample: [] }, gap: null });
  });

  test('a segment neither archived nor local between the archive and the tail is a gap', () => {
    const result = localOnlyWal({ localSegments: [7, 8].map((n) => ({ name: seg(n), size: MB16 })), archived: new Set([seg(5)]) }, 1, MB16, seg(8), commits);
    expect(result.gap).toEqual({ from: seg(6), to: seg(6) });
  });

  test('segment boundaries: WAL ending exactly at a boundary ends in the previous segment', () => {
    expect(segmentBefore('0/7000000', 1, MB16)).toBe(seg(6));
    expect(segmentBefore('0/7000001', 1, MB16)).toBe(seg(7));
  });

  test('the scan starts at REDO, or earlier at the first unarchived segment', () => {
    expect(scanStart(control, null)).toBe('0/5000360');
    expect(scanStart(control, seg(4))).toBe('0/4000000');
    expect(scanStart(control, seg(6))).toBe('0/5000360');
  });
});

describe('the recovery chosen', () => {
  test.each<[string, Partial<TriageInput>, string, RegExp]>([
    ['crashed, files intact', {}, 'start', /crash recovery replays the local WAL from REDO 0\/5000360/],
    ['shut down cleanly', { control: { ...control, state: 'shut down' } }, 'start', /shut down cleanly/],
    ['a relation file WAL changes is missing', { missingRelationFiles: ['base/16384/16385'] }, 'rebuild', /missing: crash recovery would recreate them/],
    ['pg_control unreadable', { control: null, controlError: 'CRC mismatch', scan: null }, 'rebuild', /pg_control cannot be read/],
    ['REDO unreadable', { scan: { ...scan, lastRecordLsn: null, endLsn: null, records: 0 } }, 'rebuild', /cannot be read/],
    ['readable WAL after an unreadable record', { after: { ...scan, records: 3, firstLsn: '0/7002000' } }, 'rebuild', /local WAL is damaged/],
    ['running, checks pass', { running: true }, 'healthy', /found no damage/],
    ['running, a table cannot be read', { running: true, serverFindings: ['rows aiagent_prod.workflows: could not open file'] }, 'rebuild', /damaged data/],
    ['a standby, down', { control: { ...control, state: 'in archive recovery' } }, 'replica', /standby \(in archive recovery\) that is down/],
    ['a standby that does not stream', { running: true, standbyStreaming: false, control: { ...control, state: 'in archive recovery' } }, 'replica', /does not stream/],
    ['a standby that streams', { running: true, standbyStreaming: true, control: { ...control, state: 'in archive recovery' } }, 'healthy', /streams/],
    ['--from-backup', { forceRebuild: true }, 'rebuild', /asked for/],
  ])('%s → %s', (_name, patch, path, why) => {
    const result = triage(input(patch));
    expect(result.path).toBe(path);
    expect(result.why).toMatch(why);
  });

  test('intact tail: a rebuild loses nothing (RPO 0)', () => {
    expect(triage(input({ missingRelationFiles: ['base/16384/16385'] })).expectedLoss).toEqual([]);
  });

  test('damaged WAL: the transactions after the damage are named as lost, and why', () => {
    const lost = { count: 2, first: { xid: '740', lsn: '0/7002100', time: '2026-12-06 23:00:00.000000' }, last: { xid: '741', lsn: '0/7002200', time: '2026-12-06 23:00:01.000000' }, sample: [] };
    const result = triage(input({ after: { ...scan, records: 3, firstLsn: '0/7002028', commits: lost } }));
    expect(result.damage).toEqual({ at: '0/7000398', reason: scan.stopReason, lostCommits: lost, resumesAt: '0/7002028' });
    expect(result.expectedLoss.join()).toMatch(/WAL after 0\/7000398 is damaged: 2 committed transactions, from xid 740 at 2026-12-06 23:00:00.000000 UTC to xid 741/);
    expect(result.findings.join()).toMatch(/readable WAL follows from 0\/7002028/);
  });

  test('no backup and a gap are named as what a rebuild would lose', () => {
    const result = triage(input({ newestBackup: null, archived: new Set([seg(4)]), localSegments: [6, 7].map((n) => ({ name: seg(n), size: MB16 })) }));
    expect(result.localOnly.gap).toEqual({ from: seg(5), to: seg(5) });
    expect(result.expectedLoss.join('\n')).toMatch(/neither archived nor in pg_wal[\s\S]*no usable base backup/);
  });
});

describe('localWalEnd: where pg_waldump must stop (it waits 5 s on a missing file)', () => {
  test.each([
    ['files 5-8 from REDO in 5', [5, 6, 7, 8], '0/5000360', '0/9000000'],
    ['a hole after 6', [5, 6, 8], '0/5000360', '0/7000000'],
    ['the start\'s own file missing', [6], '0/5000360', '0/5000000'],
  ])('%s', (_name, present, start, end) => {
    expect(localWalEnd(present.map((n) => ({ name: seg(n), size: MB16 })), 1, MB16, start)).toBe(end);
  });
});
