/**
 * Where a restore lands, and how to leave things when it fails.
 *
 * A side instance gets a directory this job creates itself, strictly inside the restore
 * root; a name already in use is refused before anything is touched, so a failure can
 * never stop or remove a server this job did not start.
 *
 * In place, production is stopped and its data directory renamed aside (never deleted).
 * Until the restored directory is verified, any failure puts the old directory back and
 * starts production again, and says exactly what state production is left in.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, rename, writeFile } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import { RecoverError } from '../errors.js';
import { compactUtcStamp } from '../util/time.js';
import type { EngineContext, PgToolConfig } from './context.js';
import { appendConf, exists, freePort, makeOwnedDir, startCluster, stopCluster } from './local-cluster.js';
import { MARKER_FILE, markerText } from './instance-check.js';
import { renderConf } from './pg-settings.js';
import { configFileOutside, readSourceLayout, type SourceLayout } from './source-layout.js';
import { withTargetClient, type TargetConnection } from './pg-client.js';
import type { Config } from '../config.js';
import type { JournalWriter } from './in-place-journal.js';
import { serverRunning } from './recovery.js';
import { answeringServerMismatch, LOCAL_DIR_HINT } from './local-identity.js';

type Owner = { uid: number; gid: number } | undefined;

/** Instance names are one plain path component: no dots first, no separators, no `..`. */
export const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export interface SideInstance {
  /** The random id written into its marker (instance-check.ts); later checks must find the same one. */
  id: string;
  workDir: string;
  dataDir: string;
  port: number;
  socketDir: string;
  logFile: string;
  connection: TargetConnection;
}

/**
 * Creates `<restoreRoot>/<name>` for this job only. `mkdir` without `recursive` fails when the
 * name exists (a directory, a file or a symlink), so an existing instance is never reused.
 * Writes the marker `recover-instance.json` (name, a random id, creation time, the data
 * directory, the job that restores it; mode 0600, owned by the runner, not by postgres): only a directory carrying it is
 * ever read from, stopped or removed as a side instance later (instances.ts openSideInstance).
 */
export async function createSideInstance(restoreRoot: string, name: string, owner: Owner, port?: number, about: { jobId?: string | null } = {}): Promise<SideInstance> {
  if (!INSTANCE_NAME.test(name)) {
    throw new RecoverError('BAD_INPUT', `"${name}" is not a usable instance name.`, {
      hint: 'Use 1-63 letters, digits, dash or underscore, starting with a letter or digit (no dots, no slashes).',
    });
  }
  await makeOwnedDir(restoreRoot, owner);
  const root = await realpath(restoreRoot);
  const workDir = join(root, name);
  const inside = relative(root, workDir);
  if (inside !== name || isAbsolute(inside)) {
    throw new RecoverError('BAD_INPUT', `The instance name "${name}" would leave the restore root ${root}.`, { hint: 'Use a plain name.' });
  }
  try {
    await mkdir(workDir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new RecoverError('INSTANCE_EXISTS', `A side instance named ${name} already exists under ${root}; it was left untouched.`, {
        hint: 'Choose another --instance name (or leave it out for a fresh one), or remove the old instance once nobody needs it.',
        cause: error,
      });
    }
    throw error;
  }
  // The real path must still be inside the root (nothing swapped a symlink in meanwhile).
  const real = await realpath(workDir);
  if (relative(root, real) !== name) {
    throw new RecoverError('BAD_INPUT', `The instance directory ${workDir} resolves outside the restore root.`, { hint: 'Check RECOVER_RESTORE_ROOT for symlinks.' });
  }
  await makeOwnedDir(workDir, owner);
  const dataDir = join(workDir, 'data');
  const socketDir = join(workDir, 'run');
  await makeOwnedDir(dataDir, owner);
  await makeOwnedDir(socketDir, owner);
  const id = randomBytes(12).toString('hex');
  // 'wx': never over an existing file or through a symlink; the runner keeps it (no chown).
  await writeFile(join(workDir, MARKER_FILE), markerText({ name, id, createdAt: new Date().toISOString(), dataDir, ...(about.jobId ? { jobId: about.jobId } : {}) }), { mode: 0o600, flag: 'wx' });
  const listenPort = port ?? (await freePort());
  return {
    id,
    workDir,
    dataDir,
    port: listenPort,
    socketDir,
    logFile: join(workDir, 'server.log'),
    connection: { host: socketDir, port: listenPort, user: 'postgres', database: 'postgres' },
  };
}

export interface SwapOptions {
  /** Production found down when the job stops it (crashed): a roll-back puts its directory back and leaves it stopped. */
  leaveStoppedIfDown?: boolean;
}

