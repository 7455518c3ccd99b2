/**
 * Tidying what a restore whose runner was lost left in its work directory, by its work journal
 * (work-journal.ts): on a side instance, the half-restored server (replaying from a socket no
 * one answers any more) is stopped, and the WAL spool, the restore_command hook and the socket
 * are removed; the instance's directory is kept for inspection, as after any failed restore.
 * In place, only the files (`<dataDir>.recover`), and only once no in-place journal is left:
 * the server there is production's business (in-place-recovery.ts).
 *
 * Whether a journal may be touched (its job is not held by a live runner) is the caller's
 * decision, as for the in-place journal, and so is whether the restore it describes had
 * finished (its job succeeded; only its files' removal failed at the end): then the server is
 * the restore's result, left running, and only the files go, with nothing said to the channel
 * (the job's thread already has its summary).
 */
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { EngineContext } from './context.js';
import { readJournal } from './in-place-journal.js';
import { listInstances, openSideInstance, stopSideInstance, type InstanceConfig } from './instances.js';
import { readWorkJournal, removeWorkFiles, WORK_FILES, type WorkJournal } from './work-journal.js';

export type TidyConfig = InstanceConfig & { source: Pick<Config['source'], 'dataDir'> };

/** What the caller knows of a work journal's restore: someone's still ('leave'), abandoned mid-restore ('lost'), or finished with its files left behind ('finished'). */
export type WorkVerdict = 'leave' | 'lost' | 'finished';

export interface WorkTidied {
  journal: WorkJournal;
  workDir: string;
  /** A side instance's name; null in place. */
  instance: string | null;
  ok: boolean;
  /** For the job's thread: what was done, and what is kept. */
  message: string;
  /** False for a finished restore's leftover files: logged, not told to the job's thread. */
  notify: boolean;
}

/** A finished restore's spool, hook and socket (their removal failed at its end); its server is its result and keeps running. */
async function tidyFinished(ctx: EngineContext, workDir: string, name: string | null, journal: WorkJournal): Promise<WorkTidied> {
  try {
    await removeWorkFiles(ctx.exec, workDir);
    const message = `removed the WAL spool, restore hook and socket that finished restore of job ${journal.jobId} left in ${workDir}; its server was not touched`;
    ctx.log.info({ jobId: journal.jobId, workDir }, message);
    return { journal, workDir, instance: name, ok: true, message, notify: false };
  } catch (error) {
    ctx.log.error({ err: error, workDir }, 'could not remove what a finished restore left in its work directory; trying again later');
    return { journal, workDir, instance: name, ok: false, message: (error as Error).message, notify: false };
  }
}

async function tidySide(ctx: EngineContext, config: TidyConfig, name: string, journal: WorkJournal): Promise<WorkTidied> {
  const workDir = join(config.restoreRoot, name);
  const who = journal.jobId ? `job ${journal.jobId}` : `a CLI restore (pid ${journal.pid})`;
  try {
    // The checked path: a directory this tool created, its server verified through /proc.
    const instance = await openSideInstance(config, name);
    const said: string[] = [];
    if (instance.running) {
      await stopSideInstance(instance, 'immediate');
      said.push(`stopped its half-restored server (pid ${instance.running.pid}), which was replaying WAL from the lost runner`);
    }
    await removeWorkFiles(ctx.exec, workDir);
    said.push('removed its WAL spool, restore hook and socket');
    const message = `recover-bot found side instance ${name}, left mid-restore by ${who} whose runner was lost: ${said.join('; ')}. The instance is NOT a finished restore; its directory ${workDir} is kept for inspection (server log: ${join(workDir, 'server.log')}). Remove it with \`recover instances remove ${name}\`, and ask again for the restore.`;
    ctx.log.warn({ jobId: journal.jobId, instance: name }, message);
    return { journal, workDir, instance: name, ok: true, message, notify: true };
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    ctx.log.error({ err: error, instance: name }, 'could not tidy a side instance a lost runner left; trying again later');
    return { journal, workDir, instance: name, ok: false, message: `recover-bot found side instance ${name}, left mid-restore by ${who} whose runner was lost, and could not tidy it: ${reason}. The runner tries again every few seconds; by hand: stop its server (pg_ctl -D ${join(workDir, 'data')} stop -m immediate) and remove ${join(workDir, WORK_FILES.spool)}.`, notify: true };
  }
}

/**
 * Every work journal under the restore root (and beside production's data directory) that
 * `judge` does not leave is acted on; returns what was done for each. A journal that cannot be
 * read or is not trusted is logged and left alone (a person must look).
 */
export async function tidyLostWork(ctx: EngineContext, config: TidyConfig, judge: (journal: WorkJournal) => Promise<WorkVerdict>): Promise<WorkTidied[]> {
  const tidied: WorkTidied[] = [];
  const read = async (workDir: string) =>
    readWorkJournal(workDir).catch((error: unknown) => {
      ctx.log.error({ err: error, workDir }, 'a work journal is not acted on');
      return null;
    });
  // An unreadable restore root is said, not taken for an empty one; production's work directory is still looked at.
  const names = await listInstances(config.restoreRoot).catch((error: unknown) => {
    ctx.log.error({ err: error, restoreRoot: config.restoreRoot }, 'the restore root cannot be listed: the work journals of side restores are not looked at; trying again later');
    return [] as string[];
  });
  for (const name of names) {
    const journal = await read(join(config.restoreRoot, name));
    const verdict = journal ? await judge(journal) : 'leave';
    if (verdict === 'finished') tidied.push(await tidyFinished(ctx, join(config.restoreRoot, name), name, journal!));
    else if (verdict === 'lost') tidied.push(await tidySide(ctx, config, name, journal!));
  }
  const dataDir = config.source.dataDir;
  if (dataDir) {
    const workDir = `${dataDir}.recover`;
    const journal = await read(workDir);
    // Production's own state first: while an in-place journal is left, its recovery may still need the server.
    if (journal && (await judge(journal)) !== 'leave' && (await readJournal(dataDir).then((j) => j === null, () => false))) {
      try {
        await removeWorkFiles(ctx.exec, workDir);
        ctx.log.warn({ jobId: journal.jobId }, `removed the WAL spool, hook and socket a lost in-place restore left in ${workDir}`);
      } catch (error) {
        ctx.log.error({ err: error, workDir }, 'could not tidy what a lost in-place restore left; trying again later');
      }
    }
  }
  return tidied;
}
