/**
 * Reading pg_waldump (PostgreSQL 15, TZ=UTC) lines: the lines below were copied from running
 * it on a sandbox (an UPDATE of two rows, an UPDATE of a key column, a DELETE inside a
 * savepoint next to an INSERT into another table, a rolled-back DELETE, an unrelated DELETE).
 */
import { describe, expect, it } from 'vitest';
import { parseWaldumpLine, waldumpErrorLsn } from '../../../../src/engine/locate/waldump-lines.js';
import { TransactionTracker } from '../../../../src/engine/locate/transactions.js';

const DUMP = `rmgr: Heap2       len (rec/tot):     59/  8043, tx:          0, lsn: 0/03000028, prev 0/02000100, desc: PRUNE latestRemovedXid 0 nredirected 0 ndead 1, blkref #0: rel 1663/16384/1249 blk 64 FPW
rmgr: Heap        len (rec/tot):     65/  2333, tx:        726, lsn: 0/03001F98, prev 0/03000028, desc: HOT_UPDATE off 10 xmax 726 flags 0x00 ; new off 51 xmax 0, blkref #0: rel 1663/16384/16385 blk 0 FPW
rmgr: Heap        len (rec/tot):     70/    70, tx:        726, lsn: 0/030028D0, prev 0/03001F98, desc: HOT_UPDATE off 11 xmax 726 flags 0x20 ; new off 52 xmax 0, blkref #0: rel 1663/16384/16385 blk 0
rmgr: Transaction len (rec/tot):     34/    34, tx:        726, lsn: 0/03002918, prev 0/030028D0, desc: COMMIT 2026-11-29 15:07:04.962640 UTC
rmgr: Heap        len (rec/tot):     71/    71, tx:        727, lsn: 0/03002940, prev 0/03002918, desc: HOT_UPDATE off 20 xmax 727 flags 0x60 ; new off 53 xmax 0, blkref #0: rel 1663/16384/16385 blk 0
rmgr: Transaction len (rec/tot):     34/    34, tx:        727, lsn: 0/03002988, prev 0/03002940, desc: COMMIT 2026-11-29 15:07:04.984868 UTC
rmgr: Heap        len (rec/tot):     61/    61, tx:        728, lsn: 0/03002A18, prev 0/030029B0, desc: INSERT+INIT off 1 flags 0x00, blkref #0: rel 1663/16384/16393 blk 0
rmgr: Heap        len (rec/tot):     54/    54, tx:        729, lsn: 0/03002AF8, prev 0/03002AB8, desc: DELETE off 1 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/16384/16385 blk 0
rmgr: Heap        len (rec/tot):     54/    54, tx:        729, lsn: 0/03002B30, prev 0/03002AF8, desc: DELETE off 2 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/16384/16385 blk 0
rmgr: Heap        len (rec/tot):     54/    54, tx:        729, lsn: 0/03002B68, prev 0/03002B30, desc: DELETE off 3 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/16384/16385 blk 0
rmgr: Heap        len (rec/tot):     54/    54, tx:        729, lsn: 0/03002BA0, prev 0/03002B68, desc: DELETE off 4 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/16384/16385 blk 0
rmgr: Heap        len (rec/tot):     54/    54, tx:        729, lsn: 0/03002BD8, prev 0/03002BA0, desc: DELETE off 5 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/16384/16385 blk 0
rmgr: Transaction len (rec/tot):     46/    46, tx:        728, lsn: 0/03002C10, prev 0/03002BD8, desc: COMMIT 2026-11-29 15:07:04.995085 UTC; subxacts: 729
rmgr: Heap        len (rec/tot):     54/    54, tx:        730, lsn: 0/03002C40, prev 0/03002C10, desc: DELETE off 30 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/16384/16385 blk 0
rmgr: Transaction len (rec/tot):     34/    34, tx:        730, lsn: 0/03002C78, prev 0/03002C40, desc: ABORT 2026-11-29 15:07:05.016327 UTC
rmgr: Heap        len (rec/tot):     54/    54, tx:        731, lsn: 0/03002CA0, prev 0/03002C78, desc: DELETE off 1 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/16384/16393 blk 0
rmgr: Transaction len (rec/tot):     34/    34, tx:        731, lsn: 0/03002CD8, prev 0/03002CA0, desc: COMMIT 2026-11-29 15:07:05.026210 UTC`.split('\n');

