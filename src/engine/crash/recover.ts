/**
 * Acting on a triage (triage.ts), in place on production's data directory:
 * - `startCrashed`: the files look intact: start production (PostgreSQL's crash recovery replays
 *   its own pg_wal from the REDO point), then verify it.
 * - `rebuildCrashed`: data files are damaged: the in-place restore of pitr (engine/pitr.ts: the
 *   old directory moved aside and kept, the journal, automatic roll-back until verified) to the
 *   end of all WAL (`latest`, no recovery target — never 'immediate'), with the WAL only
 *   production's pg_wal holds saved and archived first (local-wal.ts) and put into the restored
 *   pg_wal, and replay required to get past its last record. RPO 0 when that WAL was intact.
 */
import { parseLsn } from '../../catalog/segments.js';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import { parseConnectionUrl, pgClientConfig } from '../../util/connection-url.js';
import { nowIso, type EngineContext } from '../context.js';
import { postmasterOn } from '../in-place-recovery.js';
import { tailFile } from '../local-cluster.js';
import { ownerFor } from '../os-user.js';
import { runPitr, type PitrResult } from '../pitr.js';
import { readCatalog } from '../read-catalog.js';
import { inPlaceSwap } from '../restore-layout.js';
import { step } from '../restore-to-target.js';
import { withTargetClient } from '../pg-client.js';
import { verifyRestored, type IntegrityReport } from '../verify.js';
import { readControlData } from './controldata.js';
import { gatherTriage, productionDataDir } from './gather.js';
import { placeSavedWal, saveLocalWal, type SavedWal } from './local-wal.js';
import { commitsText, type Triage } from './triage.js';

export type CrashRunConfig = Pick<Config, 'pg' | 'source' | 'restoreRoot' | 'prefetch' | 'recoveryTimeoutSeconds' | 'verifyTables' | 'verifyConfigFile'>;

export interface StartResult {
  path: 'start';
  dataDir: string;
  /** The REDO point crash recovery started from, and where production's WAL ends now. */
  redoLsn: string | null;
  walLsn: string | null;
  report: IntegrityReport;
}

export interface RebuildResult {
  path: 'rebuild';
  dataDir: string;
  oldDataDir: string | null;
  backupId: string;
  replayLsn: string;
  timeline: number;
  reachedTime: string | null;
  saved: Pick<SavedWal, 'dir' | 'segments' | 'partial' | 'archived' | 'lastRecordLsn' | 'endLsn'> | null;
  /** Every committed transaction is back: replay reached the end of the saved WAL, which was intact. */
  rpoZero: boolean;
  /** What was lost, and why (empty when rpoZero). */
  lost: string[];
  seconds: PitrResult['seconds'];
  report: IntegrityReport;
}

export type CrashResult = StartResult | RebuildResult;

function connectionOf(config: Pick<Config, 'source'>) {
  if (!config.source.url) {
    throw new RecoverError('CONFIG_INVALID', 'Recovering production in place needs RECOVER_SOURCE_URL (to verify it afterwards).', { hint: 'Set RECOVER_SOURCE_URL to production\'s connection (a superuser or pg_monitor role).' });
  }
  return pgClientConfig(parseConnectionUrl(config.source.url), 'postgres');
}

const verifyOptions = (config: CrashRunConfig) => ({
  subject: 'production',
  tables: config.verifyTables,
  ...(config.verifyConfigFile ? { configFile: config.verifyConfigFile } : {}),
  amcheck: 'existing' as const,
});

/** Files intact: start production (crash recovery), verify. Refuses a server that already runs. */
export async function startCrashed(ctx: EngineContext, config: CrashRunConfig, beforeDestructiveStep: (step: string) => Promise<void>): Promise<StartResult> {
  const dataDir = productionDataDir(config);
  const connection = connectionOf(config);
  ctx.events.emit({ type: 'job.started', at: nowIso(ctx.clock), command: 'crash --recover (start production)' });
  if (await postmasterOn(dataDir)) {
    throw new RecoverError('MODE_REFUSED', `Production (${dataDir}) is already running; nothing was started or changed.`, { hint: 'Run `recover crash` again to triage the running server.' });
  }
  // Where crash recovery starts, for the record (read before the start rewrites pg_control).
  const redoLsn = (await readControlData(ctx, config.pg, dataDir).catch(() => null))?.redoLsn ?? null;
  const catalog = await readCatalog(ctx.storage, ctx.clock.now());
  const recorded = catalog.backups.at(-1)?.sourceLayout;
  const swap = inPlaceSwap(ctx, config.pg, config, connection, await ownerFor(config.pg.osUser), recorded);
  await beforeDestructiveStep('start-production');
  const finishStart = step(ctx, 'start-production', 'Start production (crash recovery)');
  try {
    await swap.startProduction(ctx.signal);
  } catch (error) {
    const log = (await tailFile(swap.logFile, 40)).filter((line) => /FATAL|PANIC|ERROR/.test(line)).slice(-3).join(' | ');
    throw new RecoverError('RECOVERY_FAILED', `Production did not start: crash recovery failed${log ? `: ${log}` : ''}.`, {
      hint: `Its log is ${swap.logFile}. Nothing was moved or removed. If data files are damaged, rebuild it from the base backup and WAL, keeping the local WAL: recover crash --recover --from-backup.`,
      cause: error,
    });
  }
  finishStart('accepting connections');
  const finishVerify = step(ctx, 'verify', 'Verify production');
  const report = await verifyRestored(connection, verifyOptions(config));
  ctx.events.emit({ type: 'integrity.report', at: nowIso(ctx.clock), report });
  finishVerify(report.ok ? 'all checks passed' : 'some checks failed');
  const walLsn = await withTargetClient(connection, async (client) => (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]?.lsn ?? null, ctx.log).catch(() => null);
  return { path: 'start', dataDir, redoLsn, walLsn, report };
}

