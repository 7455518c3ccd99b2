import { describe, expect, it } from 'vitest';
import { leftoversOf } from '../../../../src/engine/dumps/list.js';
import type { DumpEntry } from '../../../../src/engine/dumps/manifest.js';
import { planDumpRetention, stampTime, type DumpLeftover, type DumpRetentionPolicy } from '../../../../src/engine/dumps/retention.js';
import { manifestFor } from '../../../support/dump-manifest-fixture.js';

const ok = (database: string, stamp: string): DumpEntry => ({ database, stamp, manifest: manifestFor(database, stamp), problem: null });
const damaged = (database: string, stamp: string): DumpEntry => ({ database, stamp, manifest: null, problem: 'manifest.json unreadable: Unexpected token' });
const now = new Date('2025-01-20T03:00:00Z');
// One dump a day at 02:00 for 1..19 January, plus a damaged one on the 5th.
const daily = Array.from({ length: 19 }, (_, i) => ok('app', `202501${String(i + 1).padStart(2, '0')}020000`));

const kept = (entries: DumpEntry[], policy: DumpRetentionPolicy) =>
  planDumpRetention(entries, [], policy, now).dumps.filter((d) => d.keep).map((d) => `${d.database}/${d.stamp.slice(6, 8)}`);

describe('planDumpRetention', () => {
  it.each<[string, DumpEntry[], DumpRetentionPolicy, string[]]>([
    ['no policy: every dump kept', daily.slice(0, 3), {}, ['app/01', 'app/02', 'app/03']],
    ['newest 2', daily, { count: 2 }, ['app/18', 'app/19']],
    ['7 days (stamp within 7 × 24 h of now)', daily, { days: 7 }, ['app/14', 'app/15', 'app/16', 'app/17', 'app/18', 'app/19']],
    ['either rule keeps', daily, { count: 10, days: 3 }, daily.slice(9).map((d) => `app/${d.stamp.slice(6, 8)}`)],
    ['the newest complete dump is kept even outside the days', daily.slice(0, 2), { days: 1 }, ['app/02']],
    ['per database: each keeps its own newest N', [...daily.slice(0, 3), ok('crm', '20250101020000'), ok('crm', '20250102020000')], { count: 1 }, ['app/03', 'crm/02']],
    ['a damaged dump is kept (look at it) and not counted as the newest', [...daily.slice(0, 3), damaged('app', '20250110020000')], { count: 1 }, ['app/03', 'app/10']],
  ])('%s', (_name, entries, policy, expected) => {
    expect(kept(entries, policy)).toEqual(expected);
  });

  it('says why each one goes or stays', () => {
    const plan = planDumpRetention(daily.slice(16), [], { count: 1, days: 3 }, now);
    expect(plan.dumps.map((d) => [d.stamp.slice(6, 8), d.keep, d.reasons])).toEqual([
      ['17', false, ['expires: older than the newest 1 and 3 days per database']],
      ['18', true, ['kept: within 3 days']],
      ['19', true, ['kept: the newest complete dump', 'kept: one of the newest 1', 'kept: within 3 days']],
    ]);
  });

  it('a failed upload (no manifest) goes once idle for 24 h, with or without a policy', () => {
    const leftovers: DumpLeftover[] = [
      { database: 'app', stamp: '20250118020000', lastWrite: '2025-01-18T02:05:00.000Z', blobs: 3 },
      { database: 'app', stamp: '20250120020000', lastWrite: '2025-01-20T02:05:00.000Z', blobs: 1 },
    ];
    for (const policy of [{}, { count: 3 }]) {
      expect(planDumpRetention([], leftovers, policy, now).leftovers.map((l) => [l.stamp, l.delete])).toEqual([
        ['20250118020000', true],
        ['20250120020000', false],
      ]);
    }
  });

  it('reads a stamp as a UTC second', () => {
    expect(stampTime('20250115142959').toISOString()).toBe('2025-01-15T14:29:59.000Z');
  });
});

describe('leftoversOf', () => {
  const at = (iso: string) => new Date(iso);
  it('groups blobs by database and stamp, keeps the directories without a manifest, newest write', () => {
    const blobs = [
      { key: 'app/20250101020000/files/toc.dat', lastModified: at('2025-01-01T02:01:00Z') },
      { key: 'app/20250101020000/manifest.json', lastModified: at('2025-01-01T02:02:00Z') },
      { key: 'app/20250102020000/files/toc.dat', lastModified: at('2025-01-02T02:01:00Z') },
      { key: 'app/20250102020000/files/3001.dat.gz', lastModified: at('2025-01-02T02:03:00Z') },
      { key: 'app/not-a-stamp/x', lastModified: at('2025-01-02T02:03:00Z') },
      { key: 'stray.txt', lastModified: at('2025-01-02T02:03:00Z') },
    ];
    expect(leftoversOf(blobs, new Set(['app/20250101020000/manifest.json']))).toEqual([{ database: 'app', stamp: '20250102020000', lastWrite: '2025-01-02T02:03:00.000Z', blobs: 2 }]);
  });
});
