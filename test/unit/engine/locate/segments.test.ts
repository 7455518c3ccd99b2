/** Which segments locate reads: from the newest backup or --since (minus a margin) to the first gap, bounded; chunks. */
import { describe, expect, it } from 'vitest';
import { chunkSegments, locateSegments } from '../../../../src/engine/locate/segments.js';
import { refusal } from '../../../support/refusal.js';
import { at, linearCatalog, seg } from '../../catalog/catalog-fixtures.js';

describe('locateSegments', () => {
  it('reads from the newest base backup through the last archived segment', () => {
    const wal = locateSegments(linearCatalog(), null);
    expect(wal.segments).toEqual([6, 7, 8, 9, 10].map((n) => seg(1, n)));
    expect(wal.from).toContain('20250115T102900Z');
    expect(wal.gapAt).toBeNull();
  });

  it('--since starts at the first segment archived after it minus 5 minutes, even before the newest backup', () => {
    // Segment n is archived at 10:(5n): --since 10:22 → cut-off 10:17 → segment 4 (10:20).
    expect(locateSegments(linearCatalog(), at(22)).segments[0]).toBe(seg(1, 4));
    refusal(() => locateSegments(linearCatalog(), at(59)));
  });

  it('stops before a gap and says where', () => {
    const wal = locateSegments(linearCatalog({ drop: [9] }), null);
    expect(wal.segments).toEqual([6, 7, 8].map((n) => seg(1, n)));
    expect(wal.gapAt).toBe(seg(1, 9));
  });

  it('refuses above the bound, naming --since', () => {
    const error = refusal(() => locateSegments(linearCatalog(), null, 3));
    expect(error.message).toContain('5 WAL segments');
    expect(error.hint).toContain('--since');
  });

  it('chunks never span a timeline change', () => {
    expect(chunkSegments([seg(1, 1), seg(1, 2), seg(1, 3), seg(2, 3), seg(2, 4)], 2)).toEqual([[seg(1, 1), seg(1, 2)], [seg(1, 3)], [seg(2, 3), seg(2, 4)]]);
  });
});
