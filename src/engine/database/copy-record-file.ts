/**
 * The CLI's records of the database copies it made (see copy-records.ts): one JSON file per copy
 * in `<RECOVER_STATE_DIR>/database-copies/`, on the CLI's own disk. The directories are 0700 and
 * the files 0600, owned by the user the CLI runs as; a directory or file anyone else could have
 * written is refused rather than read, since a record there could be forged. Files are written
 * whole (temporary file, fsync, rename, directory fsync), so a crash leaves no half record.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { lstat, mkdir, readdir, readFile } from 'node:fs/promises';
import { RecoverError } from '../../errors.js';
import type { Logger } from '../../types.js';
import { writeJsonDurably } from '../durable-file.js';
import { copyRecordSchema, type CopyRecord, type CopyRecords, type NewCopyRecord } from './copy-records.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** `app_restored_20250115143502--<copyId>.json`: the copy's name first, so a lookup lists one prefix. */
export function copyRecordFileName(restoredName: string, copyId: string): string {
  return `${restoredName}--${copyId}.json`;
}

/** Why a directory or file of the record store cannot be trusted (pure, from its stat), or null. */
export function looseness(what: string, stats: { uid: number; mode: number; isDirectory(): boolean; isFile(): boolean }, kind: 'directory' | 'file', uid: number | null): string | null {
  if (kind === 'directory' ? !stats.isDirectory() : !stats.isFile()) return `${what} is not a ${kind}`;
  if (uid !== null && stats.uid !== uid) return `${what} belongs to uid ${stats.uid}, not to this process's user (uid ${uid})`;
  if ((stats.mode & 0o077) !== 0) return `${what} is open to other users (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}, expected ${kind === 'directory' ? '0700' : '0600'})`;
  return null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function fileCopyRecords(stateDir: string, log: Logger): CopyRecords {
  const dir = join(stateDir, 'database-copies');
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  const refuse = (problem: string): never => {
    throw new RecoverError('CONFIG_INVALID', `The record of verified database copies cannot be trusted: ${problem}.`, {
      hint: `RECOVER_STATE_DIR (${stateDir}) must be this user's alone: chmod 700 the directories and 600 the files, or point RECOVER_STATE_DIR at a new directory.`,
    });
  };
  const check = async (path: string, kind: 'directory' | 'file') => {
    const problem = looseness(path, await lstat(path), kind, uid);
    if (problem) refuse(problem);
  };

  async function ensureDir(): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await check(stateDir, 'directory');
    await check(dir, 'directory');
  }

  return {
    where: `${dir} (this host's record of the copies the recover CLI made)`,
    ready: ensureDir,
    async record(copy: NewCopyRecord): Promise<CopyRecord> {
      if (!NAME.test(copy.restoredName)) throw new RecoverError('INTERNAL', `Not a database name: ${copy.restoredName}.`);
      await ensureDir();
      const record: CopyRecord = copyRecordSchema.parse({ ...copy, copyId: `cli-${randomBytes(8).toString('hex')}`, madeBy: `recover CLI on ${hostname()}`, recordedAt: new Date().toISOString() });
      const path = join(dir, copyRecordFileName(copy.restoredName, record.copyId));
      await writeJsonDurably(path, record, { exclusive: true });
      return record;
    },
    async find({ database, restoredName }): Promise<CopyRecord[]> {
      if (!NAME.test(restoredName)) return [];
      const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      });
      if (names === null) return [];
      await check(stateDir, 'directory');
      await check(dir, 'directory');
      const records: CopyRecord[] = [];
      for (const name of names.filter((entry) => entry.startsWith(`${restoredName}--`) && entry.endsWith('.json'))) {
        const path = join(dir, name);
        await check(path, 'file');
        const parsed = copyRecordSchema.safeParse(parseJson(await readFile(path, 'utf8')));
        if (!parsed.success) {
          log.warn({ path }, 'ignoring an unreadable record of a database copy');
          continue;
        }
        if (parsed.data.database === database && parsed.data.restoredName === restoredName && name === copyRecordFileName(restoredName, parsed.data.copyId)) records.push(parsed.data);
      }
      return records.sort((a, b) => b.recordedAt.localeCompare(a.recordedAt));
    },
  };
}
