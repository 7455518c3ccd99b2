/** `crash`'s words and plans from a triage: read-only triage, start, rebuild, and the refusals. */
import { describe, expect, it } from 'vitest';
import { crash } from '../../../commands/crash/index.js';
import { crashSummary, formatCrashResult } from '../../../commands/crash/view.js';
import type { ControlData } from '../../../src/engine/crash/controldata.js';
import { triage, type TriageInput } from '../../../src/engine/crash/triage.js';
import { exitCodeFor, RecoverError } from '../../../src/errors.js';
import { linearCatalog } from '../catalog/catalog-fixtures.js';

const MB16 = 16 * 1024 * 1024;
const seg = (n: number) => `00000001000000000000000${n.toString(16).toUpperCase()}`;
const control: ControlData = { systemIdentifier: '1', state: 'in production', timeline: 1, checkpointLsn: '0/B000100', redoLsn: '0/B000028', redoWalFile: seg(11), checkpointWalFile: seg(11), checkpointTime: null, walSegmentSize: MB16, dataChecksumVersion: 0, catalogVersion: '202209061', fullPageWrites: true, walLogHints: false };
const commits = { count: 3, first: { xid: '900', lsn: '0/B000200', time: '2025-01-15 11:00:00.000001' }, last: { xid: '902', lsn: '0/C000100', time: '2025-01-15 11:00:02.000000' }, sample: [] };
const catalog = linearCatalog();

const triageOf = (patch: Partial<TriageInput> = {}) =>
  triage({
    dataDir: '/pg/data',
    running: false,
    control,
    controlError: null,
    localSegments: [10, 11, 12].map((n) => ({ name: seg(n), size: MB16 })),
    readySegments: [seg(11)],
    archived: new Set(catalog.wal.segments.map((s) => s.name)),
    scan: { records: 10, firstLsn: '0/B000028', lastRecordLsn: '0/C000100', endLsn: '0/C000138', stopReason: 'invalid record length', commits, relationFiles: [] },
    after: null,
    missingRelationFiles: [],
    serverFindings: [],
    newestBackup: { id: '20250115T102900Z', stopTime: '2025-01-15T10:31:00Z', timeline: 1 },
    forceRebuild: false,
    ...patch,
  });

const facts = (t = triageOf()) => ({ triage: t, catalog, now: new Date('2025-01-15T11:05:00Z'), production: { name: 'aiagent_prod' }, requestId: 'r1' });
const refusal = (run: () => unknown): RecoverError => {
  try {
    run();
  } catch (error) {
    return error as RecoverError;
  }
  throw new Error('not refused');
};

describe('words', () => {
  it.each([
    [[], { recover: false, fromBackup: false }],
    [['--recover'], { recover: true, fromBackup: false }],
    [['--recover', '--from-backup'], { recover: true, fromBackup: true }],
  ])('%j', (words, args) => expect(crash.parse(words)).toEqual(args));

  it.each([[['now']], [['--force']], [['--from-backup']]])('%j is refused', (words) => expect(refusal(() => crash.parse(words)).code).toBe('BAD_INPUT'));

  it('triage is read-only; --recover destructive, confirmed by production\'s name, on the database host', () => {
    expect(crash.risk({ recover: false, fromBackup: false })).toBe('read-only');
    expect(crash.risk({ recover: true, fromBackup: false })).toBe('destructive');
    expect(crash.confirmation({ recover: true, fromBackup: false }, { production: { name: 'aiagent_prod' } })).toBe('aiagent_prod');
    expect(crash.runsOn?.({ recover: false, fromBackup: false })).toBe('database-host');
  });
});