export interface InPlaceSwap {
  dataDir: string;
  workDir: string;
  logFile: string;
  /** Where the old data directory was moved; null until then. */
  readonly oldDataDir: string | null;
  /**
   * Learns where production's configuration lives (from the running server, else the backup's
   * manifest), then stops it; returns that for the job's record when it is outside the data directory.
   */
  stopProduction(): Promise<string | undefined>;
  moveAside(): Promise<string>;
  /** Starts production on whatever data directory is in place now. */
  startProduction(signal?: AbortSignal): Promise<void>;
  /**
   * Until the restore is verified its new timeline must not reach production's archive (a
   * roll-back would leave a `.history` there that later restores follow): archive_command is
   * emptied, so WAL waits in pg_wal as `.ready`, and restored once the data is verified.
   */
  pauseArchiving(): Promise<void>;
  resumeArchiving(): Promise<void>;
  /** After a failure: old directory back, production started; returns what state it is in. */
  rollBack(): Promise<string>;
  /** Production's config_file when outside the data directory, once learned. */
  readonly configFile: string | undefined;
}

const PAUSE_HEADER = 'recover-bot: archiving paused until the restored data is verified';
const PAUSE_BLOCK = renderConf({ archive_command: '' }, PAUSE_HEADER);

/** Removes the archiving pause from `<dataDir>/postgresql.auto.conf`; false when it is not there. */
export async function removeArchivingPause(dataDir: string): Promise<boolean> {
  const path = join(dataDir, 'postgresql.auto.conf');
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  if (!text.includes(PAUSE_BLOCK)) return false;
  await writeFile(path, text.replace(PAUSE_BLOCK, ''));
  return true;
}

/**
 * `recorded`: the source layout in the restored backup's manifest, for when production cannot be asked (already down).
 * `journal`: written before each destructive action (in-place-journal.ts), so a lost runner's restore can be put right.
 */
