/**
 * Reading pg_waldump (PostgreSQL 15, TZ=UTC) lines: the lines below were copied from running
 * it on a sandbox (an UPDATE of two rows, an UPDATE of a key column, a DELETE inside a
 * savepoint next to an INSERT into another table, a rolled-back DELETE, an unrelated DELETE).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWaldumpLine, relationOfPath, waldumpErrorLsn } from '../../../../src/engine/locate/waldump-lines.js';
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
        others: [{ relation: '1663/16384/16393', inserted: 1, updated: 0, deleted: 0 }], storage: null, oldStorage: [],
      },
      { xid: 727, status: 'committed', commitTime: '2026-11-29T15:07:04.984868+00:00', commitLsn: '0/3002988', subxacts: [], table: { inserted: 0, updated: 1, deleted: 0, truncated: false }, others: [], storage: null, oldStorage: [] },
      { xid: 726, status: 'committed', commitTime: '2026-11-29T15:07:04.962640+00:00', commitLsn: '0/3002918', subxacts: [], table: { inserted: 0, updated: 2, deleted: 0, truncated: false }, others: [], storage: null, oldStorage: [] },
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

/**
 * Storage history, from pg_waldump of a PostgreSQL 15 cluster at wal_level replica (catalog
 * records mostly left out, `inval msgs` cut), after: table w (OID 16447, TOAST 16450, primary
 * key) and a (OID 16459) hold rows, then
 *   741 DELETE FROM w WHERE id = 1          742 TRUNCATE w
 *   743 INSERT 3 rows into w                 744 DELETE FROM w WHERE id = 10
 *   745 VACUUM FULL w                        746 DELETE FROM w WHERE id = 11
 *   747 ALTER TABLE w ALTER id TYPE bigint   748 DELETE FROM a WHERE id = 2
 *   749 TRUNCATE w                           750 INSERT 4 rows into w
 *   751 DELETE FROM w WHERE id IN (20, 21)   752 TRUNCATE a, z
 * Production then has w in 16484 (TOAST 16485, its index 16486, key 16487), a in 16488 (… 16491), z in 16492 (key 16493).
 */
const HISTORY = readFileSync(new URL('./fixtures/waldump-truncate.txt', import.meta.url), 'utf8').split('\n');
const line = (text: string) => HISTORY.find((l) => l.includes(text))!;

describe('parseWaldumpLine: storage records', () => {
  it.each([
    [line('desc: CREATE base/5/16466'), { kind: 'storage-create', xid: 742, lsn: 0x15fbb18n, relation: '1663/5/16466' }],
    ['rmgr: Storage     len (rec/tot):     42/    42, tx:        736, lsn: 0/015948D0, prev 0/015948A0, desc: CREATE pg_tblspc/16428/PG_15_202209061/5/16432', { kind: 'storage-create', xid: 736, relation: '16428/5/16432' }],
    [line('COMMIT 2026-12-06 20:18:41.049449'), { kind: 'xact-end', xid: 742, status: 'commit', time: '2026-12-06T20:18:41.049449+00:00', dropped: ['1663/5/16451', '1663/5/16452', '1663/5/16450', '1663/5/16447'], subxacts: [] }],
    // VACUUM FULL's commit also lists the dropped statistics; only `rels:` is storage.
    [line('COMMIT 2026-12-06 20:18:42.721604'), { xid: 745, dropped: ['1663/5/16466', '1663/5/16467', '1663/5/16469', '1663/5/16468'] }],
    ['rmgr: Transaction len (rec/tot):    114/   114, tx:        736, lsn: 0/01594A40, prev 0/01594A00, desc: COMMIT 2026-12-06 20:03:34.493664 UTC; rels: pg_tblspc/16428/PG_15_202209061/5/16429; inval msgs: catcache 55 catcache 54 relcache 16429', { dropped: ['16428/5/16429'] }],
    ['rmgr: Transaction len (rec/tot):     90/    90, tx:        737, lsn: 0/01598328, prev 0/01598298, desc: ABORT 2026-12-06 20:03:34.898432 UTC; rels: base/5/16436 base/5/16435 base/5/16434 base/5/16433', { status: 'abort', dropped: ['1663/5/16436', '1663/5/16435', '1663/5/16434', '1663/5/16433'] }],
    [line('FPI , blkref #0: rel 1663/5/16470 blk 0'), { kind: 'page-image', xid: 745, relations: ['1663/5/16470'] }],
    // At wal_level logical a TRUNCATE also writes a heap record naming the table by OID.
    ['rmgr: Heap        len (rec/tot):     42/    42, tx:        738, lsn: 0/015A0078, prev 0/015A0038, desc: TRUNCATE nrelids 1 relids 16391', { kind: 'heap', op: 'TRUNCATE', truncatedOids: [16391], relations: [] }],
    [line('desc: DELETE off 1 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/5/16447 blk 0 FPW'), { kind: 'heap', xid: 741, op: 'DELETE', relations: ['1663/5/16447'] }],
  ])('%s', (text, expected) => {
    expect(parseWaldumpLine(text)).toMatchObject(expected);
  });

  it.each([
    'rmgr: XLOG        len (rec/tot):     30/    30, tx:        738, lsn: 0/01598598, prev 0/01598568, desc: NEXTOID 24629',
    'rmgr: XLOG        len (rec/tot):     49/  8193, tx:          0, lsn: 0/01598600, prev 0/01598598, desc: FPI_FOR_HINT , blkref #0: rel 1663/5/16484 blk 0 FPW',
    'rmgr: Storage     len (rec/tot):     42/    42, tx:        755, lsn: 0/01640000, prev 0/0163FF00, desc: CREATE base/5/16500_init',
  ])('ignores %j', (text) => {
    expect(parseWaldumpLine(text)).toBeNull();
  });

  it.each([
    ['base/5/16466', '1663/5/16466'],
    ['global/1262', '1664/0/1262'],
    ['pg_tblspc/16428/PG_15_202209061/5/16432', '16428/5/16432'],
    ['base/5/16466_vm', null],
    ['nonsense', null],
  ])('relationOfPath(%s)', (path, expected) => {
    expect(relationOfPath(path)).toBe(expected);
  });
});

