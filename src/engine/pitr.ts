/**
 * Point-in-time recovery, end to end: choose the backup and WAL (refusing before anything
 * runs if the target is unreachable), prefetch WAL while the base backup streams in, replay
 * to the target, verify. Side instance by default; in place keeps the old data directory.
 */
import { rm, writeFile, chown, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecoverError, toRecoverError } from '../errors.js';
import type { RecoveryTarget, TargetAction } from '../types.js';
import { WalFetcher } from '../wal/fetcher.js';
import { startWalAgent, type WalAgent } from '../wal/agent.js';
import { WAL_HOOK_SOURCE } from '../wal/hook-source.js';
import { parseLsn, parseSegmentName, segmentName, segmentOfLsn, segmentStartLsn, timelineForSegment } from '../catalog/segments.js';
import { nowIso, type EngineContext, type PgToolConfig } from './context.js';
import { parseConnectionUrl, pgClientConfig } from '../util/connection-url.js';
import { startCluster, stopCluster } from './local-cluster.js';
import { ownerFor } from './os-user.js';
import type { TargetConnection } from './pg-client.js';
import { recoverySettings, spoolRestoreCommand } from './pg-settings.js';
import { planPitr } from './pitr-plan.js';
import { configureRecovery, startAndWatchRecovery, type RecoveryOutcome } from './recovery.js';
import { restoreBaseBackup } from './restore-base.js';
import { createSideInstance, inPlaceSwap, type InPlaceSwap } from './restore-layout.js';
import { describeTarget, type RestoreSelection } from '../catalog/select-restore.js';
import { verifyRestored, type IntegrityReport } from './verify.js';
import { compactUtcStamp } from '../util/time.js';
import type { Config } from '../config.js';

export { planPitr } from './pitr-plan.js';

export interface PitrRequest {
  target: RecoveryTarget;
  inclusive: boolean;
  action: TargetAction;
  backupId?: string;
  to: 'side' | 'in-place';
  instanceName?: string;
  port?: number;
  databases?: string[];
  /** Benchmarks only: replace the prefetching restore_command with a given one. */
  restoreCommandOverride?: string;
  /** Benchmarks only: false = a segment not yet in the spool is waited for by the agent, not the shell. */
  waitInShell?: boolean;
  /** Called before every destructive step; throws to stop (the runner re-checks approvals here). */
  beforeDestructiveStep?: (step: string) => Promise<void>;
}

export interface PitrResult {
  backupId: string;
  target: string;
  state: RecoveryOutcome['state'];
  reachedTime: string | null;
  replayLsn: string;
  timeline: number;
  dataDir: string;
  port: number | null;
  socketDir: string | null;
  connect: string;
  oldDataDir: string | null;
  walSegments: number;
  fetched: { downloaded: number; bytes: number; onDemand: number; renamedBySpool: number; servedByAgent: number; waitedMs: number } | null;
  seconds: { total: number; baseBackup: number; replay: number };
  report: IntegrityReport;
}

type PitrConfig = Pick<Config, 'pg' | 'restoreRoot' | 'prefetch' | 'recoveryTimeoutSeconds' | 'verifyTables' | 'source'>;

const SOCKET_PATH_MAX = 100;

function step(ctx: EngineContext, name: string, title: string) {
  const started = ctx.clock.now();
  ctx.events.emit({ type: 'step.started', at: nowIso(ctx.clock), step: name, title });
  return (detail?: string) => {
    const seconds = (ctx.clock.now().getTime() - started.getTime()) / 1000;
    ctx.events.emit({ type: 'step.finished', at: nowIso(ctx.clock), step: name, seconds, ...(detail ? { detail } : {}) });
    return seconds;
  };
}

function lastNeededLsn(selection: RestoreSelection): bigint {
  const last = selection.requiredSegments.at(-1)!;
  const size = selection.backup.walSegmentSize;
  return segmentStartLsn(parseSegmentName(last, size)!.segno + 1n, size);
}

/**
 * The least LSN a successful replay reaches. With no target PostgreSQL stops quietly at the
 * first unreadable record and promotes, so for --latest replay must at least get into the
 * last archived segment (its final record may continue into a segment not archived yet).
 * Bounded targets end with a FATAL of PostgreSQL's own when WAL runs out before them; every
 * target must at least get past the base backup's end.
 */
function mustReachLsn(selection: RestoreSelection, target: RecoveryTarget): bigint {
  const size = selection.backup.walSegmentSize;
  if (target.kind === 'latest') return segmentStartLsn(parseSegmentName(selection.requiredSegments.at(-1)!, size)!.segno, size);
  return parseLsn(selection.backup.stopLsn);
}

/** A new name per call: the second of the request plus a random suffix, never reused. */
function defaultInstanceName(ctx: EngineContext): string {
  return `pitr-${compactUtcStamp(ctx.clock.now())}-${Math.random().toString(36).slice(2, 8)}`;
}

interface Layout {
  dataDir: string;
  workDir: string;
  logFile: string;
  connection: TargetConnection;
  listen?: { port: number; socketDir: string; addresses: string };
  swap?: InPlaceSwap;
  start: () => Promise<void>;
}

