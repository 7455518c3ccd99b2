/**
 * Putting right an in-place restore whose runner was lost (killed, host rebooted, OOM): from
 * its journal (in-place-journal.ts), either roll it back (the half-restored server stopped and
 * kept as `<dataDir>.failed-pitr-<stamp>`, production's own directory put back and started)
 * or, once the restored data had passed verification, finish it (archiving resumed). No
 * destructive step of the restore is ever run again. Every action looks at the disk first and
 * the journal records the failed directory's name before anything is renamed, so a recovery
 * that is interrupted itself is run again from wherever it stopped.
 *
 * Whether a journal may be touched at all (its job is not held by a live runner) is the
 * caller's decision (`mayTouch`): the engine does not know the control DB.
 */
import { readFileSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { compactUtcStamp } from '../util/time.js';
import { parseConnectionUrl, pgClientConfig } from '../util/connection-url.js';
import type { EngineContext } from './context.js';
import { parsePidFile, type PidFile } from './instance-check.js';
import { decideRecovery, readJournal, removeJournal, writeJournal, type InPlaceJournal, type RecoveryAction } from './in-place-journal.js';
import { exists, stopCluster } from './local-cluster.js';
import { ownerFor } from './os-user.js';
import { withTargetClient } from './pg-client.js';
import { inPlaceSwap, removeArchivingPause, unusedPath } from './restore-layout.js';
import type { SourceLayout } from './source-layout.js';

export type RecoveryConfig = Pick<Config, 'source' | 'pg' | 'recoveryTimeoutSeconds'>;

export interface InPlaceRecovery {
  journal: InPlaceJournal;
  kind: 'roll-back' | 'finish';
  /** Production answers again (false: the journal is kept and the recovery is tried again later). */
  ok: boolean;
  done: RecoveryAction[];
  /** For the channel: what was done and what state production is in. */
  message: string;
}

/** A live postmaster whose postmaster.pid names `dataDir` (never a server of another directory). */
export async function postmasterOn(dataDir: string): Promise<boolean> {
  let pidFile: PidFile | null;
  try {
    pidFile = parsePidFile(await readFile(join(dataDir, 'postmaster.pid'), 'utf8'));
  } catch {
    return false;
  }
  if (!pidFile || pidFile.dataDir.trim() !== dataDir) return false;
  try {
    process.kill(pidFile.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether process `pid` of this host still exists (a zombie, dead but not yet reaped by its parent, does not count). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces or parentheses, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** The exact commands for a person, when recover-bot could not finish a roll-back itself. */
export function manualRollBackCommands(journal: Pick<InPlaceJournal, 'dataDir' | 'movedAside' | 'configFile'>, pgBin: string): string {
  const data = journal.dataDir;
  const configOption = journal.configFile ? ` -o "-c config_file=${journal.configFile}"` : '';
  const start = `runuser -u postgres -- ${pgBin}/pg_ctl start -D ${data} -l ${data}.recover/server.log${configOption}`;
  if (!journal.movedAside) return start;
  return [`runuser -u postgres -- ${pgBin}/pg_ctl stop -D ${data} -m immediate`, `mv ${data} ${data}.failed-pitr-manual`, `mv ${journal.movedAside} ${data}`, start].join('; ');
}

/**
 * Reads `<RECOVER_SOURCE_DATA_DIR>.recover-journal.json`; null when there is none or
 * `mayTouch` says its job is still someone's. Otherwise rolls back or finishes, and says what it did.
 */
export async function recoverInterruptedInPlace(ctx: EngineContext, config: RecoveryConfig, mayTouch: (journal: InPlaceJournal) => Promise<boolean>): Promise<InPlaceRecovery | null> {
  const dataDir = config.source.dataDir;
  if (!dataDir || !config.source.url) return null;
  const journal = await readJournal(dataDir);
  if (!journal || !(await mayTouch(journal))) return null;
  const disk = {
    dataDirExists: await exists(dataDir),
    movedAsideExists: journal.movedAside !== null && (await exists(journal.movedAside)),
    serverOnDataDir: await postmasterOn(dataDir),
  };
  const decision = decideRecovery(journal, disk);
  ctx.log.warn({ journal, disk, decision }, 'an interrupted in-place restore was found; putting production right');
  const connection = pgClientConfig(parseConnectionUrl(config.source.url), 'postgres');
  const owner = await ownerFor(config.pg.osUser);
  const recorded = journal.configFile ? ({ configFile: journal.configFile } as SourceLayout) : undefined;
  const swap = inPlaceSwap(ctx, config.pg, config, connection, owner, recorded);
  const done: RecoveryAction[] = [];
  const said: string[] = [];
  let failedDir = journal.failedDir;
  try {
    for (const action of decision.actions) {
      switch (action) {
        case 'stop-restored':
          await stopCluster(ctx.exec, config.pg.bin, config.pg.osUser, dataDir, 'immediate');
          said.push('stopped the half-restored server');
          break;
        case 'keep-failed':
          // The name is recorded before the rename: an interrupted roll-back finds it again.
          if (!failedDir || (await exists(failedDir))) {
            failedDir = await unusedPath(`${dataDir}.failed-pitr-${compactUtcStamp(ctx.clock.now())}`);
            await writeJournal({ ...journal, phase: 'rolling-back', failedDir, updatedAt: ctx.clock.now().toISOString() });
          }
          await rename(dataDir, failedDir);
          said.push(`kept the half-restored directory as ${failedDir}`);
          break;
        case 'put-back':
          await rename(journal.movedAside!, dataDir);
          said.push(`put the previous data directory ${journal.movedAside} back at ${dataDir}`);
          break;
        case 'remove-pause':
          if (await removeArchivingPause(dataDir)) {
            said.push('resumed archiving (removed the pause recover-bot had set)');
            if (await postmasterOn(dataDir)) await withTargetClient(connection, (client) => client.query('SELECT pg_reload_conf()'), ctx.log);
          }
          break;
        case 'start':
          await swap.startProduction(ctx.signal);
          said.push('started production');
          break;
        case 'check':
          await withTargetClient(connection, (client) => client.query('SELECT 1'), ctx.log);
          said.push('production answers');
          break;
        case 'remove-journal':
          await removeJournal(dataDir);
          break;
      }
      done.push(action);
    }
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    ctx.log.error({ err: error, done }, 'could not put production right after an interrupted in-place restore; trying again later');
    const message = `recover-bot found in-place job ${journal.jobId ?? '(CLI)'} interrupted (phase ${journal.phase}) and tried to ${decision.kind === 'finish' ? 'finish it' : 'roll it back'}: ${said.join('; ') || 'nothing done yet'}; then failed: ${reason}. Production may be STOPPED; the runner tries again every few seconds. By hand: ${manualRollBackCommands({ ...journal, movedAside: disk.movedAsideExists ? journal.movedAside : null }, config.pg.bin)}`;
    return { journal, kind: decision.kind, ok: false, done, message };
  }
  const state = decision.kind === 'finish'
    ? `The restored data had passed verification, so the restore was finished: production runs on the restored data${journal.movedAside ? `; the previous data directory is kept at ${journal.movedAside}` : ''}.`
    : `${journal.leaveStopped === true ? `Production's previous data directory is back at ${dataDir} and left STOPPED, as it was before the job (it was down)` : `Production runs on its previous data directory ${dataDir}, unchanged by the job`}${failedDir && done.includes('keep-failed') ? `; the half-restored one is kept at ${failedDir} for inspection` : ''}.`;
  const message = `recover-bot found in-place job ${journal.jobId ?? '(CLI)'} interrupted (its runner was lost at phase ${journal.phase}) and ${decision.kind === 'finish' ? 'finished it' : 'rolled it back'}: ${said.join('; ') || 'nothing needed doing'}. ${state}`;
  ctx.log.warn({ jobId: journal.jobId }, message);
  return { journal, kind: decision.kind, ok: true, done, message };
}
