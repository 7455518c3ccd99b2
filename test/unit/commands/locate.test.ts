/** `/recover locate` words, and what it shows (pure). */
import { describe, expect, it } from 'vitest';
import { locate } from '../../../commands/locate.js';
import { formatLocate, locateFollowUps, locateNotes, type LocateResult } from '../../../commands/locate-format.js';
import { refusal } from '../../support/refusal.js';

describe('locate words', () => {
  it('takes a table, --db and --since (one or two words), the same in the CLI plus --json', () => {
    expect(locate.parse(['workflows'])).toEqual({ table: 'workflows' });
    expect(locate.parse(['public.workflows', '--db', 'app', '--since', '2025-01-15', '14:00:00+00'])).toEqual({ table: 'public.workflows', db: 'app', since: '2025-01-15 14:00:00+00' });
    expect(locate.parseCli!(['workflows', '--json'])).toEqual({ args: { table: 'workflows' }, cli: { json: true, dryRun: false } });
    expect(locate.risk({ table: 'x' })).toBe('read-only');
  });

  it.each([
    [['workflows', '--where', 'user_id = 12345'], 'cannot be applied to WAL'],
    [[], 'Name the table'],
    [['workflows;drop'], 'table'],
    [['workflows', '--since', '2025-01-15T14:00:00'], 'no time zone'],
    [['workflows', '--since'], 'needs a value'],
    [['workflows', '--db', "x'"], '--db'],
    [['workflows', 'extra'], 'Unexpected words'],
    [['workflows', '--json'], 'Unknown option --json'],
  ])('%j is refused', (words, message) => {
    expect(refusal(() => locate.parse(words)).message).toContain(message);
  });
});

const RESULT: LocateResult = {
  database: 'app', table: 'public.workflows', relfilenodes: ['1663/16384/16385'], from: 'the start of base backup B', firstSegment: '000000010000000000000003', lastSegment: '000000010000000000000004',
  segmentsRead: 2, gapAt: null, tableRecords: 9, abortedTouching: 1, found: 2,
  transactions: [
    { xid: 728, status: 'committed', commitTime: '2026-11-29T15:07:04.995085+00:00', commitLsn: '0/3002C10', subxacts: [729], table: { inserted: 0, updated: 0, deleted: 5, truncated: false }, others: [{ relation: '1663/16384/16393', name: 'audit', inserted: 1, updated: 0, deleted: 0 }], storage: null, oldStorage: [] },
    { xid: 726, status: 'committed', commitTime: '2026-11-29T15:07:04.962640+00:00', commitLsn: '0/3002918', subxacts: [], table: { inserted: 0, updated: 2, deleted: 0, truncated: false }, others: [], storage: null, oldStorage: [] },
  ],
  notes: ['1 transaction(s) changed rows of public.workflows and rolled back: nothing to restore from them, not listed.'],
};

describe('locate output', () => {
  it('the CLI text lists newest first with the exact command to restore just before each', () => {
    const text = formatLocate(RESULT);
    expect(text).toContain('xid 728 (with subtransactions 729), committed 2026-11-29T15:07:04.995085+00:00 (LSN 0/3002C10): public.workflows 5 row(s) deleted; also wrote audit: 1 inserted');
    expect(text).toContain('recover pitr --before-xid 728 --db app');
    expect(text).toContain('recover rows public.workflows --where "…" --before-xid 728 --db app');
    expect(text.indexOf('xid 728')).toBeLessThan(text.indexOf('xid 726'));
  });

  it('Slack follow-ups carry the same commands and the notes', () => {
    const items = locateFollowUps(RESULT);
    expect(items[0]).toContain('/recover pitr --before-xid 728 --db app');
    expect(items.at(-1)).toContain('rolled back');
    expect(locate.summary!({}, RESULT)).toMatchObject({ target: null, recovery: null });
  });
});

