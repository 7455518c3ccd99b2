/**
 * Point-in-time recovery, end to end: choose the backup and WAL (refusing before anything
 * runs if the target is unreachable), restore to the target (restore-to-target.ts: prefetch
 * WAL while the base backup streams in, replay), verify. Side instance by default; in place
 * keeps the old data directory and rolls back on any failure until the result is verified.
 */
import { join } from 'node:path';
import { describeTarget, type RestoreSelection } from '../catalog/select-restore.js';
import { formatLsn, parseLsn } from '../catalog/segments.js';
import { RecoverError, toRecoverError } from '../errors.js';
import type { RecoveryTarget, TargetAction } from '../types.js';
import { parseConnectionUrl, pgClientConfig } from '../util/connection-url.js';
import { nowIso, type EngineContext } from './context.js';
import { ownerFor } from './os-user.js';
import { planPitr } from './pitr-plan.js';
import { removeRestoreSettings, type RecoveryOutcome } from './recovery.js';
import { journalWriter, type JournalWriter } from './in-place-journal.js';
import { inPlaceSwap, type InPlaceSwap } from './restore-layout.js';
import { checkWorkDir, restoreToTarget, sideLayout, step, type Replayed, type RestoreConfig, type RestoreLayout } from './restore-to-target.js';
import { verifyRestored, type IntegrityReport } from './verify.js';

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
  /** Benchmarks only: these replay-only settings instead of replayOnlySettings' (bench/replay.ts). */
  replaySettingsOverride?: Record<string, string>;
  /** Called before every destructive step; throws to stop (the runner re-checks approvals here). */
  beforeDestructiveStep?: (step: string) => Promise<void>;
  /**
   * In place, once production is stopped and before its directory is moved aside (crash: save
   * and archive the WAL only production's pg_wal holds). The backup and WAL are chosen again
   * after it: the archive may hold more now.
   */
  afterStop?: () => Promise<void>;
  /** In place, once recovery is configured and before the server starts: e.g. put saved WAL into pg_wal. */
  beforeReplay?: (dataDir: string) => Promise<void>;
  /**
   * Read after afterStop: replay must get past this LSN (crash: the last record of the saved
   * local WAL), or the restore fails and is rolled back, never verified short.
   */
  mustReplayPast?: () => bigint | null;
  /** In place: production was down before the job; a roll-back puts its directory back and leaves it stopped. */
  leaveStoppedIfDown?: boolean;
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
  fetched: Replayed['fetched'];
  seconds: { total: number; baseBackup: number; replay: number };
  report: IntegrityReport;
}

type Owner = { uid: number; gid: number } | undefined;

function inPlaceLayout(ctx: EngineContext, config: RestoreConfig, owner: Owner, selection: RestoreSelection, leaveStoppedIfDown: boolean): RestoreLayout & { swap: InPlaceSwap; journal: JournalWriter } {
  if (!config.source.dataDir || !config.source.url) {
    throw new RecoverError('CONFIG_INVALID', 'An in-place restore needs RECOVER_SOURCE_DATA_DIR and RECOVER_SOURCE_URL.', {
      hint: 'Configure where production keeps its data and how to connect to it, or restore to a side instance.',
    });
  }
  const connection = pgClientConfig(parseConnectionUrl(config.source.url), 'postgres');
  // Written before each destructive step: a runner lost half-way leaves what another needs to put production back.
  const journal = journalWriter(config.source.dataDir, ctx.jobId ?? null, ctx.clock);
  const swap = inPlaceSwap(ctx, config.pg, config, connection, owner, selection.backup.sourceLayout, journal, { leaveStoppedIfDown });
  return { dataDir: swap.dataDir, workDir: swap.workDir, logFile: swap.logFile, connection, side: false, swap, journal, start: () => swap.startProduction(ctx.signal), stop: async () => void (await swap.stopProduction()) };
}

