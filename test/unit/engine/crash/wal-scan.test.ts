/** pg_controldata and pg_waldump as crash triage reads them (outputs captured from PostgreSQL 15). */
import { describe, expect, test } from 'vitest';
import { parseControlData } from '../../../../src/engine/crash/controldata.js';
import { relationPath, WalScanParser } from '../../../../src/engine/crash/wal-scan.js';
import { isWalPageAt } from '../../../../src/engine/crash/wal-pages.js';

const CONTROLDATA = `pg_control version number:            1300
Catalog version number:               202209061
Database system identifier:           7716326021936428460
Database cluster state:               in production
pg_control last modified:             Sun Dec  6 22:45:57 2026
Latest checkpoint location:           0/1E60028
Latest checkpoint's REDO location:    0/1E5FF90
Latest checkpoint's REDO WAL file:    000000010000000000000001
Latest checkpoint's TimeLineID:       1
Latest checkpoint's full_page_writes: on
Time of latest checkpoint:            Sun Dec  6 22:45:57 2026
Bytes per WAL segment:                16777216
Data page checksum version:           1
`;

describe('parseControlData', () => {
  test('reads the state, timeline, checkpoint, REDO and their segments', () => {
    expect(parseControlData(CONTROLDATA)).toEqual({
      systemIdentifier: '7716326021936428460',
      state: 'in production',
      timeline: 1,
      checkpointLsn: '0/1E60028',
      redoLsn: '0/1E5FF90',
      redoWalFile: '000000010000000000000001',
      checkpointWalFile: '000000010000000000000001',
      checkpointTime: 'Sun Dec  6 22:45:57 2026',
      walSegmentSize: 16777216,
      dataChecksumVersion: 1,
      catalogVersion: '202209061',
      fullPageWrites: true,
      walLogHints: false,
    });
  });

  test.each([
    ['no timeline', CONTROLDATA.replace(/Latest checkpoint's TimeLineID.*\n/, ''), /TimeLineID/],
    ['a garbled REDO', CONTROLDATA.replace('0/1E5FF90', 'zz'), /not an LSN/],
    ['nothing at all', '', /printed no/],
  ])('refuses output with %s', (_name, text, error) => {
    expect(() => parseControlData(text)).toThrow(error);
  });
});

const dump = (lines: string[], options = { commitsFrom: null as bigint | null, relationsFrom: 0n as bigint | null }) => {
  const parser = new WalScanParser({ ...options, catalogVersion: '202209061' });
  for (const line of lines) parser.line(line);
  return parser;
};

const HEAP = (lsn: string, rel: string, extra = '') => `rmgr: Heap        len (rec/tot):     61/    61, tx:        724, lsn: ${lsn}, prev 0/01E705B8, desc: INSERT off 171 flags 0x00, blkref #0: rel ${rel} blk 837${extra}`;
const COMMIT = (lsn: string, xid: string, time: string, tail = '') => `rmgr: Transaction len (rec/tot):   1093/  1093, tx:        ${xid}, lsn: ${lsn}, prev 0/02000028, desc: COMMIT ${time} UTC${tail}`;
const END = 'pg_waldump: error: error in WAL record at 0/2000068: invalid record length at 0/20004B0: wanted 24, got 0';

describe('WalScanParser', () => {
  test('the end of valid WAL is the end of the last readable record, 8-byte aligned; the reason is pg_waldump\'s', () => {
    const scan = dump([HEAP('0/01E705F8', '1663/5/16384'), COMMIT('0/02000068', '724', '2026-12-06 22:45:57.485790')]).finish(END, 1);
    expect(scan).toMatchObject({ records: 2, firstLsn: '0/01E705F8', lastRecordLsn: '0/2000068', endLsn: '0/20004B0', stopReason: 'error in WAL record at 0/2000068: invalid record length at 0/20004B0: wanted 24, got 0' });
  });

  test('counts only the commits from the first unarchived WAL on, with a first, a last and a sample', () => {
    const scan = dump(
      [COMMIT('0/01000100', '700', '2026-12-06 22:00:00.000001'), COMMIT('0/02000068', '724', '2026-12-06 22:45:57.485790'), COMMIT('0/02000500', '725', '2026-12-06 22:45:58.000000')],
      { commitsFrom: 0x2000000n, relationsFrom: null },
    ).finish(END, 1);
    expect(scan.commits.count).toBe(2);
    expect(scan.commits.first).toEqual({ xid: '724', lsn: '0/02000068', time: '2026-12-06 22:45:57.485790' });
    expect(scan.commits.last?.xid).toBe('725');
    expect(scan.relationFiles).toEqual([]);
  });

  test('relation files touched after REDO, main fork only, minus those the WAL creates or drops', () => {
    const scan = dump(
      [
        HEAP('0/01000010', '1663/5/11111'), // before REDO: not counted
        HEAP('0/02000010', '1663/5/16384'),
        'rmgr: Heap2       len (rec/tot):     64/  8256, tx:          0, lsn: 0/02018638, prev 0/02018460, desc: VISIBLE cutoff xid 724 flags 0x01, blkref #0: rel 1663/5/22222 fork vm blk 0 FPW, blkref #1: rel 1664/0/1262 blk 0',
        'rmgr: Storage     len (rec/tot):     42/    42, tx:        726, lsn: 0/02015C38, prev 0/02015C08, desc: CREATE base/5/24579',
        HEAP('0/02016000', '1663/5/24579'),
        HEAP('0/02016100', '1663/5/24580'),
        COMMIT('0/02018460', '728', '2026-12-06 22:46:45.273192', '; rels: base/5/24580; dropped stats: 2/5/24580'),
        HEAP('0/02019000', '16400/5/30000'),
      ],
      { commitsFrom: null, relationsFrom: 0x2000000n },
    ).finish('', 0);
    expect(scan.relationFiles).toEqual(['base/5/16384', 'global/1262', 'pg_tblspc/16400/PG_15_202209061/5/30000']);
    expect(scan.stopReason).toBeNull();
  });

  test('nothing readable: no end, the reason kept', () => {
    const scan = dump([]).finish('pg_waldump: error: could not find file "000000010000000000000003": No such file or directory', 1);
    expect(scan).toMatchObject({ records: 0, lastRecordLsn: null, endLsn: null, stopReason: 'could not find file "000000010000000000000003": No such file or directory' });
  });

  test('relationPath', () => {
    expect(relationPath(1663, 5, 16384, 'x')).toBe('base/5/16384');
    expect(relationPath(1664, 0, 1262, 'x')).toBe('global/1262');
  });
});

describe('isWalPageAt: a page of this WAL, not a recycled or preallocated one', () => {
  const header = (magic: number, tli: number, addr: bigint) => {
    const buffer = Buffer.alloc(24);
    buffer.writeUInt16LE(magic, 0);
    buffer.writeUInt32LE(tli, 4);
    buffer.writeBigUInt64LE(addr, 8);
    return buffer;
  };
  test.each([
    ['written here', header(0xd110, 2, 0x8006000n), true],
    ['zeros (preallocated, or zeroed by damage)', Buffer.alloc(24), false],
    ['a recycled segment: its old address', header(0xd110, 2, 0x3006000n), false],
    ['another timeline', header(0xd110, 1, 0x8006000n), false],
    ['another magic', header(0xd10d, 2, 0x8006000n), false],
    ['too short', Buffer.alloc(8), false],
  ])('%s', (_name, bytes, expected) => {
    expect(isWalPageAt(bytes, 0x8006000n, 2, 0xd110)).toBe(expected);
  });
});
