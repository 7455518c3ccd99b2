/**
 * `/recover disk` words and plans (pure): the report is read-only; --fix lists only the steps
 * with something to do and every file class it touches; nothing safe to free is refused
 * (DISK_FULL_NOTHING_SAFE, exit 3) whatever else is asked; a slot is dropped only by name,
 * confirmed with its name; an inactive slot holding WAL is reported, not dropped.
 */
import { describe, expect, it } from 'vitest';
import { disk } from '../../../commands/disk/index.js';
import { diskArgs } from '../../../commands/disk/args.js';
import type { DiskFacts } from '../../../src/engine/disk/inspect.js';
import { diskReport } from '../../../src/engine/disk/report.js';
import { exitCodeFor, RecoverError } from '../../../src/errors.js';

const MB = 1024 * 1024;
const seg = (n: number) => `00000001000000000000${n.toString(16).toUpperCase().padStart(4, '0')}`;
const NOW = new Date('2026-12-06T12:00:00Z');

/** A stopped server whose 1 MiB-segment pg_wal filled: 1…8 waiting (.ready), REDO at 6, two recycled ahead. */
function facts(over: Partial<DiskFacts> = {}): DiskFacts {
  const segments = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => ({ name: seg(n), bytes: MB, modified: new Date(NOW.getTime() - (20 - n) * 60_000).toISOString() }));
  return {
    dataDir: '/srv/pg/data',
    walDir: '/mnt/wal/pg_wal',
    filesystems: [{ holds: ['data directory'], path: '/srv/pg/data', mount: '/', totalBytes: 100 * 1024 * MB, availableBytes: 50 * 1024 * MB }, { holds: ['pg_wal'], path: '/mnt/wal/pg_wal', mount: '/mnt/wal', totalBytes: 10 * MB, availableBytes: 0 }],
    server: { state: 'stopped' },
    control: { clusterState: 'in crash recovery', redoLsn: '0/600028', redoSegment: seg(6), timeline: 1, segmentBytes: MB, checkpointTime: null },
    wal: { segments, status: [1, 2, 3, 4, 5, 6, 7, 8].map((n) => [seg(n), 'ready'] as [string, 'ready']), readySince: [[seg(1), '2026-12-06T11:40:00.000Z']], otherBytes: 0 },
    archive: { reachable: true, archived: [] },
    archiver: { stats: null, log: null, logFiles: [] },
    slots: [],
    currentLsn: null,
    temp: { files: 0, bytes: 0 },
    logs: { dir: '/srv/pg/data/log', files: [{ name: 'old.log', bytes: 5 * MB, modified: '2026-10-01T00:00:00.000Z' }, { name: 'now.log', bytes: MB, modified: NOW.toISOString() }] },
    relations: [{ name: 'app: public.events', bytes: 900 * MB }],
    ...over,
  };
}

const planOf = (words: string[], f: DiskFacts = facts()) => disk.plan!(diskArgs(words), { disk: f, now: NOW, production: { name: 'aiagent_prod' }, requestId: 'r1' });
const refusal = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return error as RecoverError;
  }
  throw new Error('not refused');
};

describe('words', () => {
  it.each([
    [[], { fix: false }],
    [['--fix'], { fix: true }],
    [['--fix', '--drop-slot', 'old_standby', '--logs-older-than', '14'], { fix: true, dropSlot: 'old_standby', logsOlderThanDays: 14 }],
  ])('%j', (words, args) => expect(diskArgs(words as string[])).toEqual(args));

  it.each([[['--drop-slot', 's']], [['--fix', '--drop-slot', '../x']], [['--fix', '--drop-slot']], [['--fix', '--logs-older-than', '0']], [['--fix', '--logs-older-than', 'week']], [['now']], [['--fix=yes']], [['--force']]])('refuses %j (exit 2)', (words) => {
    const error = refusal(() => diskArgs(words as string[]));
    expect(error.code).toBe('BAD_INPUT');
    expect(exitCodeFor(error.code)).toBe(2);
  });

  it('risk, where it runs, and what confirms it', () => {
    expect(disk.risk(diskArgs([]))).toBe('read-only');
    expect(disk.risk(diskArgs(['--fix']))).toBe('destructive');
    expect(disk.runsOn!(diskArgs([]))).toBe('database-host');
    const production = { production: { name: 'aiagent_prod' } };
    expect(disk.confirmation(diskArgs([]), production)).toBeNull();
    expect(disk.confirmation(diskArgs(['--fix']), production)).toBe('aiagent_prod');
    expect(disk.confirmation(diskArgs(['--fix', '--drop-slot', 'old_standby']), production)).toBe('aiagent_prod/old_standby');
  });
});