describe('TransactionTracker: the table under its old relfilenodes (TRUNCATE, VACUUM FULL, ALTER TABLE)', () => {
  const rel = (n: number) => `1663/5/${n}`;
  // Production now: its catalogs and the three tables' relations; everything else in the WAL is storage since dropped or replaced.
  const live = new Set([1259, 2608, ...Array.from({ length: 10 }, (_, i) => 16484 + i)].map(rel));
  const track = (current: number, oid: number, own: number[], options: { live?: Set<string> } = { live }) => {
    const tracker = new TransactionTracker(new Set([rel(current)]), new Set([oid]), { ...options, own: new Set(own.map(rel)) });
    for (const text of HISTORY) {
      const record = parseWaldumpLine(text);
      if (record) tracker.add(record);
    }
    return tracker;
  };

  it('lists the TRUNCATEs, the rewrite that wrote rows again, and the DELETEs made under each old relfilenode; VACUUM FULL is a rewrite, not a candidate', () => {
    const tracker = track(16484, 16447, [16484, 16485, 16486, 16487]);
    const listed = tracker.transactions().map((t) => [t.xid, t.table.deleted, t.table.truncated, t.storage && `${t.storage.kind} ${t.storage.from.join(',')} → ${t.storage.to.join(',')}`, t.oldStorage.join(',')]);
    expect(listed).toEqual([
      [751, 2, false, null, ''],
      [749, 0, true, 'truncate 1663/5/16478 → 1663/5/16484', ''],
      [747, 0, false, 'written 1663/5/16470 → 1663/5/16478', ''],
      [746, 1, false, null, '1663/5/16470'],
      [744, 1, false, null, '1663/5/16466'],
      [742, 0, true, 'truncate 1663/5/16447 → 1663/5/16466', ''],
      [741, 1, false, null, '1663/5/16447'],
    ]);
    expect(tracker.transactions().find((t) => t.xid === 742)).toMatchObject({ status: 'committed', commitTime: '2026-12-06T20:18:41.049449+00:00', others: [] });
    expect(tracker.transactions().find((t) => t.xid === 747)!.table.inserted).toBe(1);
    expect(tracker.history()).toEqual({
      oldRelfilenodes: ['1663/5/16478', '1663/5/16470', '1663/5/16466', '1663/5/16447'],
      rewrites: [{ xid: 745, commitTime: '2026-12-06T20:18:42.721604+00:00', commitLsn: '0/161E190', from: ['1663/5/16466'], to: ['1663/5/16470'] }],
      unresolved: [],
      keptFull: false,
    });
    expect(tracker.tableRecords).toBeGreaterThan(2);
  });

  it('TRUNCATE of two tables at once: the old relfilenode named after the table\'s OID is still found', () => {
    const tracker = track(16488, 16459, [16488, 16489, 16490, 16491]);
    expect(tracker.transactions().map((t) => [t.xid, t.table.deleted, t.table.truncated, t.storage?.from, t.oldStorage])).toEqual([
      [752, 0, true, ['1663/5/16459'], []],
      [748, 1, false, undefined, ['1663/5/16459']],
    ]);
  });

  it('…and when it is not (rewritten before the WAL read), the TRUNCATE is listed and what came before is said to be unresolved', () => {
    const tracker = track(16488, 99999, [16488, 16489, 16490, 16491]);
    expect(tracker.transactions().map((t) => [t.xid, t.table.truncated, t.storage?.unresolved])).toEqual([[752, true, true]]);
    expect(tracker.history().unresolved).toEqual([{ xid: 752, commitTime: '2026-12-06T20:18:46.534278+00:00' }]);
  });

  it('without production\'s live relfilenodes, the TRUNCATEs and rewrites are still listed (not the changes under old storage)', () => {
    const tracker = track(16484, 16447, [16484, 16485, 16486, 16487], {});
    expect(tracker.transactions().map((t) => [t.xid, t.table.truncated, t.storage?.from])).toEqual([
      [751, false, undefined],
      [749, true, ['1663/5/16478']],
      [747, false, ['1663/5/16470']],
      [742, true, ['1663/5/16447']],
    ]);
  });

  it('keeps at most maxKept transactions on since-dropped storage, and says so', () => {
    const tracker = new TransactionTracker(new Set([rel(16484)]), new Set([16447]), { live, own: new Set([16484, 16485, 16486, 16487].map(rel)), maxKept: 1 });
    for (const text of HISTORY) {
      const record = parseWaldumpLine(text);
      if (record) tracker.add(record);
    }
    expect(tracker.history().keptFull).toBe(true);
    expect(tracker.transactions().map((t) => t.xid)).toEqual([751, 749, 747, 742, 741]);
  });
});
