/**
 * Configure recovery on a restored data directory, start it, and watch replay until the
 * target is reached (promoted, or paused for inspection). Progress is replay LSN against
 * the last LSN needed; pg_stat_replication is empty on a recovering server.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { RecoverError } from '../errors.js';
import type { RecoveryTarget, TargetAction } from '../types.js';
import { formatLsn, parseLsn, parseSegmentName, segmentStartLsn } from '../catalog/segments.js';
import type { RestoreSelection } from '../catalog/select-restore.js';
import { walCorrupt, type ArchivedFileRef } from '../wal/archived-file.js';
import { nowIso, type EngineContext } from './context.js';
import { appendConf, exists, tailFile, writeOwnedFile } from './local-cluster.js';
import { targetClient } from './pg-client.js';
import { REPLAY_ONLY_HEADER } from './pg-settings.js';
import { replayStatusSql, startupPidSql } from './sql.js';
import { invalidRecordInLog, recoveryEndReason, replayEndInLog } from './recovery-log.js';

export { invalidRecordInLog, recoveryEndReason, replayEndInLog, type InvalidRecord } from './recovery-log.js';

export interface RecoveryWatch {
  /** Server connection used to watch replay (a socket dir or host). */
  connection: pg.ClientConfig;
  dataDir: string;
  logFile: string;
  action: TargetAction;
  /** LSN at which everything needed is replayed (for the progress bar); null if unknown. */
  lastNeededLsn: bigint | null;
  startLsn: bigint;
  timeoutSeconds: number;
  /** A storage failure seen by the WAL fetcher: reported instead of PostgreSQL's own words. */
  fetchError: () => RecoverError | undefined;
  /** Starts the server (pg_ctl for local clusters, the configured hook in place). */
  start: () => Promise<void>;
  /** Extra words for each progress event (e.g. how many segments the prefetch has fetched). */
  progressDetail?: (() => string) | undefined;
  /**
   * The least LSN a correct replay must reach (for --latest: the start of the last archived
   * segment). PostgreSQL ends recovery quietly at a corrupt or missing segment when there is
   * no target, and promotes: reaching less than this is a failure, never a success.
   */
  mustReachLsn?: bigint | null;
  /** The WAL segment file that holds an LSN on the restore's timeline path (for messages). */
  segmentAt?: (lsn: bigint) => string;
  /**
   * The archived WAL the plan replays: its last segment and where each file is stored. Replay
   * that stops at an invalid record in an earlier segment met damage, not the end of WAL,
   * and is reported as WAL_CORRUPT naming that segment.
   */
  archive?: { lastSegment: string; segmentSize: number; ref: (segment: string) => ArchivedFileRef };
}

export interface RecoveryOutcome {
  state: 'promoted' | 'paused';
  reachedTime: string | null;
  replayLsn: string;
  timeline: number;
  seconds: number;
}

export function lastNeededLsn(selection: RestoreSelection): bigint {
  const size = selection.backup.walSegmentSize;
  return segmentStartLsn(parseSegmentName(selection.requiredSegments.at(-1)!, size)!.segno + 1n, size);
}

/**
 * The least LSN a successful replay reaches. With no target PostgreSQL stops quietly at the
 * first unreadable record and promotes, so for --latest replay must at least get into the
 * last archived segment (its final record may continue into a segment not archived yet).
 * Bounded targets end with a FATAL of PostgreSQL's own when WAL runs out before them; every
 * target must at least get past the base backup's end.
 */
export function mustReachLsn(selection: RestoreSelection, target: RecoveryTarget): bigint {
  const size = selection.backup.walSegmentSize;
  if (target.kind === 'latest') return segmentStartLsn(parseSegmentName(selection.requiredSegments.at(-1)!, size)!.segno, size);
  return parseLsn(selection.backup.stopLsn);
}

const RESTORE_SETTINGS_HEADER = 'recover-bot restore settings';

/**
 * Removed once an in-place restore is verified (false when absent): a primary ignores these, but a
 * standby cloned from it would inherit a timeline pinned before its own (it refuses to start).
 */