describe('report', () => {
  it('read-only: what fills pg_wal, since when, what the fix frees once the backlog is archived', () => {
    const plan = planOf([]);
    expect(plan.risk).toBe('read-only');
    expect(plan.steps.map((s) => s.kind)).toEqual(['report']);
    expect(plan.facts['Waiting to be archived']).toContain(`8 segment(s), 8.0 MiB, oldest ${seg(1)} waiting since 2026-12-06T11:40:00.000Z`);
    expect(plan.facts['Removable now']).toBe('nothing');
    expect(plan.facts['Removable once archived']).toBe(`5 segment(s), 5.0 MiB (${seg(1)} … ${seg(5)})`);
    expect(plan.facts['pg_wal filesystem']).toContain('/mnt/wal: 0 KiB free of 10.0 MiB (100% used)');
  });

  it('an inactive slot holding WAL comes first, with what it holds and keeps', () => {
    const report = diskReport(facts({ wal: { ...facts().wal, status: [1, 2, 3, 4, 5].map((n) => [seg(n), 'done'] as [string, 'done']) }, archive: { reachable: true, archived: [1, 2, 3, 4, 5].map(seg) }, slots: [{ name: 'live', kind: 'physical', active: true, restartLsn: '0/900000', walStatus: 'reserved' }, { name: 'gone', kind: 'physical', active: false, restartLsn: '0/300000', walStatus: 'extended' }], currentLsn: '0/A00000' }));
    expect(report.slots.map((s) => [s.name, s.holdsBytes, s.blocksBytes])).toEqual([['gone', 7 * MB, 3 * MB], ['live', MB, 0]]);
    expect(report.removable.now.count).toBe(2);
    expect(report.advice.join(' ')).toContain('--drop-slot gone');
  });
});

describe('fix', () => {
  it('archives the backlog, removes what is then safe, starts and checks; names the files it touches', () => {
    const plan = planOf(['--fix']);
    expect(plan.risk).toBe('destructive');
    expect(plan.steps.map((s) => [s.kind, s.destructive])).toEqual([['archive-backlog', false], ['remove-wal', true], ['start-server', false], ['check', false]]);
    expect(plan.steps[1]!.title).toContain(`Remove 5 WAL segment(s) archived and older than REDO ${seg(6)}`);
    expect(plan.facts['Files touched']).toContain('archive_status/<segment>.ready renamed to .done (8)');
    expect(plan.facts['Never touched']).toContain(`from REDO ${seg(6)} on`);
    expect(plan.params).toEqual({ mode: 'fix', dataDir: '/srv/pg/data', steps: ['archive-backlog', 'remove-wal', 'start-server', 'check'], dropSlot: null, logs: null });
    expect(disk.paramsSchema!.parse(plan.params)).toEqual(plan.params);
  });

  it('storage down, everything unarchived: refused, exit 3, saying to bring storage back or grow the volume', () => {
    const error = refusal(() => planOf(['--fix'], facts({ archive: { reachable: false, error: 'Blob storage is unreachable (ECONNREFUSED)' } })));
    expect(error.code).toBe('DISK_FULL_NOTHING_SAFE');
    expect(exitCodeFor(error.code)).toBe(3);
    expect(error.message).toContain('Nothing was changed');
    expect(error.hint).toContain('Bring storage back');
    expect(error.hint).toContain('move pg_wal to a larger one');
  });

  it('storage down but old .done segments and logs: frees those only, no archiving step', () => {
    const f = facts({ archive: { reachable: false, error: 'down' }, wal: { ...facts().wal, status: [[seg(1), 'done'], [seg(2), 'ready']] }, temp: { files: 2, bytes: MB } });
    const plan = planOf(['--fix', '--logs-older-than', '7'], f);
    expect(plan.steps.map((s) => s.kind)).toEqual(['remove-wal', 'remove-temp', 'remove-logs', 'start-server', 'check']);
    expect(plan.steps[0]!.title).toContain('Remove 1 WAL segment(s)');
    expect(plan.params).toMatchObject({ logs: { dir: '/srv/pg/data/log', olderThanDays: 7 } });
  });

  it('a server that does not answer is stopped first; a running one is neither stopped nor started, and its temporary files stay', () => {
    expect(planOf(['--fix'], facts({ server: { state: 'not-answering', detail: '57P03' }, temp: { files: 1, bytes: 1 } })).steps.map((s) => s.kind)).toEqual(['stop-server', 'archive-backlog', 'remove-wal', 'remove-temp', 'start-server', 'check']);
    expect(planOf(['--fix'], facts({ server: { state: 'running', inRecovery: false }, temp: { files: 1, bytes: 1 } })).steps.map((s) => s.kind)).toEqual(['archive-backlog', 'remove-wal', 'check']);
  });

  it('a slot is dropped only when named: its own step; unknown or active slots refused', () => {
    const slots = [{ name: 'gone', kind: 'physical' as const, active: false, restartLsn: '0/100000', walStatus: 'extended' }, { name: 'live', kind: 'physical' as const, active: true, restartLsn: '0/100000', walStatus: 'reserved' }];
    const held = facts({ slots, server: { state: 'running', inRecovery: false } });
    expect(refusal(() => planOf(['--fix'], { ...held, slots: [{ ...slots[0]!, active: true }] })).code).toBe('DISK_FULL_NOTHING_SAFE');
    expect(refusal(() => planOf(['--fix', '--drop-slot', 'live'], held)).message).toContain('is active');
    expect(refusal(() => planOf(['--fix', '--drop-slot', 'nosuch'], held)).message).toContain('slots: gone, live');
    const plan = planOf(['--fix', '--drop-slot', 'gone'], { ...held, slots: [slots[0]!] });
    expect(plan.steps.map((s) => [s.kind, s.destructive])).toContainEqual(['drop-slot', true]);
    expect(plan.facts['Files touched']).toContain('pg_replslot/gone');
  });

  it('an unknown server state or a standby: refused before anything', () => {
    expect(refusal(() => planOf(['--fix'], facts({ server: { state: 'unknown', detail: 'password authentication failed' } }))).code).toBe('CONFIG_INVALID');
    expect(refusal(() => planOf(['--fix'], facts({ server: { state: 'running', inRecovery: true } }))).code).toBe('CONFIG_INVALID');
  });
});
