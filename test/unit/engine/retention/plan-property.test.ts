/**
 * Whatever the backups, timelines, gaps and policy: every backup retention keeps stays
 * restorable to its end and on to the newest WAL of every timeline that descends from it. The
 * WAL it keeps covers, per kept backup and per such timeline, every archived segment from the
 * backup's start to the newest segment on that timeline's path, and the restorable reach
 * computed on the archive after the deletions is the reach before them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ArchivedSegment, Catalog } from '../../../../src/catalog/catalog.js';
import { backupOnPath, indexSegments, pathTo, reachFrom } from '../../../../src/catalog/coverage.js';
import { formatLsn, parseLsn, segmentOfLsn, segmentsBetween, type HistoryEntry } from '../../../../src/catalog/segments.js';
import { planRetention } from '../../../../src/engine/retention/plan.js';
import { backup, catalog, SEG, segment } from '../../catalog/catalog-fixtures.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);
const NOW = day(30);
const lsn = (segno: number, offset: number) => formatLsn(BigInt(segno) * BigInt(SEG) + BigInt(offset));

const worlds = fc.record({
  firstLength: fc.integer({ min: 2, max: 20 }),
  branches: fc.array(fc.record({ parent: fc.nat(), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }), { maxLength: 3 }),
  backups: fc.array(fc.record({ timeline: fc.nat(), at: fc.nat(), stopDay: fc.double({ min: 0, max: 29.9, noNaN: true }) }), { minLength: 1, maxLength: 6 }),
  dropped: fc.array(fc.record({ timeline: fc.nat(), segno: fc.nat({ max: 40 }) }), { maxLength: 4 }),
  full: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  days: fc.option(fc.integer({ min: 0, max: 25 }), { nil: undefined }),
});

type World = typeof worlds extends fc.Arbitrary<infer T> ? T : never;

/** Timeline 1 from segment 1; each branch from an earlier timeline, after that timeline began; backups on any, archive gaps anywhere. */
function build(world: World): Catalog {
  const spans: { begin: number; end: number; history: HistoryEntry[] }[] = [{ begin: 1, end: world.firstLength, history: [] }];
  for (const branch of world.branches) {
    const parentIndex = branch.parent % spans.length;
    const parent = spans[parentIndex]!;
    const begin = parent.begin + 1 + (branch.at % Math.max(1, parent.end - parent.begin));
    const switchLsn = BigInt(begin) * BigInt(SEG) + 0x100n;
    spans.push({ begin, end: begin + branch.length - 1, history: [...parent.history, { timeline: parentIndex + 1, switchLsn, reason: '' }] });
  }
  const dropped = new Set(world.dropped.map((d) => `${(d.timeline % spans.length) + 1}:${d.segno}`));
  const segments: ArchivedSegment[] = spans.flatMap((span, i) =>
    Array.from({ length: span.end - span.begin + 1 }, (_, k) => span.begin + k)
      .filter((segno) => !dropped.has(`${i + 1}:${segno}`))
      .map((segno) => segment(i + 1, segno, day(0))),
  );
  const backups = world.backups.map((b, i) => {
    const timeline = (b.timeline % spans.length) + 1;
    const span = spans[timeline - 1]!;
    const start = span.begin + (b.at % (span.end - span.begin + 1));
    // After the switch point (0x100 into the timeline's first segment), as a real backup on it would be.
    return backup(`b${i}`, { startLsn: lsn(start, 0x200), stopLsn: lsn(start, 0x1000), startTime: day(b.stopDay - 0.001), stopTime: day(b.stopDay), timeline });
  });
  return catalog(backups, segments, spans.slice(1).map((span, i) => [i + 2, span.history]));
}

describe('planRetention (property)', () => {
  it('every kept backup stays restorable to its end and to the newest WAL of each timeline descending from it', () => {
    fc.assert(
      fc.property(worlds, (world) => {
        const cat = build(world);
        const plan = planRetention(cat, { ...(world.full === undefined ? {} : { full: world.full }), ...(world.days === undefined ? {} : { days: world.days }) }, NOW);
        const deleted = new Set(plan.wal.delete);
        const existing = new Set(cat.wal.segments.map((s) => s.name));
        for (const name of deleted) expect(existing.has(name)).toBe(true);
        const after: Catalog = { ...cat, wal: { ...cat.wal, segments: cat.wal.segments.filter((s) => !deleted.has(s.name)) } };
        const [before, afterIndex] = [indexSegments(cat), indexSegments(after)];
        const newest = [...cat.backups].sort((a, b) => Date.parse(b.stopTime) - Date.parse(a.stopTime) || (a.id < b.id ? 1 : -1))[0]!;
        expect(plan.backups.find((b) => b.id === newest.id)?.keep).toBe(true);
        const keptIds = new Set(plan.backups.filter((b) => b.keep).map((b) => b.id));
        if (world.full !== undefined) expect(keptIds.size).toBeGreaterThanOrEqual(Math.min(world.full, cat.backups.length));
        for (const kept of cat.backups.filter((b) => keptIds.has(b.id))) {
          for (const timeline of before.timelines) {
            const path = pathTo(cat, timeline);
            if (!backupOnPath(kept, path)) continue;
            const reach = reachFrom(kept, path, before, SEG);
            if (reach.newestSegno === null) continue;
            for (const name of segmentsBetween(parseLsn(kept.startLsn), reach.newestSegno, path, SEG)) {
              if (existing.has(name)) expect(deleted.has(name), `${name} of ${kept.id} on timeline ${timeline}`).toBe(false);
            }
            // The same reach; the newest segment only matters from the backup's start on (older ones on the path are not read).
            const { newestSegno, ...rest } = reachFrom(kept, path, afterIndex, SEG);
            expect(rest).toEqual({ lastSegno: reach.lastSegno, lastArchivedAt: reach.lastArchivedAt, gapAt: reach.gapAt });
            if (reach.newestSegno >= segmentOfLsn(parseLsn(kept.startLsn), SEG)) expect(newestSegno).toBe(reach.newestSegno);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('deletes something whenever a backup expires (the property above is not met by keeping everything)', () => {
    const cat = build({ firstLength: 20, branches: [], backups: [{ timeline: 0, at: 1, stopDay: 1 }, { timeline: 0, at: 15, stopDay: 20 }], dropped: [], full: 1, days: undefined });
    expect(planRetention(cat, { full: 1 }, NOW).wal.delete.length).toBe(15);
  });
});
