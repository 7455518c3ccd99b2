/**
 * Configure recovery on a restored data directory, start it, and watch replay until the
 * target is reached (promoted, or paused for inspection). Progress is replay LSN against
 * the last LSN needed; pg_stat_replication is empty on a recovering server.
 */
import { readFile, rm } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { RecoverError } from '../errors.js';
import type { RecoveryTarget, TargetAction } from '../types.js';
import { formatLsn, parseLsn, parseSegmentName, segmentStartLsn } from '../catalog/segments.js';
import type { RestoreSelection } from '../catalog/select-restore.js';
import { nowIso, type EngineContext } from './context.js';
import { appendConf, exists, tailFile, writeOwnedFile } from './local-cluster.js';
import { targetClient } from './pg-client.js';
import { REPLAY_ONLY_HEADER } from './pg-settings.js';
import { replayStatusSql, startupPidSql } from './sql.js';

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

export async function configureRecovery(dataDir: string, settings: Record<string, string>, owner: { uid: number; gid: number } | undefined, replayOnly: Record<string, string> = {}): Promise<void> {
  // Debian keeps postgresql.conf under /etc, so a backup of such a cluster lacks one.
  if (!(await exists(join(dataDir, 'postgresql.conf')))) await writeOwnedFile(join(dataDir, 'postgresql.conf'), '# written by recover-bot\n', owner);
  await appendConf(dataDir, { hot_standby: 'on', ...settings }, 'recover-bot restore settings');
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

/** The server log's own words about why recovery ended or the server stopped. */
export function recoveryEndReason(logLines: string[]): string | undefined {
  const meaningful = logLines.filter((line) =>
    /FATAL|PANIC|invalid (magic number|record length|resource manager|record offset|contrecord|page header)|incorrect (resource manager data )?checksum|unexpected pageaddr|record with incorrect prev-link|terminated by signal|was terminated|out of sequence|could not (read|open)|missing contrecord/i.test(line),
  );
  // A rejected setting is logged on the lines before "configuration file … contains errors".
  const settingErrors = logLines.filter((line) => /invalid value for parameter|syntax error in file|unrecognized configuration parameter/.test(line));
  const picked = [...settingErrors.slice(-2), ...meaningful.slice(-1)];
  if (picked.length === 0) return undefined;
  return picked.map((line) => line.replace(/^.*?\b(LOG|FATAL|PANIC|ERROR|WARNING):\s*/, '').trim()).join(' / ');
}

async function failure(watch: RecoveryWatch, what: string): Promise<RecoverError> {
  const fetchError = watch.fetchError();
  const logLines = await tailFile(watch.logFile, 40);
  const fatal = logLines.filter((line) => /FATAL|PANIC/.test(line)).pop();
  if (fetchError) {
    return new RecoverError('RECOVERY_FAILED', `Recovery stopped before the target and nothing was promoted: ${fetchError.message}`, {
      hint: fetchError.hint ?? 'Fix storage access and run the restore again.',
      cause: fetchError,
    });
  }
  if (fatal && /recovery ended before configured recovery target was reached/.test(fatal)) {
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
  const where = watch.segmentAt ? ` in WAL segment ${watch.segmentAt(reached)}` : '';
  const reason = recoveryEndReason(await tailFile(watch.logFile, 200));
  const needed = formatLsn(watch.mustReachLsn!);
  return new RecoverError(
    'RECOVERY_FAILED',
    `Replay stopped early at ${formatLsn(reached)}${where}, but the archive holds WAL the plan needs through ${needed}${reason ? `. PostgreSQL: ${reason}` : ''}. The restored data is incomplete and is not the result.`,
    {
      hint: `That archived segment is probably corrupt or unreadable. Restore a good copy of it into the archive, or choose a target before ${formatLsn(reached)}. The server (${state}) was stopped; its log is ${watch.logFile}.`,
    },
  );
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
      if (error instanceof RecoverError && error.code === 'RECOVERY_FAILED') throw error;
      if (ctx.signal.aborted) throw new RecoverError('CANCELLED', 'Recovery was cancelled; the restored server was left stopped.', { cause: error });
      // An SQL error (it has a SQLSTATE) is a bug or a broken server, not a restart: never retry it silently.
      if (typeof (error as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((error as { code: string }).code) && !(error as { code: string }).code.startsWith('57P') && !(error as { code: string }).code.startsWith('08')) {
        throw new RecoverError('RECOVERY_FAILED', `Watching recovery failed: ${(error as Error).message}`, { hint: `The restored server is still running; inspect it and its log ${watch.logFile}.`, cause: error });
      }
      if (!(await serverRunning(watch.dataDir))) throw await failure(watch, 'The restored server stopped during recovery');
      // A connection dropped while the server restarts into promotion: reconnect.
      ctx.log.debug({ err: error, lsn: formatLsn(lastLsn) }, 'recovery watch reconnecting');
      await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      await client.end().catch((error: unknown) => ctx.log.debug({ err: error }, 'closing watch connection'));
    }
  }
  throw new RecoverError('RECOVERY_FAILED', `Recovery did not reach its target within ${watch.timeoutSeconds} s (replayed to ${formatLsn(lastLsn)}).`, {
    hint: 'The server is still running in recovery; inspect it, or raise RECOVER_RECOVERY_TIMEOUT_S.',
  });
}
