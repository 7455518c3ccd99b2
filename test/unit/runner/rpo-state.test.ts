import { describe, expect, it } from 'vitest';
import { assess, decide, noticeText, walSegno, type ArchivingFacts, type ArchivingState } from '../../../src/runner/rpo/state.js';

const RPO = 900;
const archiver = (over: Partial<NonNullable<ArchivingFacts['archiver']>> = {}): NonNullable<ArchivingFacts['archiver']> => ({
  failedCount: 0,
  lastFailedWal: null,
  lastFailedTime: null,
  lastArchivedWal: '000000010000000000000010',
  lastArchivedTime: '2026-01-01T10:00:00.000Z',
  ...over,
});
const facts = (over: Partial<ArchivingFacts> = {}): ArchivingFacts => ({ production: 'aiagent_prod', exposureSeconds: 60, archiver: archiver(), currentWal: '000000010000000000000011', ...over });

describe('assess: archiving facts to ok / exposed / failing', () => {
  it.each<[string, Partial<ArchivingFacts>, ArchivingState, RegExp | null]>([
    ['fresh WAL, archiver fine', {}, 'ok', null],
    ['exactly at the RPO is still ok', { exposureSeconds: RPO }, 'ok', null],
    ['newest archived WAL older than the RPO', { exposureSeconds: RPO + 1 }, 'exposed', /15 min|over the RPO/],
    ['no archived WAL at all', { exposureSeconds: null }, 'exposed', /no archived WAL/],
    ['last attempt failed after the last success', { archiver: archiver({ failedCount: 3, lastFailedWal: '000000010000000000000011', lastFailedTime: '2026-01-01T10:05:00Z' }) }, 'failing', /3 failures.*000000010000000000000011/],
    ['an old failure, archived since', { archiver: archiver({ failedCount: 1, lastFailedTime: '2026-01-01T09:00:00Z' }) }, 'ok', null],
    ['failing wins over exposed', { exposureSeconds: 5000, archiver: archiver({ failedCount: 1, lastFailedTime: '2026-01-01T10:05:00Z' }) }, 'failing', /1 failure so far/],
    ['production unreadable: the catalog alone decides', { archiver: null, currentWal: null, unreadable: 'production (ECONNREFUSED)', exposureSeconds: 2000 }, 'exposed', /not readable: production/],
  ])('%s', (_name, over, state, reason) => {
    const a = assess(facts(over), RPO);
    expect(a.state).toBe(state);
    if (reason) expect(a.reasons.join('\n')).toMatch(reason);
    else expect(a.reasons).toEqual([]);
  });

  it('counts the .ready backlog between the last archived and the current WAL', () => {
    const a = assess(facts({ exposureSeconds: 2000, currentWal: '000000010000000100000002' }), RPO);
    // 0x10 archived, current 1/0x02 = 256 + 2: segments 0x11 … 0x101 are ready.
    expect(a.backlog).toBe(256 + 2 - 16 - 1);
    expect(a.reasons.join('\n')).toMatch(/241 WAL segments waiting/);
    expect(walSegno('not a wal')).toBeNull();
    expect(walSegno('00000002.history')).toBeNull();
    expect(walSegno('000000010000000000000010.00000028.backup')).toBe(16);
  });
});

describe('decide: the alert as held in the control DB to the notice to post', () => {
  const REMIND = 3600;
  it.each<[ArchivingState, boolean, number | null, string | null]>([
    ['ok', false, null, null],
    ['exposed', false, null, 'alert'],
    ['failing', false, null, 'alert'],
    ['exposed', true, 60, null],
    ['failing', true, REMIND - 1, null],
    ['exposed', true, REMIND, 'reminder'],
    ['failing', true, REMIND * 3, 'reminder'],
    ['ok', true, 10, 'recovered'],
    ['ok', true, null, 'recovered'],
  ])('%s, open %s, %s s since the last notice → %s', (state, open, since, expected) => {
    expect(decide(state, { open, sinceNoticeSeconds: since, version: 1 }, REMIND)).toBe(expected);
  });
});

describe('noticeText', () => {
  it('says what is wrong and what to run; the recovery notice says it is back', () => {
    const bad = assess(facts({ exposureSeconds: 1500 }), RPO);
    const alert = noticeText('alert', 'aiagent_prod', bad, RPO);
    expect(alert).toMatch(/past its RPO/);
    expect(alert).toContain('/recover preflight');
    expect(alert).toContain('/recover disk');
    expect(noticeText('reminder', 'aiagent_prod', bad, RPO)).toMatch(/reminder.*still past its RPO/);
    expect(noticeText('recovered', 'aiagent_prod', assess(facts(), RPO), RPO)).toMatch(/back within the RPO/);
  });
});
