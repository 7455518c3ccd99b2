/**
 * The journal check of a runner (src/runner/journal-check.ts) against a work journal left in a
 * side instance's directory, by what the control DB says of its job: a succeeded job's journal
 * (its files' removal failed at the end of a finished restore) only loses its spool, hook and
 * socket — its server is the restore's result, never stopped, and its thread is never told it
 * failed (nothing is written to the job); a failed job's journal is tidied as a lost restore and
 * what was done is recorded on the job. The control DB here answers the status query only and
 * counts every other query, so a write to the job is seen. A restore root that cannot be listed
 * is logged as such, not taken for an empty one.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { pino } from 'pino';
import { afterEach, expect, test } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createExec } from '../../../src/engine/exec.js';
import { WORK_FILES, workJournalPath, writeWorkJournal } from '../../../src/engine/work-journal.js';
import { journalCheck } from '../../../src/runner/journal-check.js';
import type { EngineContext } from '../../../src/engine/context.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A process id that is not alive: a child that has exited. */
const deadPid = async () => {
  const { execa } = await import('execa');
  const child = execa('true');
  await child;
  return child.pid!;
};

async function leftBehind(status: string) {
  const root = await mkdtemp(join(tmpdir(), 'rb-journal-check-'));
  dirs.push(root);
  const workDir = join(root, 'restored');
  await mkdir(join(workDir, WORK_FILES.spool), { recursive: true });
  await writeFile(join(workDir, WORK_FILES.spool, '000000010000000000000003'), 'wal');
  await writeFile(join(workDir, WORK_FILES.hook), '// hook');
  await writeWorkJournal(workDir, { version: 1, jobId: 'job-1', pid: await deadPid(), startedAt: new Date().toISOString() });
  const writes: string[] = [];
  const control = {
    query: async (text: string) => {
      if (/^SELECT status FROM jobs/.test(text)) return { rows: [{ status }] };
      writes.push(text);
      throw new Error('the test control DB answers the status query only');
    },
    connect: async () => {
      writes.push('connect');
      throw new Error('the test control DB answers the status query only');
    },
  } as unknown as pg.Pool;
  const log = pino({ level: 'silent' });
  const config = loadConfig({ RECOVER_RESTORE_ROOT: root, LOG_LEVEL: 'silent' });
  const engine = { log, exec: createExec(log), signal: new AbortController().signal } as unknown as EngineContext;
  const attempts: string[] = [];
  const check = journalCheck({ config, control, engine, log, runnerId: 'runner-test', busy: () => false, retry: async (what, work) => { attempts.push(what); return work().catch(() => undefined as never); } });
  await check();
  const exists = (path: string) => stat(path).then(() => true, () => false);
  return { workDir, writes, attempts, exists };
}

test("a succeeded job's work journal: its files go, its server is not touched, nothing is recorded on the job", async () => {
  const { workDir, writes, attempts, exists } = await leftBehind('succeeded');
  expect(await exists(join(workDir, WORK_FILES.spool))).toBe(false);
  expect(await exists(join(workDir, WORK_FILES.hook))).toBe(false);
  expect(await exists(workJournalPath(workDir))).toBe(false);
  // Not treated as a lost restore: no side-instance check or stop was tried (that would fail
  // here and be recorded), and no failure note reaches the job.
  expect(attempts).toEqual([]);
  expect(writes).toEqual([]);
});

test("a failed job's work journal: tidied as a lost restore, and what was done is recorded on the job", async () => {
  const { workDir, attempts, writes, exists } = await leftBehind('failed');
  expect(attempts).toEqual(['record what was done for job job-1']);
  expect(writes.length).toBeGreaterThan(0);
  // This directory is no side instance recover-bot made: the tidy refuses it and keeps the journal for a person.
  expect(await exists(workJournalPath(workDir))).toBe(true);
});

test('a restore root that cannot be listed is logged as such, not taken for an empty one', async () => {
  const root = await mkdtemp(join(tmpdir(), 'rb-journal-check-'));
  dirs.push(root);
  const notADirectory = join(root, 'file');
  await writeFile(notADirectory, '');
  const lines: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
  const control = { query: async () => ({ rows: [] }) } as unknown as pg.Pool;
  const config = loadConfig({ RECOVER_RESTORE_ROOT: notADirectory, LOG_LEVEL: 'silent' });
  const engine = { log, exec: createExec(log), signal: new AbortController().signal } as unknown as EngineContext;
  await journalCheck({ config, control, engine, log, runnerId: 'runner-test', busy: () => false, retry: (_what, work) => work() })();
  expect(lines.join('\n')).toContain('the restore root cannot be listed');
});
