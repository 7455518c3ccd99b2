import { describe, expect, it } from 'vitest';
import { backups, dumpLines } from '../../../commands/backups.js';
import type { DumpEntry } from '../../../src/engine/dumps/manifest.js';
import { manifestFor } from '../../support/dump-manifest-fixture.js';
import { at, linearCatalog } from '../catalog/catalog-fixtures.js';

const ok = (stamp: string): DumpEntry => ({ database: 'app', stamp, manifest: manifestFor('app', stamp), problem: null });
const dumps = [ok('20250113020000'), ok('20250114020000'), ok('20250115020000')];
const leftover = { database: 'app', stamp: '20250110020000', lastWrite: '2025-01-10T02:03:00.000Z', blobs: 4 };
const now = new Date('2025-01-15T12:00:00Z');

describe('recover backups: scheduled dumps, dump retention, failed uploads', () => {
  it('says per dump what dump retention does with it, and lists failed uploads as never offered', () => {
    expect(dumpLines(dumps, { policy: { count: 2 }, leftovers: [leftover], now })).toEqual([
      'Logical dumps:',
      '  app/20250113020000: 0.0 MB, snapshot 2026-12-06T23:24:00.123Z, LSN 0/3000060; expires: older than the newest 2 per database',
      '  app/20250114020000: 0.0 MB, snapshot 2026-12-06T23:24:00.123Z, LSN 0/3000060; kept: one of the newest 2',
      '  app/20250115020000: 0.0 MB, snapshot 2026-12-06T23:24:00.123Z, LSN 0/3000060; kept: the newest complete dump',
      '  app/20250110020000: failed upload (no manifest, 4 blob(s); never offered for a restore); removed at the next scheduled dump',
      '  Dump retention: keep the newest 2 per database, the newest complete dump of each database always kept',
    ]);
  });

  it('without a policy: the dumps as before, no fates', () => {
    expect(dumpLines(dumps.slice(0, 1), { now })).toEqual(['Logical dumps:', '  app/20250113020000: 0.0 MB, snapshot 2026-12-06T23:24:00.123Z, LSN 0/3000060']);
    expect(dumpLines([], { now })).toEqual(['Logical dumps:', '  (none)']);
  });

  it('shows the dump schedule beside the backup schedule', () => {
    const base = { now: at(52), production: { name: 'aiagent_prod' }, requestId: 'r1', rpoObjectiveSeconds: 900, catalog: linearCatalog() };
    expect(backups.plan!({}, { ...base, dumpSchedule: '30 1 * * *' }).facts['Scheduled dumps']).toBe('30 1 * * * (UTC), next 2025-01-16T01:30:00.000Z');
    expect(backups.plan!({}, base).facts['Scheduled dumps']).toBe('none (RECOVER_DUMP_SCHEDULE unset)');
  });
});
