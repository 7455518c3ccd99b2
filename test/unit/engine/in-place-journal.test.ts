/** What a runner does with an interrupted in-place restore's journal: a table by phase and what is on disk. */
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decideRecovery, journalFileRefusal, journalRefusal, journalWriter, readJournal, writeJournal, type DiskFacts, type InPlaceJournal, type JournalPhase } from '../../../src/engine/in-place-journal.js';
import { RecoverError } from '../../../src/errors.js';

const D = (dataDirExists: boolean, movedAsideExists: boolean, serverOnDataDir: boolean): DiskFacts => ({ dataDirExists, movedAsideExists, serverOnDataDir });
const MOVED = '/pg/data.before-pitr-20260101T000000Z';

const rows: [string, JournalPhase, string | null, DiskFacts, string, string[]][] = [
  // Nothing moved yet: production's own directory, at most stopped; never stopped by a recovery.
  ['stop under way, production still up', 'stopping', null, D(true, false, true), 'roll-back', ['check', 'remove-journal']],
  ['stopped, not moved', 'stopping', null, D(true, false, false), 'roll-back', ['start', 'check', 'remove-journal']],
  ['move decided, rename not done', 'moving-aside', MOVED, D(true, false, false), 'roll-back', ['start', 'check', 'remove-journal']],
  // Moved: the original is put back, the new directory kept.
  ['renamed, new directory not made yet', 'moving-aside', MOVED, D(false, true, false), 'roll-back', ['put-back', 'remove-pause', 'start', 'check', 'remove-journal']],
  ['base restore half done', 'restoring', MOVED, D(true, true, false), 'roll-back', ['keep-failed', 'put-back', 'remove-pause', 'start', 'check', 'remove-journal']],
  ['configured, server not started', 'configured', MOVED, D(true, true, false), 'roll-back', ['keep-failed', 'put-back', 'remove-pause', 'start', 'check', 'remove-journal']],
  ['replaying: restored server running', 'configured', MOVED, D(true, true, true), 'roll-back', ['stop-restored', 'keep-failed', 'put-back', 'remove-pause', 'start', 'check', 'remove-journal']],
  // A roll-back interrupted itself: picks up where it stopped.
  ['roll-back: kept, not put back', 'rolling-back', MOVED, D(false, true, false), 'roll-back', ['put-back', 'remove-pause', 'start', 'check', 'remove-journal']],
  ['roll-back: put back, not started', 'rolling-back', MOVED, D(true, false, false), 'roll-back', ['start', 'check', 'remove-journal']],
  ['roll-back: put back and started', 'rolling-back', MOVED, D(true, false, true), 'roll-back', ['check', 'remove-journal']],
  // Verified: finished, never rolled back, no destructive step again.
  ['verified, running', 'verified', MOVED, D(true, true, true), 'finish', ['remove-pause', 'check', 'remove-journal']],
  ['verified, server gone', 'verified', MOVED, D(true, true, false), 'finish', ['start', 'remove-pause', 'check', 'remove-journal']],
];

describe('decideRecovery', () => {
  test.each(rows)('%s', (_name, phase, movedAside, disk, kind, actions) => {
    expect(decideRecovery({ phase, movedAside }, disk)).toEqual({ kind, actions });
  });

  test('never stops a server or renames anything before production was moved aside', () => {
    for (const phase of ['stopping', 'moving-aside', 'restoring', 'configured', 'rolling-back'] as const) {
      for (const disk of [D(true, false, true), D(true, false, false)]) {
        const { actions } = decideRecovery({ phase, movedAside: phase === 'stopping' ? null : MOVED }, disk);
        expect(actions.filter((a) => ['stop-restored', 'keep-failed', 'put-back'].includes(a))).toEqual([]);
      }
    }
  });
});

describe('decideRecovery when production was down before the job (crash): put back, never started', () => {
  test.each([
    ['stopped, not moved', 'stopping', null, D(true, false, false), ['remove-journal']],
    ['base restore half done', 'restoring', MOVED, D(true, true, false), ['keep-failed', 'put-back', 'remove-pause', 'remove-journal']],
    ['replaying: restored server running', 'configured', MOVED, D(true, true, true), ['stop-restored', 'keep-failed', 'put-back', 'remove-pause', 'remove-journal']],
    ['roll-back: put back, not started', 'rolling-back', MOVED, D(true, false, false), ['remove-journal']],
  ] as [string, JournalPhase, string | null, DiskFacts, string[]][])('%s', (_name, phase, movedAside, disk, actions) => {
    expect(decideRecovery({ phase, movedAside, leaveStopped: true }, disk)).toEqual({ kind: 'roll-back', actions });
  });

  test('once verified the restored data is started and finished as always', () => {
    expect(decideRecovery({ phase: 'verified', movedAside: MOVED, leaveStopped: true }, D(true, true, false))).toEqual({ kind: 'finish', actions: ['start', 'remove-pause', 'check', 'remove-journal'] });
  });
});