describe('parseWaldumpLine', () => {
  it.each([
    [DUMP[7]!, { kind: 'heap', xid: 729, lsn: 0x3002af8n, op: 'DELETE', tuples: 1, relations: ['1663/16384/16385'], truncatedOids: [] }],
    [DUMP[1]!, { kind: 'heap', xid: 726, op: 'HOT_UPDATE', relations: ['1663/16384/16385'] }],
    [DUMP[6]!, { kind: 'heap', xid: 728, op: 'INSERT', relations: ['1663/16384/16393'] }],
    [DUMP[0]!, { kind: 'heap', xid: 0, op: 'PRUNE', relations: ['1663/16384/1249'] }],
    [DUMP[12]!, { kind: 'xact-end', xid: 728, lsn: 0x3002c10n, status: 'commit', time: '2026-11-29T15:07:04.995085+00:00', subxacts: [729] }],
    [DUMP[14]!, { kind: 'xact-end', xid: 730, status: 'abort', time: '2026-11-29T15:07:05.016327+00:00', subxacts: [] }],
    [
      'rmgr: Heap        len (rec/tot):     79/    79, tx:        740, lsn: 0/0301A2C8, prev 0/0301A290, desc: UPDATE off 7 xmax 740 flags 0x00 ; new off 2 xmax 0, blkref #0: rel 1663/16384/16385 blk 3, blkref #1: rel 1663/16384/16385 blk 0',
      { op: 'UPDATE', relations: ['1663/16384/16385'] },
    ],
    ['rmgr: Heap2       len (rec/tot):   1255/  1255, tx:        741, lsn: 0/0301B000, prev 0/0301A2C8, desc: MULTI_INSERT+INIT 100 tuples flags 0x02, blkref #0: rel 1663/16384/16385 blk 4', { op: 'MULTI_INSERT', tuples: 100 }],
    ['rmgr: Heap        len (rec/tot):     42/    42, tx:        742, lsn: 0/0301C000, prev 0/0301B000, desc: TRUNCATE nrelids 2 relids 16385 16393', { op: 'TRUNCATE', relations: [], truncatedOids: [16385, 16393] }],
    ['rmgr: Transaction len (rec/tot):     34/    34, tx:          0, lsn: 0/0301D000, prev 0/0301C000, desc: COMMIT_PREPARED 743: 2026-11-29 15:07:06 UTC', { xid: 743, status: 'commit', time: '2026-11-29T15:07:06.000000+00:00' }],
    ['rmgr: Transaction len (rec/tot):    170/   170, tx:        744, lsn: 0/0301E000, prev 0/0301D000, desc: COMMIT 2026-11-29 15:07:07.5 UTC; rels: base/16384/16400; subxacts: 745 746; inval msgs: catcache 45', { xid: 744, time: '2026-11-29T15:07:07.500000+00:00', subxacts: [745, 746] }],
    // Other vm fork blocks are not the table's rows.
    ['rmgr: Heap2       len (rec/tot):     59/    59, tx:          0, lsn: 0/0301F000, prev 0/0301E000, desc: VISIBLE cutoff xid 740 flags 0x01, blkref #0: rel 1663/16384/16385 fork vm blk 0, blkref #1: rel 1663/16384/16385 blk 0', { op: 'VISIBLE', relations: ['1663/16384/16385'] }],
  ])('%s', (line, expected) => {
    expect(parseWaldumpLine(line)).toMatchObject(expected);
  });

  it.each([
    'rmgr: Transaction len (rec/tot):    102/   102, tx:          0, lsn: 0/03002A40, prev 0/03002A18, desc: RUNNING_XACTS nextXid 732 latestCompletedXid 731 oldestRunningXid 732',
    'rmgr: Btree       len (rec/tot):     64/    64, tx:        728, lsn: 0/03002A58, prev 0/03002A18, desc: INSERT_LEAF off 1, blkref #0: rel 1663/16384/16396 blk 1',
    'pg_waldump: error: error in WAL record at 0/3002D10: invalid record length at 0/3002D48: wanted 24, got 0',
    '',
  ])('ignores %j', (line) => {
    expect(parseWaldumpLine(line)).toBeNull();
  });

  it('reads where pg_waldump stopped', () => {
    expect(waldumpErrorLsn('pg_waldump: error: error in WAL record at 0/3002D10: invalid record length')).toBe(0x3002d10n);
    expect(waldumpErrorLsn('pg_waldump: error: could not open file')).toBeNull();
  });
});

