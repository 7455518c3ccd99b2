/** The comparisons with production in the integrity report (pure): after a rows copy, and a side instance's row counts. */
import { describe, expect, it } from 'vitest';
import { sideComparisonCheck } from '../../../../src/engine/integrity/compare.js';
import { restoredRowsChecks } from '../../../../src/engine/rows/compare-checks.js';
import type { CopyResult, RowsPreview, TableCopy, TablePreview } from '../../../../src/engine/rows/copy-back.js';

const copy = (over: Partial<TableCopy> = {}): TableCopy => ({
  table: 'workflows', restored: 9, skippedPresent: 1, conflicting: 1, different: 1, uniqueConflicts: 0, conflicts: [], parentSkipped: 0, parentSkips: [], rowsBefore: 93, rowsAfter: 102, sideHash: 'a'.repeat(64), productionHash: 'a'.repeat(64), ...over,
});
const after = (over: Partial<TablePreview> = {}): RowsPreview => ({
  table: 'workflows', filter: 'user_id = 1', withChildren: false, digest: 'd',
  totals: { matching: 11, missing: 0, present: 10, different: 1, conflicting: 0, parentSkipped: 0 },
  tables: [{ table: 'workflows', depth: 0, via: null, matching: 11, missing: 0, present: 10, different: 1, conflicting: 0, parentSkipped: 0, sampleMissing: [], sampleDifferent: [], sampleConflicts: [], sampleParentSkipped: [], ...over }],
});
const result = (table: TableCopy): CopyResult => ({ preview: after(), tables: [table], sequences: [], totals: { restored: 0, skippedPresent: 0, conflicting: 0, different: 0, uniqueConflicts: 0, parentSkipped: 0 } });

describe('restored rows compared with the side instance', () => {
  it('passes with the same hash on both sides and nothing missing, saying before/after and what was left alone', () => {
    expect(restoredRowsChecks('app', result(copy()), after())).toEqual([{
      name: 'restored rows app.workflows',
      ok: true,
      message: "9 rows inserted with the side instance's values (hash aaaaaaaaaaaa on both sides); production 93 → 102 rows by the write; side instance: 11 rows match the filter; now 10 present in production with the same values, 1 different, 0 conflicting (left alone)",
    }]);
  });

  it('fails when production stored other values, or a row is still missing (named)', () => {
    const [changed] = restoredRowsChecks('app', result(copy({ productionHash: 'b'.repeat(64) })), after());
    expect(changed).toMatchObject({ ok: false, message: expect.stringContaining('production stored other values than the side instance\'s (hash side aaaaaaaaaaaa, production bbbbbbbbbbbb)') });
    const [missing] = restoredRowsChecks('app', result(copy()), after({ missing: 1, sampleMissing: ['{"id": 7}'] }));
    expect(missing).toMatchObject({ ok: false, message: expect.stringMatching(/; 1 still missing in production, e\.g\. \{"id": 7\}$/) });
  });
});

describe('a side instance compared with production', () => {
  it('informational: passes whatever differs, with the difference per table, and says why it differs', () => {
    const check = sideComparisonCheck('app', 'production', [
      { table: 'workflows', side: 10, production: 0 },
      { table: 'users', side: 5, production: 7 },
      { table: 'events', side: 3, production: 3 },
      { table: 'old_stuff', side: 2, production: null },
    ]);
    expect(check).toEqual({
      name: 'compared with production app',
      ok: true,
      informational: true,
      message: 'informational: the side instance is production at an earlier time, so differences are expected. Row counts: workflows side 10 / production 0 (+10 on the side); users side 5 / production 7 (−2 on the side); old_stuff side 2, not in production; 1 table with the same count',
    });
    expect(sideComparisonCheck('app', 'production', [{ table: 'events', side: 3, production: 3 }]).message).toMatch(/Row counts: the table has the same row count on both$/);
    expect(sideComparisonCheck('gone', 'production', [], true)).toMatchObject({ ok: true, message: expect.stringMatching(/production has no database gone$/) });
  });
});