export async function removeRestoreSettings(dataDir: string): Promise<boolean> {
  const path = join(dataDir, 'postgresql.auto.conf');
  const text = await readFile(path, 'utf8');
  // renderConf's block: the header line, then one `name = value` line per setting.
  const block = new RegExp(`\n# ${RESTORE_SETTINGS_HEADER}\n(?:[a-z_]+ = [^\n]*\n)*`);
  if (!block.test(text)) return false;
  await writeFile(path, text.replace(block, ''));
  return true;
}

export async function configureRecovery(dataDir: string, settings: Record<string, string>, owner: { uid: number; gid: number } | undefined, replayOnly: Record<string, string> = {}): Promise<void> {
  // Debian keeps postgresql.conf under /etc, so a backup of such a cluster lacks one.
  if (!(await exists(join(dataDir, 'postgresql.conf')))) await writeOwnedFile(join(dataDir, 'postgresql.conf'), '# written by recover-bot\n', owner);
  await appendConf(dataDir, { hot_standby: 'on', ...settings }, RESTORE_SETTINGS_HEADER);
  // Its own block, after the restore settings: removed as one piece when replay has ended.
  if (Object.keys(replayOnly).length > 0) await appendConf(dataDir, replayOnly, REPLAY_ONLY_HEADER);
  await rm(join(dataDir, 'standby.signal'), { force: true });
  await writeOwnedFile(join(dataDir, 'recovery.signal'), '', owner);
}

/**
 * Whether the postmaster of a data directory is alive. A killed postmaster leaves its
 * postmaster.pid behind, so the file alone says nothing: the process it names must exist.
 */