describe('TransactionTracker', () => {
  const track = (lines: string[], relation = '1663/16384/16385') => {
    const tracker = new TransactionTracker(new Set([relation]), new Set([16385]));
    for (const line of lines) {
      const record = parseWaldumpLine(line);
      if (record) tracker.add(record);
    }
    return tracker;
  };

  it('lists committed transactions that deleted or updated rows, newest first, under the top-level xid', () => {
    const tracker = track(DUMP);
    expect(tracker.transactions()).toEqual([
      {
        xid: 728, status: 'committed', commitTime: '2026-11-29T15:07:04.995085+00:00', commitLsn: '0/3002C10', subxacts: [729],
        table: { inserted: 0, updated: 0, deleted: 5, truncated: false },
        others: [{ relation: '1663/16384/16393', inserted: 1, updated: 0, deleted: 0 }],
      },
      { xid: 727, status: 'committed', commitTime: '2026-11-29T15:07:04.984868+00:00', commitLsn: '0/3002988', subxacts: [], table: { inserted: 0, updated: 1, deleted: 0, truncated: false }, others: [] },
      { xid: 726, status: 'committed', commitTime: '2026-11-29T15:07:04.962640+00:00', commitLsn: '0/3002918', subxacts: [], table: { inserted: 0, updated: 2, deleted: 0, truncated: false }, others: [] },
    ]);
    // The rolled-back DELETE of one row changed nothing; it is counted, not listed.
    expect(tracker.abortedTouching).toBe(1);
    expect(tracker.tableRecords).toBe(9);
  });

  it('a transaction without its commit in the WAL read is listed first, as open', () => {
    const transactions = track(DUMP.slice(0, 12)).transactions();
    expect(transactions[0]).toMatchObject({ xid: 729, status: 'open', commitTime: null, table: { deleted: 5 } });
    expect(transactions.map((t) => t.xid)).toEqual([729, 727, 726]);
  });

  it('a relfilenode with no records says so (tableRecords 0)', () => {
    const tracker = track(DUMP, '1663/16384/99999');
    expect(tracker.transactions()).toEqual([]);
    expect(tracker.tableRecords).toBe(0);
  });

  it('a TRUNCATE of the table (by OID) is a candidate', () => {
    const tracker = track([
      'rmgr: Heap        len (rec/tot):     42/    42, tx:        742, lsn: 0/0301C000, prev 0/0301B000, desc: TRUNCATE nrelids 1 relids 16385',
      'rmgr: Transaction len (rec/tot):     34/    34, tx:        742, lsn: 0/0301C100, prev 0/0301C000, desc: COMMIT 2026-11-29 15:07:06.000001 UTC',
    ]);
    expect(tracker.transactions()).toMatchObject([{ xid: 742, table: { truncated: true } }]);
  });
});
