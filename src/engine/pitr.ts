/**
 * Point-in-time recovery, end to end: choose the backup and WAL (refusing before anything
 * runs if the target is unreachable), prefetch WAL while the base backup streams in, replay
 * to the target, verify. Side instance by default; in place keeps the old data directory.
 */
import { rename, rm, writeFile, chown, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { RecoverError, toRecoverError } from '../errors.js';
import { readCatalog } from '../storage/catalog.js';
import type { RecoveryTarget, TargetAction } from '../types.js';
import { WalFetcher } from '../wal/fetcher.js';
import { startWalAgent, type WalAgent } from '../wal/agent.js';
import { WAL_HOOK_SOURCE } from '../wal/hook-source.js';
import { parseLsn, parseSegmentName, segmentStartLsn } from '../wal/segments.js';
import { nowIso, parseConnectionUrl, pgClientConfig, type EngineContext, type PgToolConfig } from './context.js';
import { freePort, makeOwnedDir, startCluster, stopCluster } from './local-cluster.js';
import { ownerFor } from './os-user.js';
import { recoverySettings, spoolRestoreCommand } from './pg-settings.js';
import { configureRecovery, startAndWatchRecovery, type RecoveryOutcome } from './recovery.js';
import { restoreBaseBackup } from './restore-base.js';
import { describeTarget, selectRestore, type RestoreSelection } from './select-restore.js';
import { verifyRestored, type IntegrityReport } from './verify.js';
import type { Config } from '../config.js';

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

function instanceName(ctx: EngineContext): string {
  return `pitr-${ctx.clock.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

export async function planPitr(ctx: EngineContext, request: Pick<PitrRequest, 'target' | 'backupId'>): Promise<RestoreSelection> {
  const catalog = await readCatalog(ctx.storage, ctx.clock.now());
  return selectRestore(catalog, request.target, request.backupId ? { backupId: request.backupId } : {});
}

export async function runPitr(ctx: EngineContext, config: PitrConfig, request: PitrRequest): Promise<PitrResult> {
  const tools: PgToolConfig = config.pg;
  const began = ctx.clock.now();
  ctx.events.emit({ type: 'job.started', at: nowIso(ctx.clock), command: `pitr to ${describeTarget(request.target)}` });
  const finishSelect = step(ctx, 'select', 'Choose base backup and check the WAL chain');
  const selection = await planPitr(ctx, request);
  finishSelect(`backup ${selection.backup.id}, ${selection.requiredSegments.length} WAL segments`);
  const owner = await ownerFor(tools.osUser);

  // Layout: a side instance gets its own directory; in place uses production's, old one kept.
  let dataDir: string;
  let workDir: string;
  let listen: { port: number; socketDir: string; addresses: string } | undefined;
  let connection: pg.ClientConfig;
  let oldDataDir: string | null = null;
  let start: () => Promise<void>;
  if (request.to === 'side') {
    const name = request.instanceName ?? instanceName(ctx);
    if (!/^[\w.-]{1,64}$/.test(name)) throw new RecoverError('BAD_INPUT', `"${name}" is not a usable instance name.`, { hint: 'Use letters, digits, dot, dash or underscore.' });
    workDir = join(config.restoreRoot, name);
    dataDir = join(workDir, 'data');
    const port = request.port ?? (await freePort());
    listen = { port, socketDir: join(workDir, 'run'), addresses: '127.0.0.1' };
    await makeOwnedDir(config.restoreRoot, owner);
    await makeOwnedDir(workDir, owner);
    await makeOwnedDir(dataDir, owner);
    await makeOwnedDir(listen.socketDir, owner);
    connection = { host: listen.socketDir, port, user: 'postgres', database: 'postgres' };
    start = () => startCluster(ctx.exec, tools.bin, tools.osUser, { dataDir, port, socketDir: listen!.socketDir, logFile: join(workDir, 'server.log') }, config.recoveryTimeoutSeconds, ctx.signal);
  } else {
    if (!config.source.dataDir || !config.source.url) {
      throw new RecoverError('CONFIG_INVALID', 'An in-place restore needs RECOVER_SOURCE_DATA_DIR and RECOVER_SOURCE_URL.', {
        hint: 'Configure where production keeps its data and how to connect to it, or restore to a side instance.',
      });
    }
    dataDir = config.source.dataDir;
    workDir = `${dataDir}.recover`;
    connection = pgClientConfig(parseConnectionUrl(config.source.url), 'postgres');
    const stop = config.source.stop;
    await request.beforeDestructiveStep?.('stop-production');
    const finishStop = step(ctx, 'stop-production', 'Stop production');
    if (stop.method === 'hook') await ctx.exec.run(stop.stopCommand![0]!, stop.stopCommand!.slice(1), { signal: ctx.signal, timeoutMs: 600_000 });
    else await stopCluster(ctx.exec, tools.bin, tools.osUser, dataDir, 'fast');
    finishStop();
    oldDataDir = `${dataDir}.before-pitr-${ctx.clock.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
    await request.beforeDestructiveStep?.('move-aside');
    const finishMove = step(ctx, 'move-aside', `Move the old data directory aside to ${oldDataDir}`);
    await rename(dataDir, oldDataDir);
    await makeOwnedDir(dataDir, owner);
    await makeOwnedDir(workDir, owner);
    finishMove(oldDataDir);
    start =
      stop.method === 'hook'
        ? async () => void (await ctx.exec.run(stop.startCommand![0]!, stop.startCommand!.slice(1), { signal: ctx.signal, timeoutMs: 600_000 }))
        : () => startCluster(ctx.exec, tools.bin, tools.osUser, { dataDir, port: Number(connection.port), socketDir: String(connection.host), logFile: join(workDir, 'server.log') }, config.recoveryTimeoutSeconds, ctx.signal);
  }

  const spoolDir = join(workDir, 'spool');
  const socketPath = join(workDir, 'wal.sock');
  if (socketPath.length > SOCKET_PATH_MAX) {
    throw new RecoverError('CONFIG_INVALID', `The WAL agent socket path ${socketPath} is too long for a Unix socket.`, { hint: 'Use a shorter RECOVER_RESTORE_ROOT.' });
  }
  const fetcher = new WalFetcher({
    storage: ctx.storage,
    spoolDir,
    log: ctx.log,
    prefetch: request.restoreCommandOverride ? [] : selection.prefetchSegments,
    expected: selection.expected,
    parallel: config.prefetch.parallel,
    ahead: config.prefetch.ahead,
    ...(owner ? { owner } : {}),
  });
  let agent: WalAgent | undefined;
  const hookPath = join(workDir, 'wal-hook.mjs');
  try {
    await writeFile(hookPath, WAL_HOOK_SOURCE, { mode: 0o644 });
    if (owner) await chown(hookPath, owner.uid, owner.gid);
    if (request.to === 'in-place') await request.beforeDestructiveStep?.('restore-base-backup');
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
    finishConfigure();

    if (request.to === 'in-place') await request.beforeDestructiveStep?.('replay-wal');
    const finishReplay = step(ctx, 'replay-wal', `Replay WAL to ${describeTarget(request.target)}`);
    const outcome = await startAndWatchRecovery(ctx, {
      connection,
      dataDir,
      logFile: join(workDir, 'server.log'),
      action: request.action,
      startLsn: parseLsn(selection.backup.startLsn),
      lastNeededLsn: lastNeededLsn(selection),
      timeoutSeconds: config.recoveryTimeoutSeconds,
      fetchError: () => fetcher.error,
      // Prefetch is part of replay, not a step of its own: its count rides on replay's progress.
      progressDetail: request.restoreCommandOverride ? undefined : () => `${fetcher.stats.downloaded}/${fetcher.stats.planned} segments fetched`,
      start,
    });
    const replaySeconds = finishReplay(`${outcome.state} at ${outcome.replayLsn}, timeline ${outcome.timeline}`);

    const finishVerify = step(ctx, 'verify', 'Verify the restored data');
    const report = await verifyRestored(connection, { ...(request.databases ? { databases: request.databases } : {}), tables: config.verifyTables });
    ctx.events.emit({ type: 'integrity.report', at: nowIso(ctx.clock), report });
    finishVerify(report.ok ? 'all checks passed' : 'some checks failed');
    if (!report.ok && request.to === 'in-place') {
      throw new RecoverError('VERIFY_FAILED', `The restored production data failed verification: ${report.checks.filter((c) => !c.ok).map((c) => c.message).join('; ')}`, {
        hint: `The old data directory is kept at ${oldDataDir}. Stop the server and move it back to return to the state before the restore.`,
      });
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
      oldDataDir,
      walSegments: selection.requiredSegments.length,
      fetched: request.restoreCommandOverride
        ? null
        : (({ downloaded, bytes, onDemand, renamedBySpool, servedByAgent, waitedMs }) => ({ downloaded, bytes, onDemand, renamedBySpool, servedByAgent, waitedMs }))(fetcher.stats),
      seconds: { total: (ctx.clock.now().getTime() - began.getTime()) / 1000, baseBackup: baseSeconds, replay: replaySeconds },
      report,
    };
  } catch (error) {
    const failure = toRecoverError(error, 'RESTORE_FAILED');
    // Never leave a half-recovered server running where someone could mistake it for the result.
    await stopCluster(ctx.exec, tools.bin, tools.osUser, dataDir, 'immediate').catch((stopError: unknown) =>
      ctx.log.error({ err: stopError }, 'could not stop the restored server after a failure'),
    );
    if (oldDataDir) {
      const kept = `Production is stopped; its previous data directory is kept untouched at ${oldDataDir}.`;
      throw new RecoverError(failure.code, failure.message, { hint: failure.hint ? `${failure.hint} ${kept}` : kept, cause: failure });
    }
    throw failure;
  } finally {
    await agent?.close();
    await fetcher.stop();
    await rm(spoolDir, { recursive: true, force: true });
  }
}