export async function runPitr(ctx: EngineContext, config: RestoreConfig, request: PitrRequest): Promise<PitrResult> {
  const began = ctx.clock.now();
  ctx.events.emit({ type: 'job.started', at: nowIso(ctx.clock), command: `pitr to ${describeTarget(request.target)}` });
  const finishSelect = step(ctx, 'select', 'Choose base backup and check the WAL chain');
  let selection = await planPitr(ctx, request, config.pg);
  finishSelect(`backup ${selection.backup.id}, ${selection.requiredSegments.length} WAL segments`);
  const owner = await ownerFor(config.pg.osUser);
  const layout = request.to === 'side' ? await sideLayout(ctx, config, request, owner) : inPlaceLayout(ctx, config, owner, selection, request.leaveStoppedIfDown ?? false);
  const swap = 'swap' in layout ? (layout.swap as InPlaceSwap) : undefined;
  const journal = 'journal' in layout ? (layout.journal as JournalWriter) : undefined;
  const before = swap ? (kind: string) => request.beforeDestructiveStep?.(kind) ?? Promise.resolve() : undefined;
  let replayed: Replayed | undefined;
  // In place: once verified, the restored data is production's, and a later failure rolls nothing back.
  let verified = false;
  try {
    checkWorkDir(layout.workDir);
    if (swap) {
      await before!('stop-production');
      const finishStop = step(ctx, 'stop-production', 'Stop production');
      finishStop(await swap.stopProduction());
      if (request.afterStop) {
        await request.afterStop();
        selection = await planPitr(ctx, request, config.pg);
      }
      await before!('move-aside');
      const finishMove = step(ctx, 'move-aside', "Move production's data directory aside (kept, not deleted)");
      finishMove(await swap.moveAside());
    }
    replayed = await restoreToTarget(ctx, config, selection, layout, request, owner, {
      ...(before ? { beforeStep: before } : {}),
      ...(swap
        ? {
            afterConfigure: async () => {
              await swap.pauseArchiving();
              await request.beforeReplay?.(layout.dataDir);
            },
          }
        : {}),
    });
    const { outcome } = replayed;
    const past = request.mustReplayPast?.() ?? null;
    if (past !== null && parseLsn(outcome.replayLsn) <= past) {
      throw new RecoverError('RECOVERY_FAILED', `Replay ended at ${outcome.replayLsn}, before the last WAL record it had to replay (at ${formatLsn(past)}); the restored data is short and is not the result.`, {
        hint: `See the server log ${layout.logFile}: the saved WAL was not replayed to its end.`,
      });
    }

    const finishVerify = step(ctx, 'verify', 'Verify the restored data');
    if (swap) ctx.failpoint?.('in-place:verify');
    const report = await verifyRestored(layout.connection, {
      ...(request.databases ? { databases: request.databases } : {}),
      tables: config.verifyTables,
      ...(config.verifyConfigFile ? { configFile: config.verifyConfigFile } : {}),
      // A side instance may get the amcheck extension; production restored in place only if the config says so.
      amcheck: swap ? 'existing' : 'create',
    });
    ctx.events.emit({ type: 'integrity.report', at: nowIso(ctx.clock), report });
    finishVerify(report.ok ? 'all checks passed' : 'some checks failed');
    if (!report.ok && swap) {
      throw new RecoverError('VERIFY_FAILED', `The restored production data failed verification: ${report.checks.filter((c) => !c.ok).map((c) => c.message).join('; ')}`);
    }
    if (swap) {
      // From here a lost runner's restore is finished, never rolled back (the journal says so first).
      await journal?.update({ phase: 'verified' });
      verified = true;
      ctx.failpoint?.('in-place:verified');
      try {
        await swap.resumeArchiving();
        // A standby cloned from production later must not inherit the restore's settings.
        await removeRestoreSettings(layout.dataDir);
        await journal?.remove();
      } catch (error) {
        throw new RecoverError('RESTORE_FAILED', `Production runs on the restored, verified data, but archiving could not be resumed: ${(error as Error).message}`, {
          hint: `Remove the "archive_command = ''" block recover-bot added to ${join(layout.dataDir, 'postgresql.auto.conf')} and run SELECT pg_reload_conf(); until then WAL is kept in pg_wal but not archived. The previous data directory is kept at ${swap.oldDataDir}.`,
          cause: error,
        });
      }
    }
    const { listen, connection } = layout;
    const port = listen?.port ?? Number(connection.port);
    return {
      backupId: selection.backup.id,
      target: describeTarget(request.target),
      state: outcome.state,
      reachedTime: outcome.reachedTime,
      replayLsn: outcome.replayLsn,
      timeline: outcome.timeline,
      dataDir: layout.dataDir,
      port,
      socketDir: listen?.socketDir ?? null,
      connect: listen ? `psql -h ${listen.socketDir} -p ${port} -U postgres   (or host 127.0.0.1 port ${port})` : 'production connection (unchanged)',
      oldDataDir: swap?.oldDataDir ?? null,
      walSegments: selection.requiredSegments.length,
      fetched: replayed.fetched,
      seconds: { total: (ctx.clock.now().getTime() - began.getTime()) / 1000, baseBackup: replayed.baseSeconds, replay: replayed.replaySeconds },
      report,
    };
  } catch (error) {
    const failure = toRecoverError(error, 'RESTORE_FAILED');
    // A failure after the replay (restoreToTarget stops its server on its own failures): never
    // leave a half-verified server running where someone could mistake it for the result.
    if (replayed && !verified) {
      await replayed.stopServer().catch((stopError: unknown) => ctx.log.error({ err: stopError }, 'could not stop the restored server after a failure'));
    }
    if (swap && !verified) {
      const state = await swap.rollBack();
      throw new RecoverError(failure.code, failure.message, { hint: failure.hint ? `${failure.hint}\n${state}` : state, cause: failure });
    }
    throw failure;
  }
}