async function sideLayout(ctx: EngineContext, config: PitrConfig, request: PitrRequest, owner: { uid: number; gid: number } | undefined): Promise<Layout> {
  const instance = await createSideInstance(config.restoreRoot, request.instanceName ?? defaultInstanceName(ctx), owner, request.port);
  const listen = { port: instance.port, socketDir: instance.socketDir, addresses: '127.0.0.1' };
  return {
    dataDir: instance.dataDir,
    workDir: instance.workDir,
    logFile: instance.logFile,
    connection: instance.connection,
    listen,
    start: () => startCluster(ctx.exec, config.pg.bin, config.pg.osUser, { dataDir: instance.dataDir, port: instance.port, socketDir: instance.socketDir, logFile: instance.logFile }, config.recoveryTimeoutSeconds, ctx.signal),
  };
}

function inPlaceLayout(ctx: EngineContext, config: PitrConfig, owner: { uid: number; gid: number } | undefined): Layout {
  if (!config.source.dataDir || !config.source.url) {
    throw new RecoverError('CONFIG_INVALID', 'An in-place restore needs RECOVER_SOURCE_DATA_DIR and RECOVER_SOURCE_URL.', {
      hint: 'Configure where production keeps its data and how to connect to it, or restore to a side instance.',
    });
  }
  const connection = pgClientConfig(parseConnectionUrl(config.source.url), 'postgres');
  const swap = inPlaceSwap(ctx, config.pg, config, connection, owner);
  return { dataDir: swap.dataDir, workDir: swap.workDir, logFile: swap.logFile, connection, swap, start: () => swap.startProduction(ctx.signal) };
}

