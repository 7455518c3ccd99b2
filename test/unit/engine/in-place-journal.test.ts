/** What a runner does with an interrupted in-place restore's journal: a table by phase and what is on disk. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decideRecovery, journalWriter, readJournal, type DiskFacts, type JournalPhase } from '../../../src/engine/in-place-journal.js';
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

describe('journalWriter', () => {
  test('writes durably, refuses to start over another restore\'s journal, removes only its own', async () => {
    const root = await mkdtemp(join(tmpdir(), 'journal-'));
    try {
      const dataDir = join(root, 'data');
      const clock = { now: () => new Date('2026-01-01T00:00:00Z') };
      const first = journalWriter(dataDir, 'job-1', clock);
      await first.update({ phase: 'stopping', configFile: '/etc/pg/postgresql.conf' });
      await first.update({ phase: 'moving-aside', movedAside: `${dataDir}.before-pitr-x` });
      expect(await readJournal(dataDir)).toMatchObject({ jobId: 'job-1', phase: 'moving-aside', movedAside: `${dataDir}.before-pitr-x`, configFile: '/etc/pg/postgresql.conf', pid: process.pid });
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
