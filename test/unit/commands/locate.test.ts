/** `/recover locate` words, and what it shows (pure). */
import { describe, expect, it } from 'vitest';
import { locate } from '../../../commands/locate.js';
import { formatLocate, locateFollowUps, type LocateResult } from '../../../commands/locate-format.js';
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
    { xid: 728, status: 'committed', commitTime: '2026-11-29T15:07:04.995085+00:00', commitLsn: '0/3002C10', subxacts: [729], table: { inserted: 0, updated: 0, deleted: 5, truncated: false }, others: [{ relation: '1663/16384/16393', name: 'audit', inserted: 1, updated: 0, deleted: 0 }] },
    { xid: 726, status: 'committed', commitTime: '2026-11-29T15:07:04.962640+00:00', commitLsn: '0/3002918', subxacts: [], table: { inserted: 0, updated: 2, deleted: 0, truncated: false }, others: [] },
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
