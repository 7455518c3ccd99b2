/**
 * The journal of an in-place restore: a small JSON file beside production's data directory
 * (`<dataDir>.recover-journal.json`) saying which step the restore is at, which directories
 * it uses and how production is started. It is written (fsync'd, renamed into place, parent
 * directory fsync'd) BEFORE each destructive action, so a runner that dies at any point
 * leaves enough on the host for another runner (or a person) to put production back.
 *
 * What a recovery does is decided by `decideRecovery` (pure, from the journal's phase and
 * what is on disk); in-place-recovery.ts carries it out. Each action looks at the disk first,
 * so a recovery that is itself interrupted is simply run again.
 */
import { lstat, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RecoverError } from '../errors.js';
import { fsyncPath, writeJsonDurably } from './durable-file.js';

/**
 * stopping → moving-aside → restoring → configured → verified (→ done: journal removed).
 * rolling-back: a roll-back (the job's own, or a recovery's) is under way.
 */
export type JournalPhase = 'stopping' | 'moving-aside' | 'restoring' | 'configured' | 'verified' | 'rolling-back';

export interface InPlaceJournal {
  version: 1;
  /** The control-DB job (null: the CLI); a runner never touches a journal whose job another live runner holds. */
  jobId: string | null;
  /** The process that wrote it: a journal of a process still alive on this host is left to that process. */
  pid: number;
  dataDir: string;
  /** Where production's data directory is (to be) moved; null until the move is decided. */
  movedAside: string | null;
  /** Where the half-restored directory is kept by a roll-back; null until one starts. */
  failedDir: string | null;
  /** Production's config_file when outside the data directory (started with -c config_file). */
  configFile: string | null;
  stopMethod: 'pg_ctl' | 'hook';
  /** Production was down (crashed) when the job began: a roll-back puts its directory back and does not start it. */
  leaveStopped?: boolean;
  phase: JournalPhase;
  updatedAt: string;
}

export const journalPath = (dataDir: string): string => `${dataDir}.recover-journal.json`;

export type RecoveryAction =
  /** Stop the server running on the data directory: the half-restored one (immediate). */
  | 'stop-restored'
  /** Rename the data directory (half restored) to failedDir. */
  | 'keep-failed'
  /** Rename the moved-aside directory back to the data directory. */
  | 'put-back'
  /** Remove the archiving pause recover-bot added (and reload if the server runs). */
  | 'remove-pause'
  /** Start production the way it is normally started (pg_ctl with its config_file, or the hook). */
  | 'start'
  /** Production must answer a query. */
  | 'check'
  | 'remove-journal';

export interface DiskFacts {
  dataDirExists: boolean;
  movedAsideExists: boolean;
  /** A live postmaster whose postmaster.pid names the data directory. */
  serverOnDataDir: boolean;
}

export interface RecoveryDecision {
  kind: 'roll-back' | 'finish';
  actions: RecoveryAction[];
}

/**
 * Before the restored data was verified: roll back (the original put back, the half-restored
 * directory kept). Once verified, the restored data is production's: finish (no destructive
 * step runs again). The original counts as moved only while the moved-aside directory exists.
 */
export function decideRecovery(journal: Pick<InPlaceJournal, 'phase' | 'movedAside' | 'leaveStopped'>, disk: DiskFacts): RecoveryDecision {
  const startIfDown: RecoveryAction[] = disk.serverOnDataDir ? [] : ['start'];
  if (journal.phase === 'verified') return { kind: 'finish', actions: [...startIfDown, 'remove-pause', 'check', 'remove-journal'] };
  const moved = journal.movedAside !== null && disk.movedAsideExists;
  // Production was down before the job (crashed, maybe damaged): put back, never started.
  const startAgain: RecoveryAction[] = journal.leaveStopped === true ? [] : ['start', 'check'];
  // Not moved (or already put back): the data directory is production's own, at most stopped.
  if (!moved) return { kind: 'roll-back', actions: [...(journal.leaveStopped === true ? [] : [...startIfDown, 'check' as const]), 'remove-journal'] };
  return {
    kind: 'roll-back',
    actions: [
      ...(disk.serverOnDataDir ? (['stop-restored'] as const) : []),
      ...(disk.dataDirExists ? (['keep-failed'] as const) : []),
      'put-back',
      'remove-pause',
      ...startAgain,
      'remove-journal',
    ],
  };
}