describe('plans', () => {
  it('triage: a read-only plan whose facts say what exists only in pg_wal', () => {
    const plan = crash.plan!({ recover: false, fromBackup: false }, facts());
    expect(plan.risk).toBe('read-only');
    expect(plan.steps.map((s) => s.kind)).toEqual(['triage']);
    expect(plan.facts['Only in pg_wal']).toMatch(/^2 segments 0000000100000000000000(0B|0C) … .*3 committed transactions/);
    expect(plan.facts.Recovery).toMatch(/^start production/);
  });

  it('files intact: start, then verify', () => {
    const plan = crash.plan!({ recover: true, fromBackup: false }, facts());
    expect(plan.steps.map((s) => [s.kind, s.destructive])).toEqual([['start-production', true], ['verify', false]]);
    expect(plan.params).toMatchObject({ action: 'start', dataDir: '/pg/data' });
  });

  it('damaged: the rebuild saves the local WAL before anything moves, pins the backup, RPO 0 expected', () => {
    const plan = crash.plan!({ recover: true, fromBackup: false }, facts(triageOf({ missingRelationFiles: ['base/5/16384'] })));
    expect(plan.steps.map((s) => s.kind)).toEqual(['select', 'stop-production', 'save-local-wal', 'move-aside', 'restore-base-backup', 'configure-recovery', 'replay-wal', 'verify']);
    expect(plan.params).toMatchObject({ action: 'rebuild', backupId: '20250115T102900Z' });
    expect(plan.facts['Expected loss']).toMatch(/^none \(RPO 0\)/);
    expect(plan.steps.every((s) => crash.steps!.some((d) => d.kind === s.kind))).toBe(true);
  });

  it('a standby that is down: rebuilt from its primary, its old directory kept', () => {
    const plan = crash.plan!({ recover: true, fromBackup: false }, facts(triageOf({ control: { ...control, state: 'in archive recovery' } })));
    expect(plan.steps.map((s) => [s.kind, s.destructive])).toEqual([['stop-production', true], ['move-aside', true], ['basebackup', true], ['start-production', true], ['verify', false]]);
    expect(plan.params).toMatchObject({ action: 'replica' });
  });

  it.each<[string, Partial<TriageInput>, string]>([
    ['healthy', { running: true }, 'MODE_REFUSED'],
    ['a standby rebuilt from the backup (a second primary)', { forceRebuild: true, control: { ...control, state: 'in archive recovery' } }, 'MODE_REFUSED'],
    ['no backup', { forceRebuild: true, newestBackup: null }, 'NO_BASE_BACKUP'],
    ['a gap before the local WAL', { forceRebuild: true, localSegments: [12].map((n) => ({ name: seg(n), size: MB16 })) }, 'WAL_GAP'],
  ])('%s: refused (exit 3), nothing changed', (_name, patch, code) => {
    const error = refusal(() => crash.plan!({ recover: true, fromBackup: false }, facts(triageOf(patch))));
    expect(error.code).toBe(code);
    expect(exitCodeFor(error.code)).toBe(3);
    expect(error.message).toMatch(/Nothing was changed/);
  });
});

describe('results', () => {
  const report = { ok: true, checks: [], databases: [] };
  it('a rebuild says RPO 0, where the damaged directory is kept, and its summary says so too', () => {
    const result = { path: 'rebuild' as const, dataDir: '/pg/data', oldDataDir: '/pg/data.before-pitr-20250115T110500Z', backupId: 'b', replayLsn: '0/C000138', timeline: 2, reachedTime: null, saved: { dir: '/pg/data.local-wal-x', segments: [seg(11), seg(12)], partial: seg(12), archived: [{ name: seg(12), as: `${seg(12)}.partial`, outcome: 'uploaded' as const }], lastRecordLsn: '0/C000100', endLsn: '0/C000138' }, rpoZero: true, lost: [], seconds: { total: 1, baseBackup: 1, replay: 1 }, report };
    expect(formatCrashResult(result)).toMatch(/RPO 0: every committed transaction is back[\s\S]*kept at \/pg\/data\.before-pitr-/);
    expect(crashSummary(crash.resultSchema!.parse(result)).followUps[0]).toMatch(/RPO 0/);
    expect(crash.verdict!(result, { action: 'rebuild', dataDir: '/pg/data', forceRebuild: false, backupId: 'b' })).toBeNull();
  });

  it('failed verification after a start is a failure that says how to rebuild', () => {
    const result = { path: 'start' as const, dataDir: '/pg/data', redoLsn: '0/B000028', walLsn: '0/C000200', report: { ok: false, checks: [{ name: 'rows', ok: false, message: 'could not open file' }], databases: [] } };
    expect(crash.verdict!(result, { action: 'start', dataDir: '/pg/data', forceRebuild: false, backupId: null })?.hint).toMatch(/--from-backup/);
  });
});