/** What a rebuild loses, from the triage taken once production was stopped (empty: RPO 0). Pure. */
export function lossOf(triage: Triage): string[] {
  const lost: string[] = [];
  if (triage.damage) lost.push(`${commitsText(triage.damage.lostCommits)} in WAL after the damage at ${triage.damage.at} (${triage.damage.reason}): replay cannot pass an unreadable record`);
  if (triage.localOnly.gap) lost.push(`everything from segment ${triage.localOnly.gap.from} on: segments ${triage.localOnly.gap.from} … ${triage.localOnly.gap.to} are neither archived nor in pg_wal`);
  return lost;
}

/** Data damaged: save and archive the local-only WAL, restore the newest backup in place, replay everything, verify. */
export async function rebuildCrashed(ctx: EngineContext, config: CrashRunConfig, beforeDestructiveStep: (step: string) => Promise<void>, backupId?: string): Promise<RebuildResult> {
  const dataDir = productionDataDir(config);
  connectionOf(config);
  const owner = await ownerFor(config.pg.osUser);
  let saved: SavedWal | null = null;
  let stoppedTriage: Triage | null = null;
  const result = await runPitr(ctx, config, {
    target: { kind: 'latest' },
    inclusive: true,
    action: 'promote',
    to: 'in-place',
    // The backup the plan showed; replay still reaches the end of all WAL.
    ...(backupId ? { backupId } : {}),
    leaveStoppedIfDown: true,
    beforeDestructiveStep,
    afterStop: async () => {
      const finishSave = step(ctx, 'save-local-wal', 'Save and archive the WAL only production has');
      // Production is stopped now: its pg_wal no longer changes, so this is the tail to keep.
      stoppedTriage = await gatherTriage(ctx, config, await readCatalog(ctx.storage, ctx.clock.now()), { forceRebuild: true });
      if (stoppedTriage.localOnly.gap) {
        throw new RecoverError('WAL_GAP', `WAL segments ${stoppedTriage.localOnly.gap.from} … ${stoppedTriage.localOnly.gap.to} are neither archived nor in production's pg_wal: a rebuild would stop before them and lose everything after. Production's directory was not moved.`, {
          hint: 'Find those segments (a standby, a copy of pg_wal, a storage backup) and put them into the WAL archive, then run the recovery again.',
        });
      }
      saved = await saveLocalWal(ctx, config, stoppedTriage);
      finishSave(saved.segments.length === 0 ? `nothing only local: the archive holds all WAL (copies dir ${saved.dir})` : `${saved.segments.length} segment(s) copied to ${saved.dir}, read back to ${saved.endLsn}, archived (${saved.archived.map((a) => `${a.as}: ${a.outcome}`).join(', ')})`);
    },
    beforeReplay: async (restoredDir) => {
      if (saved && saved.segments.length > 0) await placeSavedWal(saved, restoredDir, owner);
    },
    mustReplayPast: () => (saved?.lastRecordLsn ? parseLsn(saved.lastRecordLsn) : null),
  });
  const savedWal = saved as SavedWal | null;
  const lost = stoppedTriage ? lossOf(stoppedTriage) : [];
  return {
    path: 'rebuild',
    dataDir,
    oldDataDir: result.oldDataDir,
    backupId: result.backupId,
    replayLsn: result.replayLsn,
    timeline: result.timeline,
    reachedTime: result.reachedTime,
    saved: savedWal ? { dir: savedWal.dir, segments: savedWal.segments, partial: savedWal.partial, archived: savedWal.archived, lastRecordLsn: savedWal.lastRecordLsn, endLsn: savedWal.endLsn } : null,
    rpoZero: lost.length === 0,
    lost,
    seconds: result.seconds,
    report: result.report,
  };
}