export function inPlaceSwap(ctx: EngineContext, tools: PgToolConfig, config: Pick<Config, 'source' | 'recoveryTimeoutSeconds'>, connection: TargetConnection, owner: Owner, recorded?: SourceLayout, journal?: JournalWriter, options: SwapOptions = {}): InPlaceSwap {
  const dataDir = config.source.dataDir!;
  const workDir = `${dataDir}.recover`;
  const logFile = join(workDir, 'server.log');
  const stop = config.source.stop;
  let stopped = false;
  // Production found down (crashed) with leaveStoppedIfDown: a roll-back never starts it (crash recovery over damaged files could lose data silently).
  let leaveStopped = false;
  let oldDataDir: string | null = null;
  // Debian's packages keep postgresql.conf under /etc: production (the restored server, and the
  // old one after a roll-back) is started with it, as it normally is, never on the data directory alone.
  let configFile: string | undefined;
  let learned = false;
  const learnConfigFile = async () => {
    if (learned) return configFile;
    const live = await withTargetClient(connection, (client) => readSourceLayout(client), ctx.log).catch((error: unknown) => {
      ctx.log.warn({ err: error }, "could not read production's config_file before stopping it; using the backup's record");
      return undefined;
    });
    configFile = configFileOutside({ configFile: live?.configFile ?? recorded?.configFile }, dataDir);
    learned = true;
    return configFile;
  };

  const startProduction = async (signal?: AbortSignal) => {
    if (stop.method === 'hook') {
      await ctx.exec.run(stop.startCommand![0]!, stop.startCommand!.slice(1), { ...(signal ? { signal } : {}), timeoutMs: 600_000 });
      return;
    }
    await makeOwnedDir(workDir, owner); // pg_ctl's log lives there
    const found = learned ? configFile : configFileOutside(recorded, dataDir);
    await startCluster(ctx.exec, tools.bin, tools.osUser, { dataDir, port: Number(connection.port), socketDir: String(connection.host), logFile, ...(found ? { configFile: found } : {}) }, config.recoveryTimeoutSeconds, signal);
  };

  return {
    dataDir,
    workDir,
    logFile,
    get oldDataDir() {
      return oldDataDir;
    },
    get configFile() {
      return learned ? configFile : configFileOutside(recorded, dataDir);
    },
    async stopProduction() {
      // A crashed server leaves its postmaster.pid behind: pg_ctl stop would fail on it.
      const wasRunning = await serverRunning(dataDir);
      if (wasRunning) {
        const problem = await answeringServerMismatch(ctx.log, dataDir, 'RECOVER_SOURCE_DATA_DIR', connection);
        if (problem) throw new RecoverError('TARGET_NOT_ALLOWED', `Production was not stopped and nothing was restored: ${problem}.`, { hint: LOCAL_DIR_HINT });
      }
      leaveStopped = !wasRunning && options.leaveStoppedIfDown === true;
      const down = wasRunning ? undefined : 'it was not running';
      // Marked first: a stop that fails half-way leaves production in an unknown state, and
      // the roll-back must try to start it again.
      if (stop.method === 'hook') {
        await journal?.update({ phase: 'stopping', stopMethod: 'hook', ...(leaveStopped ? { leaveStopped } : {}) });
        stopped = true;
        // Run even when down: the service manager must not start it again behind the restore.
        try {
          await ctx.exec.run(stop.stopCommand![0]!, stop.stopCommand!.slice(1), { signal: ctx.signal, timeoutMs: 600_000 });
        } catch (error) {
          if (wasRunning || (await serverRunning(dataDir))) throw error;
          ctx.log.warn({ err: error }, 'the stop hook failed, and production was not running: going on');
        }
        return down;
      }
      const outside = await learnConfigFile();
      // Started on the data directory alone, production would find no configuration (or a stub)
      // and stay down, the roll-back's restart too: refused while it still runs.
      if (!outside && !(await exists(join(dataDir, 'postgresql.conf')))) {
        throw new RecoverError('CONFIG_INVALID', `Production's data directory ${dataDir} holds no postgresql.conf, and where its configuration lives could not be learned (config_file unreadable for the connecting role, and not in the backup's manifest): it could not be started again after the restore. Production was not stopped.`, {
          hint: 'Grant the role in RECOVER_SOURCE_URL pg_read_all_settings so config_file can be read, or set RECOVER_SOURCE_STOP=hook with RECOVER_SOURCE_STOP_COMMAND/RECOVER_SOURCE_START_COMMAND (e.g. ["pg_ctlcluster","15","main","stop"] and ["pg_ctlcluster","15","main","start"]).',
        });
      }
      await journal?.update({ phase: 'stopping', stopMethod: 'pg_ctl', configFile: outside ?? null, ...(leaveStopped ? { leaveStopped } : {}) });
      stopped = true;
      if (wasRunning) await stopCluster(ctx.exec, tools.bin, tools.osUser, dataDir, 'fast');
      return [down, outside ? `its configuration is ${outside}, outside the data directory: started again with -c config_file` : undefined].filter(Boolean).join('; ') || undefined;
    },
    async moveAside() {
      const target = await unusedPath(`${dataDir}.before-pitr-${compactUtcStamp(ctx.clock.now())}`);
      await journal?.update({ phase: 'moving-aside', movedAside: target });
      await rename(dataDir, target);
      oldDataDir = target;
      ctx.failpoint?.('in-place:moved-aside');
      await journal?.update({ phase: 'restoring' });
      await makeOwnedDir(dataDir, owner);
      await makeOwnedDir(workDir, owner);
      return target;
    },
    startProduction,
    async pauseArchiving() {
      await journal?.update({ phase: 'configured' });
      await appendConf(dataDir, { archive_command: '' }, PAUSE_HEADER);
    },
    async resumeArchiving() {
      const path = join(dataDir, 'postgresql.auto.conf');
      const text = await readFile(path, 'utf8');
      if (!text.includes(PAUSE_BLOCK)) throw new RecoverError('RESTORE_FAILED', `The archiving pause is missing from ${path}; archiving state unknown.`, { hint: `Check archive_command on production and run SELECT pg_reload_conf().` });
      await writeFile(path, text.replace(PAUSE_BLOCK, ''));
      await withTargetClient(connection, (client) => client.query('SELECT pg_reload_conf()'), ctx.log);
    },
    async rollBack() {
      if (!stopped) {
        await journal?.remove();
        return 'Production was not stopped and nothing was moved.';
      }
      let failedDir: string | null = null;
      if (oldDataDir) {
        try {
          failedDir = await unusedPath(`${dataDir}.failed-pitr-${compactUtcStamp(ctx.clock.now())}`);
          await journal?.update({ phase: 'rolling-back', failedDir });
          if (await exists(dataDir)) await rename(dataDir, failedDir);
          else failedDir = null;
          await rename(oldDataDir, dataDir);
        } catch (error) {
          ctx.log.error({ err: error }, 'could not move the old data directory back');
          return `Production is STOPPED. Its previous data directory is kept at ${oldDataDir} but could not be moved back (${(error as Error).message}). Move it back to ${dataDir} and start production by hand.`;
        }
      }
      const kept = failedDir ? ` The failed restore is kept at ${failedDir} for inspection.` : '';
      if (leaveStopped) {
        await journal?.remove().catch((error: unknown) => ctx.log.error({ err: error }, 'could not remove the in-place journal after the roll-back'));
        return `Production is left STOPPED, as it was before the job: its previous data directory is ${oldDataDir ? 'back at' : 'unchanged at'} ${dataDir}.${kept}`;
      }
      try {
        await startProduction();
        await withTargetClient(connection, (client) => client.query('SELECT 1'), ctx.log);
      } catch (error) {
        ctx.log.error({ err: error }, 'could not start production again after a failed restore');
        return `Production is STOPPED: its previous data directory is back at ${dataDir}, but starting it failed (${(error as Error).message.split('\n')[0]}). Start it by hand.${kept}`;
      }
      await journal?.remove().catch((error: unknown) => ctx.log.error({ err: error }, 'could not remove the in-place journal after the roll-back'));
      return `Production is running again on its previous data directory ${dataDir}, unchanged by this job.${kept}`;
    },
  };
}

/**
 * `path`, or `path-2`, `path-3`…: the first name not in use. Names carry a stamp to the second,
 * and two in-place restores can fail within one second; rename() would fail on a non-empty
 * directory of that name (ENOTEMPTY, leaving production stopped) or silently replace an empty one.
 */
export async function unusedPath(path: string): Promise<string> {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? path : `${path}-${n}`;
    if (!(await exists(candidate))) return candidate;
  }
}
