/**
 * The removal rule of `recover disk --fix` as tables, and as a property: whatever the segments,
 * archive_status, REDO, archive listing and slots, nothing at or after REDO, nothing not
 * archived, nothing a slot needs is ever in the safe set — and what is left out has a reason.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { afterArchiving, walRemoval, type ArchiveState, type RemovalInput } from '../../../../src/engine/disk/removal.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const seg = (n: number, timeline = 1) => `${timeline.toString(16).toUpperCase().padStart(8, '0')}00000000${n.toString(16).toUpperCase().padStart(8, '0')}`;
const MB = 1024 * 1024;

function input(overrides: Partial<RemovalInput> & { done?: number[]; ready?: number[] } = {}): RemovalInput {
  const status = new Map<string, ArchiveState>([...(overrides.done ?? []).map((n) => [seg(n), 'done'] as const), ...(overrides.ready ?? []).map((n) => [seg(n), 'ready'] as const)]);
  return {
    segments: overrides.segments ?? [1, 2, 3, 4, 5, 6].map((n) => ({ name: seg(n), bytes: MB })),
    status: overrides.status ?? status,
    redoSegment: overrides.redoSegment ?? seg(5),
    archived: overrides.archived === undefined ? null : overrides.archived,
    slots: overrides.slots ?? [],
  };
}

const names = (items: { name: string }[]) => items.map((item) => item.name);

describe('walRemoval', () => {
  it.each([
    { case: 'archived and older than REDO', over: { done: [1, 2, 3, 4] }, safe: [1, 2, 3, 4] },
    { case: 'the REDO segment and after are kept, even archived', over: { done: [1, 2, 3, 4, 5, 6] }, safe: [1, 2, 3, 4] },
    { case: '.ready (not archived) is kept', over: { done: [1, 3], ready: [2, 4] }, safe: [1, 3] },
    { case: 'no status file at all counts as not archived', over: { done: [2] }, safe: [2] },
    { case: 'a .done segment missing from the listed archive is kept', over: { done: [1, 2, 3], archived: new Set([seg(1), seg(3)]) }, safe: [1, 3] },
    { case: 'storage unreachable (no listing): .done alone counts', over: { done: [1, 2], archived: null }, safe: [1, 2] },
    { case: 'a slot keeps everything from its restart segment on', over: { done: [1, 2, 3, 4], slots: [{ name: 's', oldestNeeded: seg(3) }] }, safe: [1, 2] },
    { case: 'the timeline is not compared (as pg_archivecleanup)', over: { done: [1, 2], redoSegment: seg(3, 2) }, safe: [1, 2] },
  ])('$case', ({ over, safe }) => {
    expect(names(walRemoval(input(over as never)).safe)).toEqual(safe.map((n) => seg(n)));
  });

  it('names why each other segment stays, and the slot holding it', () => {
    const { kept } = walRemoval(input({ done: [1, 3, 4], ready: [2], archived: new Set([seg(1), seg(4)]), slots: [{ name: 'standby1', oldestNeeded: seg(4) }] }));
    expect(kept.map((k) => [k.name, k.reason, k.slot])).toEqual([
      [seg(2), 'not-archived', undefined],
      [seg(3), 'missing-from-archive', undefined],
      [seg(4), 'slot', 'standby1'],
      [seg(5), 'redo', undefined],
      [seg(6), 'redo', undefined],
    ]);
  });

  it('never a history, .partial or .backup file, whatever its name sorts like', () => {
    const segments = [{ name: '00000002.history', bytes: 40 }, { name: `${seg(1)}.partial`, bytes: MB }, { name: `${seg(1)}.00000028.backup`, bytes: 300 }, { name: seg(1), bytes: MB }];
    const status = new Map<string, ArchiveState>(segments.map((s) => [s.name, 'done']));
    expect(names(walRemoval(input({ segments, status })).safe)).toEqual([seg(1)]);
  });

  it('afterArchiving: the .ready segments count as archived and listed', () => {
    const base = input({ done: [1], ready: [2, 3], archived: new Set([seg(1)]) });
    expect(names(walRemoval(afterArchiving(base, [seg(2), seg(3)])).safe)).toEqual([seg(1), seg(2), seg(3)]);
    expect(names(walRemoval(afterArchiving(base, [seg(2)])).safe)).toEqual([seg(1), seg(2)]);
  });
});

describe('walRemoval (property)', () => {
  const worlds = fc.record({
    segments: fc.uniqueArray(fc.record({ n: fc.integer({ min: 0, max: 40 }), timeline: fc.integer({ min: 1, max: 3 }) }), { selector: (s) => `${s.n}/${s.timeline}`, maxLength: 30 }),
    states: fc.array(fc.constantFrom<ArchiveState | null>('ready', 'done', null), { minLength: 30, maxLength: 30 }),
    listed: fc.option(fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), { nil: null }),
    redo: fc.record({ n: fc.integer({ min: 0, max: 41 }), timeline: fc.integer({ min: 1, max: 3 }) }),
    slots: fc.array(fc.integer({ min: 0, max: 41 }), { maxLength: 3 }),
  });

  it('never removes a segment at or after REDO, not archived, missing from a listed archive, or needed by a slot', () => {
    fc.assert(
      fc.property(worlds, (world) => {
        const segments = world.segments.map((s) => ({ name: seg(s.n, s.timeline), bytes: MB }));
        const status = new Map<string, ArchiveState>();
        segments.forEach((s, i) => world.states[i] && status.set(s.name, world.states[i]!));
        const archived = world.listed ? new Set(segments.filter((_, i) => world.listed![i]).map((s) => s.name)) : null;
        const redo = seg(world.redo.n, world.redo.timeline);
        const slots = world.slots.map((n, i) => ({ name: `s${i}`, oldestNeeded: seg(n) }));
        const { safe, kept } = walRemoval({ segments, status, redoSegment: redo, archived, slots });
        for (const { name } of safe) {
          expect(name.slice(8) < redo.slice(8)).toBe(true);
          expect(status.get(name)).toBe('done');
          if (archived) expect(archived.has(name)).toBe(true);
          for (const slot of slots) expect(name.slice(8) < slot.oldestNeeded.slice(8)).toBe(true);
        }
        // every segment is judged exactly once
        expect([...safe, ...kept].map((s) => s.name).sort()).toEqual(segments.map((s) => s.name).sort());
      }),
      { numRuns: RUNS },
    );
  });
});