export async function runPitr(ctx: EngineContext, config: PitrConfig, request: PitrRequest): Promise<PitrResult> {
  const tools: PgToolConfig = config.pg;
  const began = ctx.clock.now();
  ctx.events.emit({ type: 'job.started', at: nowIso(ctx.clock), command: `pitr to ${describeTarget(request.target)}` });
  const finishSelect = step(ctx, 'select', 'Choose base backup and check the WAL chain');
  const selection = await planPitr(ctx, request, tools);
  finishSelect(`backup ${selection.backup.id}, ${selection.requiredSegments.length} WAL segments`);
  const owner = await ownerFor(tools.osUser);
  const layout = request.to === 'side' ? await sideLayout(ctx, config, request, owner) : inPlaceLayout(ctx, config, owner);
  const { dataDir, workDir, connection, listen, swap } = layout;

  const spoolDir = join(workDir, 'spool');
  const socketPath = join(workDir, 'wal.sock');
  const hookPath = join(workDir, 'wal-hook.mjs');
  let fetcher: WalFetcher | undefined;
  let agent: WalAgent | undefined;
  // Only a server this job started is ever stopped by it.
  let restoredServerStarted = false;
  // In place: once verified, the restored data is production's, and a later failure rolls nothing back.
  let verified = false;
  try {
    if (socketPath.length > SOCKET_PATH_MAX) {
      throw new RecoverError('CONFIG_INVALID', `The WAL agent socket path ${socketPath} is too long for a Unix socket.`, { hint: 'Use a shorter RECOVER_RESTORE_ROOT.' });
    }
    if (swap) {
      await request.beforeDestructiveStep?.('stop-production');
      const finishStop = step(ctx, 'stop-production', 'Stop production');
      await swap.stopProduction();
      finishStop();
      await request.beforeDestructiveStep?.('move-aside');
      const finishMove = step(ctx, 'move-aside', "Move production's data directory aside (kept, not deleted)");
      finishMove(await swap.moveAside());
    }
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
    if (swap) await request.beforeDestructiveStep?.('restore-base-backup');
    // While the base backup streams in, only the first few segments are fetched: replay can
    // start without waiting, and the rest would only compete with the base backup for CPU
    // and bandwidth (measured: fetching half the window then slowed the base backup by ~30%).
    // The full window opens once the base backup is in.
    fetcher.setAhead(Math.min(config.prefetch.parallel, config.prefetch.ahead));
    await fetcher.start();
    agent = await startWalAgent({ socketPath, storage: ctx.storage, log: ctx.log, fetcher, ...(owner ? { owner } : {}) });
    const finishBase = step(ctx, 'restore-base-backup', `Restore base backup ${selection.backup.id}`);
    await restoreBaseBackup(ctx, tools, selection.backup, dataDir);
    const baseSeconds = finishBase();
    fetcher.setAhead(config.prefetch.ahead);

    const finishConfigure = step(ctx, 'configure-recovery', `Configure recovery to ${describeTarget(request.target)}`);
    const restoreCommand = request.restoreCommandOverride ?? spoolRestoreCommand({ spoolDir, nodePath: process.execPath, hookPath, socketPath, ...(request.waitInShell === false ? { waitInShell: false } : {}) });
    await configureRecovery(
      dataDir,
      recoverySettings({
        target: request.target,
        inclusive: request.inclusive,
        action: request.action,
        restoreCommand,
        timeline: selection.timeline,
        ...(listen ? { listen } : {}),
        archiving: request.to === 'side' ? 'off' : 'keep',
      }),
      owner,
    );
    if (request.to === 'side') {
      // The side instance's socket directory is private to the postgres user (and root):
      // trust there lets the runner verify without production credentials.
      const hba = join(dataDir, 'pg_hba.conf');
      await writeFile(hba, `local all all trust\n${await readFile(hba, 'utf8')}`);
    }
    if (swap) await swap.pauseArchiving();
    finishConfigure();

    if (swap) await request.beforeDestructiveStep?.('replay-wal');
    const finishReplay = step(ctx, 'replay-wal', `Replay WAL to ${describeTarget(request.target)}`);
    const size = selection.backup.walSegmentSize;
    const activeFetcher = fetcher;
    const outcome = await startAndWatchRecovery(ctx, {
      connection,
      dataDir,
      logFile: layout.logFile,
      action: request.action,
      startLsn: parseLsn(selection.backup.startLsn),
      lastNeededLsn: lastNeededLsn(selection),
      mustReachLsn: mustReachLsn(selection, request.target),
      segmentAt: (lsn) => segmentName(timelineForSegment(segmentOfLsn(lsn, size), selection.path, size), segmentOfLsn(lsn, size), size),
      timeoutSeconds: config.recoveryTimeoutSeconds,
      fetchError: () => activeFetcher.error,
      // Prefetch is part of replay, not a step of its own: its count rides on replay's progress.
      progressDetail: request.restoreCommandOverride ? undefined : () => `${activeFetcher.stats.downloaded}/${activeFetcher.stats.planned} segments fetched`,
      start: async () => {
        restoredServerStarted = true;
        await layout.start();
      },
    });
    const replaySeconds = finishReplay(`${outcome.state} at ${outcome.replayLsn}, timeline ${outcome.timeline}`);

    const finishVerify = step(ctx, 'verify', 'Verify the restored data');
    const report = await verifyRestored(connection, { ...(request.databases ? { databases: request.databases } : {}), tables: config.verifyTables });
    ctx.events.emit({ type: 'integrity.report', at: nowIso(ctx.clock), report });
    finishVerify(report.ok ? 'all checks passed' : 'some checks failed');
    if (!report.ok && swap) {
      throw new RecoverError('VERIFY_FAILED', `The restored production data failed verification: ${report.checks.filter((c) => !c.ok).map((c) => c.message).join('; ')}`);
    }
    if (swap) {
      verified = true;
      try {
        await swap.resumeArchiving();
      } catch (error) {
        throw new RecoverError('RESTORE_FAILED', `Production runs on the restored, verified data, but archiving could not be resumed: ${(error as Error).message}`, {
          hint: `Remove the "archive_command = ''" block recover-bot added to ${join(dataDir, 'postgresql.auto.conf')} and run SELECT pg_reload_conf(); until then WAL is kept in pg_wal but not archived. The previous data directory is kept at ${swap.oldDataDir}.`,
          cause: error,
        });
      }
    }
    const port = listen?.port ?? Number(connection.port);
    return {
      backupId: selection.backup.id,
      target: describeTarget(request.target),
      state: outcome.state,
      reachedTime: outcome.reachedTime,
      replayLsn: outcome.replayLsn,
      timeline: outcome.timeline,
      dataDir,
      port,
      socketDir: listen?.socketDir ?? null,
      connect: listen ? `psql -h ${listen.socketDir} -p ${port} -U postgres   (or host 127.0.0.1 port ${port})` : 'production connection (unchanged)',
      oldDataDir: swap?.oldDataDir ?? null,
      walSegments: selection.requiredSegments.length,
      fetched: request.restoreCommandOverride
        ? null
        : (({ downloaded, bytes, onDemand, renamedBySpool, servedByAgent, waitedMs }) => ({ downloaded, bytes, onDemand, renamedBySpool, servedByAgent, waitedMs }))(activeFetcher.stats),
      seconds: { total: (ctx.clock.now().getTime() - began.getTime()) / 1000, baseBackup: baseSeconds, replay: replaySeconds },
      report,
    };
  } catch (error) {
    const failure = toRecoverError(error, 'RESTORE_FAILED');
    // Never leave a half-recovered server running where someone could mistake it for the
    // result; but only a server this job started (a side instance's directory is always new).
    if (restoredServerStarted && !verified) {
      await stopCluster(ctx.exec, tools.bin, tools.osUser, dataDir, 'immediate').catch((stopError: unknown) =>
        ctx.log.error({ err: stopError }, 'could not stop the restored server after a failure'),
      );
    }
    if (swap && !verified) {
      const state = await swap.rollBack();
      throw new RecoverError(failure.code, failure.message, { hint: failure.hint ? `${failure.hint}\n${state}` : state, cause: failure });
    }
    throw failure;
  } finally {
    await agent?.close();
    await fetcher?.stop();
    await rm(spoolDir, { recursive: true, force: true });
    await rm(hookPath, { force: true });
  }
}