describe('locate output: a table truncated and refilled since the backup (issue 17 item 8)', () => {
  const TRUNCATED: LocateResult = {
    ...RESULT,
    relfilenodes: ['1663/5/16484'],
    oldRelfilenodes: ['1663/5/16447'],
    rewrites: [{ xid: 745, commitTime: '2026-12-06T20:18:42.721604+00:00', commitLsn: '0/161E190', from: ['1663/5/16466'], to: ['1663/5/16470'] }],
    found: 3,
    transactions: [
      { xid: 751, status: 'committed', commitTime: '2026-12-06T20:18:46.037809+00:00', commitLsn: '0/162EEF0', subxacts: [], table: { inserted: 0, updated: 0, deleted: 2, truncated: false }, others: [], storage: null, oldStorage: [] },
      { xid: 742, status: 'committed', commitTime: '2026-12-06T20:18:41.049449+00:00', commitLsn: '0/1603D98', subxacts: [], table: { inserted: 0, updated: 0, deleted: 0, truncated: true }, others: [], storage: { kind: 'truncate', from: ['1663/5/16447'], to: ['1663/5/16466'], unresolved: false }, oldStorage: [] },
      { xid: 741, status: 'committed', commitTime: '2026-12-06T20:18:40.382095+00:00', commitLsn: '0/15FBAC0', subxacts: [], table: { inserted: 0, updated: 0, deleted: 1, truncated: false }, others: [], storage: null, oldStorage: ['1663/5/16447'] },
    ],
    notes: [],
  };

  it('says TRUNCATE of the table with its xid, time and commands, and the deletes under the old relfilenode', () => {
    const text = formatLocate(TRUNCATED);
    expect(text).toContain('xid 742, committed 2026-12-06T20:18:41.049449+00:00 (LSN 0/1603D98): TRUNCATE of public.workflows (all rows removed; relfilenode 1663/5/16447 → 1663/5/16466)');
    expect(text).toContain("restore just before it: recover pitr --before-xid 742 --db app   (the table's rows only: recover table public.workflows --before-xid 742 --mode missing-rows --db app, or some rows: recover rows public.workflows --where \"…\" --before-xid 742 --db app)");
    expect(text).toContain('xid 741, committed 2026-12-06T20:18:40.382095+00:00 (LSN 0/15FBAC0): public.workflows 1 row(s) deleted (under its old relfilenode 1663/5/16447, before a later TRUNCATE or rewrite)');
    expect(locateFollowUps(TRUNCATED)[1]).toContain('TRUNCATE of public.workflows (all rows removed; relfilenode 1663/5/16447 → 1663/5/16466) → restore just before it: /recover pitr --before-xid 742 --db app');
  });

  it('notes the old relfilenodes read, a VACUUM FULL (not a candidate), what could not be told apart; no more "only inserts"', () => {
    const notes = locateNotes({ table: 'public.workflows', tableRecords: 13, found: 3, abortedTouching: 0, gapAt: null, partitions: 1, oldRelfilenodes: ['1663/5/16447'], rewrites: TRUNCATED.rewrites, unresolved: [{ xid: 752, commitTime: '2026-12-06T20:18:46.534278+00:00' }] });
    expect(notes[0]).toBe('public.workflows got new storage in the WAL read (TRUNCATE or rewrite): its old relfilenode(s) 1663/5/16447 were read too, and changes made under them are listed.');
    expect(notes[1]).toMatch(/^xid 745, committed 2026-12-06T20:18:42\.721604\+00:00, rewrote public\.workflows \(VACUUM FULL or CLUSTER: its rows copied to relfilenode 1663\/5\/16470, none removed\): not a candidate/);
    expect(notes[2]).toMatch(/^xid 752, .* could not be told apart .* Restore just before it \(--before-xid 752\)/);
    expect(notes.some((note) => note.includes('only inserts'))).toBe(false);
    // A table only inserted into (and rewritten) still says so.
    expect(locateNotes({ table: 't', tableRecords: 3, found: 0, abortedTouching: 0, gapAt: null, partitions: 1, rewrites: TRUNCATED.rewrites })[0]).toBe('No committed transaction deleted, updated or truncated rows of t in the WAL read (only inserts and rewrites that kept every row).');
  });

  it('an older result without storage fields still reads', () => {
    const old = { ...RESULT, transactions: RESULT.transactions.map(({ storage: _s, oldStorage: _o, ...rest }) => rest) } as unknown as LocateResult;
    expect(formatLocate(old)).toContain('public.workflows 5 row(s) deleted');
  });
});