export async function serverRunning(dataDir: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const pid = Number(text.split('\n', 1)[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else (still alive); ESRCH: gone.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Replay stopped at a record it could not read in an archived segment before the last one the
 * plan replays: that segment is damaged (its archive checks passed, so it was damaged before
 * it was uploaded). A WAL_CORRUPT naming it, its container and blob, and how far replay got;
 * undefined when the stop is not that (no unreadable record logged, or in the last segment,
 * where it cannot be told from the end of WAL). `fallbackLsn`: where replay was seen last.
 */
function corruptStop(watch: RecoveryWatch, logLines: string[], fallbackLsn: bigint | null): RecoverError | undefined {
  if (!watch.archive) return undefined;
  const { lastSegment, segmentSize, ref } = watch.archive;
  const invalid = invalidRecordInLog(logLines);
  const atLsn = invalid?.lsn ?? fallbackLsn;
  const segment = invalid?.segment ?? (atLsn !== null && watch.segmentAt ? watch.segmentAt(atLsn) : null);
  const stoppedIn = segment ? parseSegmentName(segment, segmentSize) : null;
  const last = parseSegmentName(lastSegment, segmentSize);
  if (!segment || !stoppedIn || !last || stoppedIn.segno >= last.segno) return undefined;
  const { redoDoneAt, lastTransaction } = replayEndInLog(logLines);
  const reached = redoDoneAt ?? (fallbackLsn !== null ? formatLsn(fallbackLsn) : null);
  const base = walCorrupt(
    ref(segment),
    `PostgreSQL's replay stopped at a record it cannot read${invalid ? ` (${invalid.reason})` : ''}, though the archive holds WAL after it through ${lastSegment}`,
  );
  const got = [reached ? `replayed up to ${reached}` : null, lastTransaction ? `the last transaction replayed ended at ${lastTransaction}` : null].filter(Boolean).join('; ');
  return new RecoverError('WAL_CORRUPT', `${base.message.replace(/\.$/, '')}${got ? `; ${got}` : ''}. Nothing was promoted: the restored data is incomplete and is not the result.`, {
    hint: `${base.hint}${lastTransaction ? ` A target before ${lastTransaction} stops before the damage.` : ''} The restored server is stopped; its log is ${watch.logFile}.`,
  });
}

async function failure(watch: RecoveryWatch, what: string): Promise<RecoverError> {
  const fetchError = watch.fetchError();
  const logLines = await tailFile(watch.logFile, 200);
  const fatal = logLines.filter((line) => /FATAL|PANIC/.test(line)).pop();
  if (fetchError) {
    // A damaged archived file keeps its code: one condition, one code, whichever reader met it.
    return new RecoverError(fetchError.code === 'WAL_CORRUPT' ? 'WAL_CORRUPT' : 'RECOVERY_FAILED', `Recovery stopped before the target and nothing was promoted: ${fetchError.message}`, {
      hint: fetchError.hint ?? 'Fix storage access and run the restore again.',
      cause: fetchError,
    });
  }
  const corrupt = corruptStop(watch, logLines, null);
  if (corrupt) return corrupt;
  if (fatal && /recovery ended before configured recovery target was reached/.test(fatal)) {
    const { redoDoneAt } = replayEndInLog(logLines);
    const stoppedIn = redoDoneAt && watch.segmentAt ? watch.segmentAt(parseLsn(redoDoneAt)) : null;
    const last = watch.archive?.lastSegment;
    // Only a stop in the last archived segment is the end of what is archived.
    if (stoppedIn && last && watch.archive && parseSegmentName(stoppedIn, watch.archive.segmentSize)!.segno < parseSegmentName(last, watch.archive.segmentSize)!.segno) {
      return new RecoverError('RECOVERY_FAILED', `Recovery ended at ${redoDoneAt} in WAL segment ${stoppedIn}, before the target, though the archive holds WAL through ${last}; nothing was promoted.`, {
        hint: `PostgreSQL could not get the segment after ${stoppedIn}: check that it is still in the archive (recover backups), then run the restore again. See the server log ${watch.logFile}.`,
      });
    }
    return new RecoverError('RECOVERY_FAILED', 'Recovery reached the end of the archived WAL before the target; nothing was promoted.', {
      hint: 'No transaction after the target is archived yet. Choose an earlier target, or --latest to replay everything archived.',
    });
  }
  const reason = recoveryEndReason(logLines);
  return new RecoverError('RECOVERY_FAILED', `${what}${reason ? `. PostgreSQL: ${reason}` : ''}`, {
    hint: `Nothing was promoted. See the server log ${watch.logFile}.`,
  });
}

/**
 * Replay is one single-threaded process and the whole restore waits on it; the WAL
 * prefetch (and, in tests, the storage emulator) run beside it on the same cores. Giving
 * the startup process a higher CPU priority keeps that background work from slowing the
 * critical path. Needs root (as the runner is); otherwise it is skipped.
 */
async function prioritizeReplay(ctx: EngineContext, client: pg.Client): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const { rows } = await client.query(startupPidSql);
  for (const row of rows) {
    try {
      setPriority(row.pid, REPLAY_PRIORITY);
    } catch (error) {
      ctx.log.warn({ err: error, pid: row.pid }, 'could not raise the priority of WAL replay');
    }
  }
}

const REPLAY_PRIORITY = -10;

/** Replay ended (and PostgreSQL promoted or paused) before the WAL the plan needs was replayed. */
async function stoppedShort(watch: RecoveryWatch, reached: bigint, state: RecoveryOutcome['state']): Promise<RecoverError> {
  const logLines = await tailFile(watch.logFile, 200);
  // Every segment up to the last was archived when the plan was made: stopping before the last
  // one is a segment that does not read (corrupt), the same WAL_CORRUPT as a checksum mismatch.
  const corrupt = corruptStop(watch, logLines, reached);
  if (corrupt) return corrupt;
  const where = watch.segmentAt ? ` in WAL segment ${watch.segmentAt(reached)}` : '';
  const reason = recoveryEndReason(logLines);
  const needed = formatLsn(watch.mustReachLsn!);
  return new RecoverError(
    'RECOVERY_FAILED',
    `Replay stopped early at ${formatLsn(reached)}${where}, but the archive holds WAL the plan needs through ${needed}${reason ? `. PostgreSQL: ${reason}` : ''}. The restored data is incomplete and is not the result.`,
    {
      hint: `That archived segment is probably corrupt or unreadable. Restore a good copy of it into the archive, or choose a target before ${formatLsn(reached)}. The server (${state}) was stopped; its log is ${watch.logFile}.`,
    },
  );
}

/**
 * An error the server sent (pg's DatabaseError carries a severity), other than the shutdown
 * (57P…) and connection (08…) classes. Socket errors have string codes too, and EPIPE even
 * looks like a SQLSTATE: a code alone does not make an SQL error.
 */
export function isSqlError(error: unknown): boolean {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  return typeof severity === 'string' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('57P') && !code.startsWith('08');
}

export async function startAndWatchRecovery(ctx: EngineContext, watch: RecoveryWatch): Promise<RecoveryOutcome> {
  const started = ctx.clock.now();
  try {
    await watch.start();
  } catch (error) {
    if (error instanceof RecoverError && error.code === 'CANCELLED') throw error;
    throw await failure(watch, 'The restored server did not start');
  }
  const deadline = Date.now() + watch.timeoutSeconds * 1000;
  let lastLsn = watch.startLsn;
  while (Date.now() < deadline) {
    ctx.signal.throwIfAborted();
    const client = targetClient(watch.connection, ctx.log);
    try {
      await client.connect();
      await prioritizeReplay(ctx, client);
      for (;;) {
        ctx.signal.throwIfAborted();
        const { rows } = await client.query(replayStatusSql);
        const row = rows[0];
        lastLsn = parseLsn(row.replay_lsn);
        const done = Number(lastLsn - watch.startLsn);
        const total = watch.lastNeededLsn === null ? null : Number(watch.lastNeededLsn - watch.startLsn);
        ctx.events.emit({ type: 'step.progress', at: nowIso(ctx.clock), step: 'replay-wal', done: Math.max(0, done), total, unit: 'wal-bytes', detail: `replayed to ${row.replay_lsn}${watch.progressDetail ? ` · ${watch.progressDetail()}` : ''}` });
        const finishedAs = !row.in_recovery ? 'promoted' : watch.action === 'pause' && row.pause_state === 'paused' ? 'paused' : null;
        if (finishedAs) {
          if (watch.mustReachLsn != null && lastLsn < watch.mustReachLsn) throw await stoppedShort(watch, lastLsn, finishedAs);
          return {
            state: finishedAs,
            reachedTime: row.reached ?? null,
            replayLsn: row.replay_lsn,
            timeline: row.timeline,
            seconds: (ctx.clock.now().getTime() - started.getTime()) / 1000,
          };
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } catch (error) {
      if (error instanceof RecoverError) throw error;
      if (ctx.signal.aborted) throw new RecoverError('CANCELLED', 'Recovery was cancelled; the restored server was left stopped.', { cause: error });
      // A server that has stopped explains itself in its log, whatever the connection said
      // (a write to its closed socket fails with EPIPE, a read with "Connection terminated").
      if (!(await serverRunning(watch.dataDir))) throw await failure(watch, 'The restored server stopped during recovery');
      // An SQL error from a running server is a bug or a broken server, not a restart: never retry it silently.
      if (isSqlError(error)) {
        throw new RecoverError('RECOVERY_FAILED', `Watching recovery failed: ${(error as Error).message}`, { hint: `The restored server is stopped and is not the result. See its log ${watch.logFile}.`, cause: error });
      }
      // A connection dropped while the server restarts into promotion: reconnect.
      ctx.log.debug({ err: error, lsn: formatLsn(lastLsn) }, 'recovery watch reconnecting');
      await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      await client.end().catch((error: unknown) => ctx.log.debug({ err: error }, 'closing watch connection'));
    }
  }
  // The caller stops the restored server after any failure: the hint never says it still runs.
  throw new RecoverError('RECOVERY_FAILED', `Recovery did not reach its target within ${watch.timeoutSeconds} s (replayed to ${formatLsn(lastLsn)}).`, {
    hint: `Nothing was promoted; the restored server is stopped. Raise RECOVER_RECOVERY_TIMEOUT_S if replay needs longer; its log is ${watch.logFile}.`,
  });
}