/** Reads a journal; null when there is none. A journal that cannot be parsed is an error (a person must look). */
export async function readJournal(dataDir: string): Promise<InPlaceJournal | null> {
  let text: string;
  try {
    text = await readFile(journalPath(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const parsed = JSON.parse(text) as InPlaceJournal;
  if (parsed.version !== 1 || parsed.dataDir !== dataDir) throw new Error(`${journalPath(dataDir)} is not a recover-bot journal for ${dataDir}`);
  // A recovery renames directories and starts production as the journal says: only a journal
  // this runner's user wrote counts, and only with the names a restore of dataDir gives.
  const refused = journalFileRefusal(await lstat(journalPath(dataDir)), process.getuid?.() ?? 0) ?? journalRefusal(parsed, dataDir);
  if (refused) {
    throw new RecoverError('RESTORE_FAILED', `${journalPath(dataDir)} is not acted on: ${refused}.`, {
      hint: `If no in-place restore of ${dataDir} was interrupted, look at the file and remove it; otherwise put production back by hand (see the job's message).`,
    });
  }
  return parsed;
}

const PHASES: readonly JournalPhase[] = ['stopping', 'moving-aside', 'restoring', 'configured', 'verified', 'rolling-back'];
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Why the journal's content is not one a restore of `dataDir` writes, or null. Pure. */
export function journalRefusal(journal: InPlaceJournal, dataDir: string): string | null {
  const named = (kind: 'before' | 'failed') => new RegExp(`^${escaped(dataDir)}\\.${kind}-pitr-\\d{8}T\\d{6}Z(-\\d+)?$`);
  if (!PHASES.includes(journal.phase)) return `its phase "${String(journal.phase)}" is not one recover-bot writes`;
  if (journal.stopMethod !== 'pg_ctl' && journal.stopMethod !== 'hook') return `its stop method "${String(journal.stopMethod)}" is not one recover-bot writes`;
  if (!Number.isInteger(journal.pid) || journal.pid <= 0) return 'it names no writing process';
  if (journal.movedAside !== null && !named('before').test(journal.movedAside)) return `the directory it would put back, ${String(journal.movedAside)}, is not ${dataDir}.before-pitr-<time>`;
  if (journal.failedDir !== null && !named('failed').test(journal.failedDir)) return `the directory it would keep the restore in, ${String(journal.failedDir)}, is not ${dataDir}.failed-pitr-<time>`;
  if (journal.configFile !== null && (typeof journal.configFile !== 'string' || !journal.configFile.startsWith('/'))) return 'its config_file is not an absolute path';
  if (journal.leaveStopped !== undefined && typeof journal.leaveStopped !== 'boolean') return 'its leaveStopped is not true or false';
  return null;
}

/** Why the journal file itself is not trusted (a symlink, another owner, writable by others), or null. Pure. */
export function journalFileRefusal(stats: { uid: number; mode: number; isFile(): boolean }, uid: number): string | null {
  if (!stats.isFile()) return 'it is not a regular file (a symbolic link?)';
  if (stats.uid !== uid) return `it belongs to user ${stats.uid}, not to the runner's user ${uid}, who writes journals`;
  if ((stats.mode & 0o022) !== 0) return `its group or others may write it (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')})`;
  return null;
}

/** Durable before the caller goes on: written to a temporary file, fsync'd, renamed over, the directory fsync'd. */
export async function writeJournal(journal: InPlaceJournal): Promise<void> {
  await writeJsonDurably(journalPath(journal.dataDir), journal);
}

export async function removeJournal(dataDir: string): Promise<void> {
  await rm(journalPath(dataDir), { force: true });
  await fsyncPath(dirname(dataDir));
}

/** The journal of one in-place restore, updated phase by phase (each update durable before it returns). */
export interface JournalWriter {
  update(patch: Partial<Pick<InPlaceJournal, 'phase' | 'movedAside' | 'failedDir' | 'configFile' | 'stopMethod' | 'leaveStopped'>>): Promise<void>;
  remove(): Promise<void>;
  readonly current: InPlaceJournal | null;
}

export function journalWriter(dataDir: string, jobId: string | null, clock: { now(): Date }): JournalWriter {
  let current: InPlaceJournal | null = null;
  return {
    get current() {
      return current;
    },
    async update(patch) {
      // Never over another restore's journal: that one must be put right first (a runner does it at start).
      const earlier = current === null ? await readJournal(dataDir) : null;
      if (earlier) {
        throw new RecoverError('RESTORE_FAILED', `An earlier in-place restore of ${dataDir} (job ${earlier.jobId ?? 'from the CLI'}, phase ${earlier.phase}) was interrupted and not yet put right; production was not stopped.`, {
          hint: `A runner with RECOVER_SOURCE_DATA_DIR=${dataDir} rolls it back or finishes it within seconds of starting (from ${journalPath(dataDir)}); start one, wait for its message, then ask again.`,
        });
      }
      current = {
        version: 1,
        jobId,
        pid: process.pid,
        dataDir,
        movedAside: null,
        failedDir: null,
        configFile: null,
        stopMethod: 'pg_ctl',
        phase: 'stopping',
        ...current,
        ...patch,
        updatedAt: clock.now().toISOString(),
      };
      await writeJournal(current);
    },
    async remove() {
      // Only a journal this restore wrote.
      if (current === null) return;
      current = null;
      await removeJournal(dataDir);
    },
  };
}
