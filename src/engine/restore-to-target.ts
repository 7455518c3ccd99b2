/**
 * Restoring a chosen base backup and replaying WAL to a target, into a prepared data
 * directory: prefetch WAL while the base backup streams in, configure recovery, start and
 * watch replay. `restoreSideInstance` is the reusable "a new side instance at a target"
 * (pitr, and later table, rows, database, drill); pitr in place uses `restoreToTarget` over
 * production's own directory. Steps reported: restore-base-backup, configure-recovery, replay-wal.
 */
import { removeWorkFiles, writeWorkJournal } from './work-journal.js';
import { chown, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { parseLsn, segmentName, segmentOfLsn, timelineForSegment } from '../catalog/segments.js';
import { describeTarget, type RestoreSelection } from '../catalog/select-restore.js';
import type { Config } from '../config.js';
import { RecoverError } from '../errors.js';
import type { RecoveryTarget, TargetAction } from '../types.js';
import { compactUtcStamp } from '../util/time.js';
import { startWalAgent, type WalAgent } from '../wal/agent.js';
import { WalFetcher } from '../wal/fetcher.js';
import { WAL_HOOK_SOURCE } from '../wal/hook-source.js';
import { nowIso, type EngineContext } from './context.js';
import { startCluster, stopCluster } from './local-cluster.js';
import type { TargetConnection } from './pg-client.js';
import { recoverySettings, replayOnlySettings, spoolRestoreCommand } from './pg-settings.js';
import { configureRecovery, lastNeededLsn, mustReachLsn, startAndWatchRecovery, type RecoveryOutcome } from './recovery.js';
import { restoreBaseBackup } from './restore-base.js';
import { endReplayTuning, type TuningEnd } from './replay-tuning.js';
import { earlySync, syncMethodFor } from './sync-restored.js';
import { createSideInstance } from './restore-layout.js';
import { openSideInstance, stopSideInstance } from './instances.js';
import { ownerFor } from './os-user.js';
import { writeSideConfig } from './source-layout.js';

export type RestoreConfig = Pick<Config, 'pg' | 'restoreRoot' | 'prefetch' | 'recoveryTimeoutSeconds' | 'verifyTables' | 'verifyConfigFile' | 'source'>;
type Owner = { uid: number; gid: number } | undefined;

export interface TargetRequest {
  target: RecoveryTarget;
  inclusive: boolean;
  action: TargetAction;
  /** Benchmarks only: replace the prefetching restore_command with a given one. */
  restoreCommandOverride?: string;
  /** Benchmarks only: false = a segment not yet in the spool is waited for by the agent, not the shell. */
  waitInShell?: boolean;
  /** Benchmarks only: these replay-only settings instead of replayOnlySettings' (bench/replay.ts). */
  replaySettingsOverride?: Record<string, string>;
}

/** Where the restore lands (a new side instance, or production's data directory). */
export interface RestoreLayout {
  dataDir: string;
  workDir: string;
  logFile: string;
  connection: TargetConnection;
  listen?: { port: number; socketDir: string; addresses: string };
  /** A side instance: archiving off (its timeline never reaches production's archive), local trust for verification. */
  side: boolean;
  start: () => Promise<void>;
  /** Stops the restored server cleanly (to restart it on its own settings after replay). */
  stop: () => Promise<void>;
  /** A side instance: stops it at once (after a failure) through the checked instance, never a bare path. */
  stopImmediately?: () => Promise<void>;
  /** A side instance: the id in the marker this job wrote (a later check must find the same one). */
  instanceId?: string;
}

export interface Replayed {
  outcome: RecoveryOutcome;
  baseSeconds: number;
  replaySeconds: number;
  /** How the instance left the replay-only settings behind (a reload, or a restart of the promoted server). */
  tuningEnd: TuningEnd;
  fetched: { downloaded: number; bytes: number; onDemand: number; renamedBySpool: number; servedByAgent: number; waitedMs: number } | null;
  /** Stops the restored server (immediate): for a failure after the restore. */
  stopServer(): Promise<void>;
}

export interface RestoreHooks {
  /** Before each step that changes the data directory (in place: the approval re-check). */
  beforeStep?: (kind: string) => Promise<void>;
  /** At the end of configure-recovery (in place: archiving paused until verified). */
  afterConfigure?: () => Promise<void>;
}

const SOCKET_PATH_MAX = 100;

/** The WAL agent's socket lives in the work directory: refused before anything changes if its path is too long. */
export function checkWorkDir(workDir: string): void {
  const socketPath = join(workDir, 'wal.sock');
  if (socketPath.length > SOCKET_PATH_MAX) {
    throw new RecoverError('CONFIG_INVALID', `The WAL agent socket path ${socketPath} is too long for a Unix socket.`, { hint: 'Use a shorter RECOVER_RESTORE_ROOT.' });
  }
}

/** Reports a step: started now, finished when the returned function is called (returns its seconds). */
export function step(ctx: EngineContext, name: string, title: string) {
  const started = ctx.clock.now();
  ctx.events.emit({ type: 'step.started', at: nowIso(ctx.clock), step: name, title });
  return (detail?: string) => {
    const seconds = (ctx.clock.now().getTime() - started.getTime()) / 1000;
    ctx.events.emit({ type: 'step.finished', at: nowIso(ctx.clock), step: name, seconds, ...(detail ? { detail } : {}) });
    return seconds;
  };
}

/** A new name per call: the second of the request plus a random suffix, never reused. */
export function defaultInstanceName(ctx: EngineContext): string {
  return `pitr-${compactUtcStamp(ctx.clock.now())}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Creates `<restoreRoot>/<name>` and its layout; refuses a name in use (INSTANCE_EXISTS). */
export async function sideLayout(ctx: EngineContext, config: RestoreConfig, options: { instanceName?: string; port?: number }, owner: Owner): Promise<RestoreLayout> {
  const name = options.instanceName ?? defaultInstanceName(ctx);
  const instance = await createSideInstance(config.restoreRoot, name, owner, options.port, { jobId: ctx.jobId ?? null });
  // Checked again at each stop (marker id, directory, the server's process in its data directory).
  const stopChecked = async (mode: 'fast' | 'immediate') => stopSideInstance(await openSideInstance(config, name, { expectId: instance.id }), mode);
  return {
    dataDir: instance.dataDir,
    workDir: instance.workDir,
    logFile: instance.logFile,
    connection: instance.connection,
    listen: { port: instance.port, socketDir: instance.socketDir, addresses: '127.0.0.1' },
    side: true,
    start: () => startCluster(ctx.exec, config.pg.bin, config.pg.osUser, { dataDir: instance.dataDir, port: instance.port, socketDir: instance.socketDir, logFile: instance.logFile }, config.recoveryTimeoutSeconds, ctx.signal),
    stop: () => stopChecked('fast'),
    stopImmediately: () => stopChecked('immediate'),
    instanceId: instance.id,
  };
}

/**
 * Base backup, recovery settings, replay to the target. On failure a server this call
 * started is stopped (immediate); the directory is left for inspection. The spool, socket
 * and hook file are always removed. On success the restored server is running.
 */
export async function restoreToTarget(
  ctx: EngineContext,
  config: RestoreConfig,
  selection: RestoreSelection,
  layout: RestoreLayout,
  request: TargetRequest,
  owner: Owner,
  hooks: RestoreHooks = {},
): Promise<Replayed> {
  const { dataDir, workDir, connection, listen } = layout;
  const spoolDir = join(workDir, 'spool');
  const socketPath = join(workDir, 'wal.sock');
  const hookPath = join(workDir, 'wal-hook.mjs');
  let fetcher: WalFetcher | undefined;
  let agent: WalAgent | undefined;
  // Only a server this call started is ever stopped by it.
  let started = false;
  const stopServer = layout.stopImmediately ?? (() => stopCluster(ctx.exec, config.pg.bin, config.pg.osUser, dataDir, 'immediate'));
  // Written before the spool, hook and socket exist: a runner killed from here on leaves the
  // next one on the host a record of what to tidy (work-tidy.ts).
  let journaled = false;
  try {
    checkWorkDir(workDir);
    await writeWorkJournal(workDir, { version: 1, jobId: ctx.jobId ?? null, pid: process.pid, startedAt: ctx.clock.now().toISOString() });
    journaled = true;
    fetcher = new WalFetcher({
      storage: ctx.storage,
      spoolDir,
      log: ctx.log,
      prefetch: request.restoreCommandOverride ? [] : selection.prefetchSegments,
      expected: selection.expected,
      parallel: config.prefetch.parallel,
      ahead: config.prefetch.ahead,
      ...(owner ? { owner } : {}),
    });
    await writeFile(hookPath, WAL_HOOK_SOURCE, { mode: 0o644 });
    if (owner) await chown(hookPath, owner.uid, owner.gid);
    await hooks.beforeStep?.('restore-base-backup');
    // While the base backup streams in, only the first few segments are fetched: replay can
    // start without waiting, and the rest would only compete with the base backup for CPU
    // and bandwidth (measured: fetching half the window then slowed the base backup by ~30%).
    // The full window opens once the base backup is in.
    fetcher.setAhead(Math.min(config.prefetch.parallel, config.prefetch.ahead));
    await fetcher.start();
    agent = await startWalAgent({ socketPath, storage: ctx.storage, log: ctx.log, fetcher, ...(owner ? { owner } : {}) });
    const finishBase = step(ctx, 'restore-base-backup', `Restore base backup ${selection.backup.id}`);
    // Once the last parts are extracting, slots free up with nothing left to extract: the full
    // window opens then, not when the last part is done.
    const openWindow = (active: WalFetcher) => () => active.setAhead(config.prefetch.ahead);
    await restoreBaseBackup(ctx, config.pg, selection.backup, dataDir, { onLastPartsStarted: openWindow(fetcher) });
    const baseSeconds = finishBase();
    fetcher.setAhead(config.prefetch.ahead);

    const finishConfigure = step(ctx, 'configure-recovery', `Configure recovery to ${describeTarget(request.target)}`);
    const restoreCommand = request.restoreCommandOverride ?? spoolRestoreCommand({ spoolDir, nodePath: process.execPath, hookPath, socketPath, ...(request.waitInShell === false ? { waitInShell: false } : {}) });
    const settings = recoverySettings({
      target: request.target,
      inclusive: request.inclusive,
      action: request.action,
      restoreCommand,
      timeline: selection.timeline,
      ...(listen ? { listen } : {}),
      archiving: layout.side ? 'off' : 'keep',
    });
    const replayOnly = request.replaySettingsOverride ?? replayOnlySettings({ syncBeforeHandover: layout.side && request.action === 'promote', walSegmentSize: selection.backup.walSegmentSize });
    // A side instance never uses the source's configuration files: Debian's packages keep them
    // outside the data directory (so outside the backup), and a copy in it may name the source's
    // paths. Its own minimal ones; local trust (its socket directory is private to the postgres
    // user and root) lets the runner verify without production credentials.
    if (layout.side) await writeSideConfig(ctx.exec, config.pg.bin, config.pg.osUser, dataDir, owner, selection.backup.sourceLayout);
    await configureRecovery(dataDir, settings, owner, replayOnly);
    await hooks.afterConfigure?.();
    ctx.failpoint?.('restore:configured');
    finishConfigure();

    await hooks.beforeStep?.('replay-wal');
    const finishReplay = step(ctx, 'replay-wal', `Replay WAL to ${describeTarget(request.target)}`);
    const size = selection.backup.walSegmentSize;
    const activeFetcher = fetcher;
    // fsync=off replay (a side instance that promotes): the base backup's bytes, still dirty in
    // the page cache, are written while the startup process replays (sync-restored.ts).
    const syncMethod = syncMethodFor(process.platform, release());
    const early = replayOnly.fsync === 'off' && syncMethod === 'syncfs' ? earlySync(ctx, config.pg, dataDir, syncMethod) : undefined;
    const outcome = await startAndWatchRecovery(ctx, {
      connection,
      dataDir,
      logFile: layout.logFile,
      action: request.action,
      startLsn: parseLsn(selection.backup.startLsn),
      lastNeededLsn: lastNeededLsn(selection),
      mustReachLsn: mustReachLsn(selection, request.target),
      segmentAt: (lsn) => segmentName(timelineForSegment(segmentOfLsn(lsn, size), selection.path, size), segmentOfLsn(lsn, size), size),
      archive: { lastSegment: selection.contiguousEnd, segmentSize: size, ref: (segment) => ({ name: segment, key: `${ctx.storage.walPrefix}${segment}`, store: ctx.storage.wal }) },
      timeoutSeconds: config.recoveryTimeoutSeconds,
      fetchError: () => activeFetcher.error,
      // Prefetch is part of replay, not a step of its own: its count rides on replay's progress.
      progressDetail: request.restoreCommandOverride ? undefined : () => `${activeFetcher.stats.downloaded}/${activeFetcher.stats.planned} segments fetched`,
      start: async () => {
        started = true;
        await layout.start();
        ctx.failpoint?.('restore:server-started');
      },
    });
    const tuningEnd = await endReplayTuning(ctx, config.pg, { dataDir, connection, replayOnly, state: outcome.state, stop: layout.stop, start: layout.start, syncMethod, ...(early ? { earlySync: early } : {}) });
    const replaySeconds = finishReplay(`${outcome.state} at ${outcome.replayLsn}, timeline ${outcome.timeline}${tuningEnd === 'none' || tuningEnd === 'reloaded' ? '' : `, ${tuningEnd} on its own settings`}`);
    const fetched = request.restoreCommandOverride
      ? null
      : (({ downloaded, bytes, onDemand, renamedBySpool, servedByAgent, waitedMs }) => ({ downloaded, bytes, onDemand, renamedBySpool, servedByAgent, waitedMs }))(activeFetcher.stats);
    return { outcome, baseSeconds, replaySeconds, tuningEnd, fetched, stopServer };
  } catch (error) {
    // Never leave a half-recovered server running where someone could mistake it for the result.
    if (started) await stopServer().catch((stopError: unknown) => ctx.log.error({ err: stopError }, 'could not stop the restored server after a failure'));
    throw error;
  } finally {
    await agent?.close();
    await fetcher?.stop();
    // The journal goes last: while something is left, the next runner start tidies it.
    if (journaled) await removeWorkFiles(ctx.exec, workDir).catch((error: unknown) => ctx.log.error({ err: error }, `could not remove the WAL spool, hook or socket in ${workDir}; the next runner start tries again`));
  }
}

export interface SideInstanceRestore extends Replayed {
  layout: RestoreLayout;
}

/** A new side instance `<restoreRoot>/<name>`, restored to the target and running (archiving off, local trust). */
export async function restoreSideInstance(
  ctx: EngineContext,
  config: RestoreConfig,
  selection: RestoreSelection,
  request: TargetRequest & { instanceName?: string; port?: number },
  owner: Owner,
): Promise<SideInstanceRestore> {
  const layout = await sideLayout(ctx, config, request, owner);
  return { layout, ...(await restoreToTarget(ctx, config, selection, layout, request, owner)) };
}

/** Where a side instance a job restored can be reached, for its result and the channel. */
export interface SideInstanceFacts {
  instanceName: string;
  dataDir: string;
  connect: string;
  reachedTime: string | null;
}

/**
 * The select step, then a side instance restored to the target with the postgres user as
 * owner: what commands that work from a side copy (rows, table) start with.
 */
export async function restoreSideForJob(
  ctx: EngineContext,
  config: RestoreConfig,
  request: { selection: RestoreSelection; target: RecoveryTarget; inclusive: boolean; instanceName: string; database: string },
): Promise<{ restored: SideInstanceRestore; side: SideInstanceFacts }> {
  const { selection } = request;
  step(ctx, 'select', `Check backup ${selection.backup.id} and the WAL segments in storage`)(`backup ${selection.backup.id}, ${selection.requiredSegments.length} WAL segments`);
  const owner = await ownerFor(config.pg.osUser);
  const restored = await restoreSideInstance(ctx, config, selection, { target: request.target, inclusive: request.inclusive, action: 'promote', instanceName: request.instanceName }, owner);
  const port = restored.layout.listen?.port ?? Number(restored.layout.connection.port);
  const connect = `psql -h ${restored.layout.listen?.socketDir ?? '?'} -p ${port} -U postgres ${request.database}`;
  return { restored, side: { instanceName: request.instanceName, dataDir: restored.layout.dataDir, connect, reachedTime: restored.outcome.reachedTime ?? null } };
}