describe('journalWriter', () => {
  test('writes durably, refuses to start over another restore\'s journal, removes only its own', async () => {
    const root = await mkdtemp(join(tmpdir(), 'journal-'));
    try {
      const dataDir = join(root, 'data');
      const clock = { now: () => new Date('2026-01-01T00:00:00Z') };
      const first = journalWriter(dataDir, 'job-1', clock);
      await first.update({ phase: 'stopping', configFile: '/etc/pg/postgresql.conf' });
      await first.update({ phase: 'moving-aside', movedAside: `${dataDir}.before-pitr-20260101T000000Z` });
      expect(await readJournal(dataDir)).toMatchObject({ jobId: 'job-1', phase: 'moving-aside', movedAside: `${dataDir}.before-pitr-20260101T000000Z`, configFile: '/etc/pg/postgresql.conf', pid: process.pid });
      expect((await readdir(root)).sort()).toEqual(['data.recover-journal.json']);

      const second = journalWriter(dataDir, 'job-2', clock);
      const refused = await second.update({ phase: 'stopping' }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(RecoverError);
      expect((refused as RecoverError).message).toMatch(/job job-1, phase moving-aside\) was interrupted/);
      await second.remove();
      expect(await readJournal(dataDir)).not.toBeNull();

      await first.remove();
      expect(await readJournal(dataDir)).toBeNull();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('a journal is acted on only as recover-bot writes it', () => {
  const base: InPlaceJournal = { version: 1, jobId: 'j', pid: 42, dataDir: '/pg/data', movedAside: null, failedDir: null, configFile: null, stopMethod: 'pg_ctl', phase: 'restoring', updatedAt: '2026-01-01T00:00:00.000Z' };
  test.each([
    [{}, null],
    [{ movedAside: '/pg/data.before-pitr-20260101T000000Z', failedDir: '/pg/data.failed-pitr-20260101T000001Z-2' }, null],
    [{ movedAside: '/etc' }, /would put back, \/etc, is not \/pg\/data\.before-pitr-<time>/],
    [{ movedAside: '/pg/data.before-pitr-20260101T000000Z/../../etc' }, /would put back/],
    [{ movedAside: '/pgXdata.before-pitr-20260101T000000Z' }, /would put back/],
    [{ failedDir: '/var/lib/other' }, /keep the restore in/],
    [{ phase: 'done' }, /phase "done"/],
    [{ stopMethod: 'sh' }, /stop method "sh"/],
    [{ pid: 0 }, /no writing process/],
    [{ configFile: 'relative.conf' }, /not an absolute path/],
    [{ leaveStopped: true }, null],
    [{ leaveStopped: 'yes' as unknown as boolean }, /leaveStopped is not true or false/],
  ] as [Partial<InPlaceJournal>, RegExp | null][])('%o', (patch, refused) => {
    const reason = journalRefusal({ ...base, ...patch }, '/pg/data');
    if (refused) expect(reason).toMatch(refused);
    else expect(reason).toBeNull();
  });

  test.each([
    [{ uid: 0, mode: 0o100600, file: true }, 0, null],
    [{ uid: 0, mode: 0o100600, file: false }, 0, /not a regular file/],
    [{ uid: 26, mode: 0o100600, file: true }, 0, /belongs to user 26/],
    [{ uid: 0, mode: 0o100666, file: true }, 0, /others may write it \(mode 0666\)/],
  ])('file %o read by uid %i', (facts, uid, refused) => {
    const reason = journalFileRefusal({ uid: facts.uid, mode: facts.mode, isFile: () => facts.file }, uid);
    if (refused) expect(reason).toMatch(refused);
    else expect(reason).toBeNull();
  });

  test('readJournal refuses a journal others may write, naming why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rb-journal-'));
    try {
      const dataDir = join(dir, 'data');
      await writeJournal({ ...base, dataDir });
      await chmod(`${dataDir}.recover-journal.json`, 0o666);
      await expect(readJournal(dataDir)).rejects.toThrow(/is not acted on: its group or others may write it/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
