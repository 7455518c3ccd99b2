/**
 * The journal of a restore's working files: `recover-work.json` in the restore's work
 * directory (a side instance's `<root>/<name>`, or `<dataDir>.recover` in place), written
 * durably before the WAL spool, the restore_command hook and the agent's socket are made, and
 * removed once they are. A runner killed mid-restore leaves it behind; the next runner on the
 * host reads it and tidies exactly what that job made (work-tidy.ts), never by guessing from
 * what happens to lie in a directory.
 *
 * Only a journal the runner's user wrote is trusted (the same file checks as the in-place
 * journal); what is removed is fixed here, never taken from the file's content.
 */
import { lstat, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncPath, writeJsonDurably } from './durable-file.js';
import type { Exec } from './exec.js';
import { journalFileRefusal } from './in-place-journal.js';
import { removeTree } from './instances.js';

export const WORK_JOURNAL_FILE = 'recover-work.json';
/** What restoreToTarget makes in the work directory, and a tidy removes. */
export const WORK_FILES = { spool: 'spool', hook: 'wal-hook.mjs', socket: 'wal.sock' } as const;

export interface WorkJournal {
  version: 1;
  /** The control-DB job (null: the CLI). */
  jobId: string | null;
  /** The writing process: a journal of a live process is left to it. */
  pid: number;
  startedAt: string;
}

export const workJournalPath = (workDir: string) => join(workDir, WORK_JOURNAL_FILE);

export async function writeWorkJournal(workDir: string, journal: WorkJournal): Promise<void> {
  await writeJsonDurably(workJournalPath(workDir), journal);
}

export async function removeWorkJournal(workDir: string): Promise<void> {
  await rm(workJournalPath(workDir), { force: true });
  await fsyncPath(workDir);
}

/** The spool (inside a directory the postgres user can write: removed without following symlinks), hook and socket, then the journal. */
export async function removeWorkFiles(exec: Exec, workDir: string): Promise<void> {
  await removeTree(exec, join(workDir, WORK_FILES.spool));
  await rm(join(workDir, WORK_FILES.hook), { force: true });
  await rm(join(workDir, WORK_FILES.socket), { force: true });
  await removeWorkJournal(workDir);
}

/** Why the parsed content is not a work journal recover-bot writes, or null. Pure. */
export function workJournalRefusal(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'it is not a JSON object';
  const journal = value as Partial<WorkJournal>;
  if (journal.version !== 1) return 'its version is not 1';
  if (!Number.isInteger(journal.pid) || (journal.pid as number) <= 0) return 'it names no writing process';
  if (journal.jobId !== null && (typeof journal.jobId !== 'string' || journal.jobId.length === 0)) return 'its job id is not a string';
  return null;
}

/** The journal in `workDir`; null when there is none. An untrusted or unreadable one is an error naming why. */
export async function readWorkJournal(workDir: string): Promise<WorkJournal | null> {
  const path = workJournalPath(workDir);
  let text: string;
  try {
    const refused = journalFileRefusal(await lstat(path), process.getuid?.() ?? 0);
    if (refused) throw new Error(`${path} is not acted on: ${refused}`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not acted on: it is not JSON`);
  }
  const refused = workJournalRefusal(parsed);
  if (refused) throw new Error(`${path} is not acted on: ${refused}`);
  return parsed as WorkJournal;
}
