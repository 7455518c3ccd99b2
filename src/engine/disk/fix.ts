/**
 * `recover disk --fix`, the executor: runs exactly the plan's steps, in order, each re-reading
 * the disk before it acts (the plan was made minutes ago; PostgreSQL may have moved since).
 * 1. stop-server: a postmaster that does not answer (crash-looping, or hung in crash recovery
 *    without space) is stopped immediately: its WAL is on disk, nothing is lost.
 * 2. archive-backlog: the `.ready` segments archived through the checked path (archive-backlog.ts).
 * 3. drop-slot: only the slot named with --drop-slot.
 * 4. remove-wal: the removal rule's safe set as it is now (REDO re-read, archive listed again).
 * 5. remove-temp / remove-logs: a stopped server's temporary files; logs older than N days.
 * 6. start-server: production started as usual (config_file from its last start, or the hooks).
 * 7. check: it accepts writes, and archiving resumes (a segment switched now gets archived).
 */
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { exists, stopCluster, tailFile } from '../local-cluster.js';
import { ownerFor } from '../os-user.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { inPlaceSwap } from '../restore-layout.js';
import { step } from '../restore-to-target.js';
import { archiveBacklog, type BacklogResult } from './archive-backlog.js';
import { oldLogs, removeLogs, removeSegments, removeTempFiles, type Freed } from './free.js';
import { filesystemUsage, listLogs, readControl, sourceConnection, type DiskFacts, type FilesystemUsage } from './inspect.js';
import { walRemoval } from './removal.js';
import { removalInput } from './report.js';
import { serverState, startConfigFile, waitWritable } from './server.js';
import { dropSlot, readSlotFiles, slotsFromServer } from './slots.js';
import { archivedSegments, readWalState } from './wal-files.js';

export const DISK_STEPS = [
  { kind: 'report', title: 'Read what fills the disk', destructive: false },
  { kind: 'stop-server', title: 'Stop the server that does not answer (immediate: its WAL is on disk)', destructive: true },
  { kind: 'archive-backlog', title: 'Archive the waiting (.ready) WAL segments, checked, and mark each .done once verified', destructive: false },
  { kind: 'drop-slot', title: 'Drop the replication slot named (its standby must then be rebuilt)', destructive: true },
  { kind: 'remove-wal', title: 'Remove WAL segments archived and older than REDO', destructive: true },
  { kind: 'remove-temp', title: "Remove the stopped server's temporary files", destructive: true },
  { kind: 'remove-logs', title: 'Remove old server logs', destructive: true },
  { kind: 'start-server', title: 'Start production', destructive: false },
  { kind: 'check', title: 'Check production accepts writes and archiving resumes', destructive: false },
] as const;

export type DiskStepKind = (typeof DISK_STEPS)[number]['kind'];
export type FixStepKind = Exclude<DiskStepKind, 'report'>;

export interface DiskFixParams {
  dataDir: string;
  steps: FixStepKind[];
  dropSlot: string | null;
  logs: { dir: string; olderThanDays: number } | null;
}

export interface DiskFixResult {
  before: FilesystemUsage[];
  after: FilesystemUsage[];
  stoppedServer: boolean;
  archived: BacklogResult | null;
  droppedSlot: string | null;
  removed: { wal: Freed & { first: string | null; last: string | null }; temp: Freed; logs: Freed };
  startedServer: boolean;
  writable: boolean;
  archiving: { resumed: boolean; detail: string };
}

/** The removal rule on the disk as it is now: REDO, archive_status, slots and the archive listing read again. */
async function safeNow(ctx: EngineContext, config: Config, dataDir: string, connection: TargetConnection) {
  const [control, wal, server] = await Promise.all([readControl(ctx, config, dataDir), readWalState(dataDir), serverState(dataDir, connection, ctx.log)]);
  const slots = server.state === 'running' ? await slotsFromServer(connection) : await readSlotFiles(dataDir);
  const archive: DiskFacts['archive'] = await archivedSegments(ctx.storage, wal.segments).then(
    (found) => ({ reachable: true as const, archived: [...found] }),
    (error: unknown) => ({ reachable: false as const, error: (error as Error).message }),
  );
  const facts = { control, slots, archive, wal: { segments: wal.segments, status: [...wal.status], readySince: [], otherBytes: 0 } };
  return { walDir: wal.dir, removal: walRemoval(removalInput(facts)) };
}

/** Until a segment switched now is archived (true), or the deadline (false, with PostgreSQL's last failure). */
async function archivingResumes(connection: TargetConnection, seconds: number, signal: AbortSignal): Promise<{ resumed: boolean; detail: string }> {
  const switched = await withTargetClient(connection, async (c) => (await c.query<{ name: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS name')).rows[0]!.name);
  const deadline = Date.now() + seconds * 1000;
  let last = '';
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    const row = await withTargetClient(connection, async (c) => (await c.query<{ archived: string | null; failed: string | null; failed_at: string | null }>('SELECT last_archived_wal AS archived, last_failed_wal AS failed, last_failed_time::text AS failed_at FROM pg_stat_archiver')).rows[0]!);
    if (row.archived && row.archived.slice(0, 24) >= switched) return { resumed: true, detail: `segment ${switched}, switched after the start, was archived` };
    last = row.failed ? `last failure: ${row.failed} at ${row.failed_at}` : 'no failure recorded, nothing archived yet';
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { resumed: false, detail: `segment ${switched} was not archived within ${seconds} s (${last})` };
}

async function startProduction(ctx: EngineContext, config: Config, dataDir: string, connection: TargetConnection): Promise<void> {
  const configFile = await startConfigFile(dataDir);
  const swap = inPlaceSwap(ctx, config.pg, config, connection, await ownerFor(config.pg.osUser), configFile ? { configFile } : undefined);
  try {
    await swap.startProduction(ctx.signal);
  } catch (error) {
    const log = (await tailFile(swap.logFile, 5)).join(' | ');
    throw new RecoverError('RECOVERY_FAILED', `Production did not start: ${(error as Error).message.split('\n')[0]}${log ? ` — its log: ${log}` : ''}`, {
      hint: `Production is stopped. Read ${swap.logFile}; if space is still short, grow the filesystem holding pg_wal or move pg_wal to a larger one, then start it.`,
      cause: error,
    });
  }
}

export async function runDiskFix(ctx: EngineContext, config: Config, params: DiskFixParams, beforeDestructiveStep: (step: string) => Promise<void>): Promise<DiskFixResult> {
  const connection = sourceConnection(config);
  if (!connection) throw new RecoverError('CONFIG_INVALID', 'recover disk --fix needs RECOVER_SOURCE_URL to check that production accepts writes again.', { hint: 'Set RECOVER_SOURCE_URL on the runner of the database host.' });
  const { dataDir } = params;
  const walDir = (await readWalState(dataDir)).dir;
  const usage = () => filesystemUsage([{ path: dataDir, holds: 'data directory' }, { path: walDir, holds: 'pg_wal' }]);
  const empty = { count: 0, bytes: 0 };
  const result: DiskFixResult = { before: await usage(), after: [], stoppedServer: false, archived: null, droppedSlot: null, removed: { wal: { ...empty, first: null, last: null }, temp: empty, logs: empty }, startedServer: false, writable: false, archiving: { resumed: false, detail: 'not checked' } };
  for (const kind of params.steps) {
    const declared = DISK_STEPS.find((s) => s.kind === kind)!;
    if (declared.destructive) await beforeDestructiveStep(kind);
    const finish = step(ctx, kind, declared.title);
    let detail: string;
    switch (kind) {
      case 'stop-server': {
        const state = await serverState(dataDir, connection, ctx.log);
        if (state.state === 'not-answering') {
          await stopCluster(ctx.exec, config.pg.bin, config.pg.osUser, dataDir, 'immediate');
          result.stoppedServer = true;
          detail = `stopped (it did not answer: ${state.detail})`;
        } else detail = `left as it is (${state.state})`;
        break;
      }
      case 'archive-backlog': {
        const wal = await readWalState(dataDir);
        const ready = wal.segments.filter((s) => wal.status.get(s.name) === 'ready').map((s) => s.name);
        result.archived = await archiveBacklog(ctx, wal.dir, ready, kind);
        detail = `${result.archived.archived} segment(s) archived and verified (${result.archived.alreadyThere} were already there)`;
        break;
      }
      case 'drop-slot': {
        const running = (await serverState(dataDir, connection, ctx.log)).state === 'running';
        await dropSlot(dataDir, params.dropSlot!, running ? connection : null);
        result.droppedSlot = params.dropSlot;
        detail = `dropped ${params.dropSlot}`;
        break;
      }
      case 'remove-wal': {
        const now = await safeNow(ctx, config, dataDir, connection);
        result.removed.wal = await removeSegments(now.walDir, now.removal.safe);
        detail = `${result.removed.wal.count} segment(s) removed (${result.removed.wal.first ?? '—'} … ${result.removed.wal.last ?? '—'})`;
        break;
      }
      case 'remove-temp':
        result.removed.temp = await removeTempFiles(dataDir);
        detail = `${result.removed.temp.count} temporary file(s) removed`;
        break;
      case 'remove-logs': {
        const { dir, olderThanDays } = params.logs!;
        const files = await listLogs(dir);
        result.removed.logs = await removeLogs(dir, oldLogs(files, olderThanDays, ctx.clock.now()).map((f) => f.name), olderThanDays, ctx.clock.now());
        detail = `${result.removed.logs.count} log file(s) removed`;
        break;
      }
      case 'start-server':
        if (await exists(join(dataDir, 'postmaster.pid')) && (await serverState(dataDir, connection, ctx.log)).state !== 'stopped') detail = 'already running';
        else {
          await startProduction(ctx, config, dataDir, connection);
          result.startedServer = true;
          detail = 'started';
        }
        break;
      case 'check':
        await waitWritable(connection, config.recoveryTimeoutSeconds, ctx.signal, ctx.log);
        result.writable = true;
        result.archiving = await archivingResumes(connection, Math.min(120, config.recoveryTimeoutSeconds), ctx.signal);
        detail = `accepts writes; archiving ${result.archiving.resumed ? 'resumed' : 'NOT resumed'}`;
        break;
    }
    finish(detail);
  }
  result.after = await usage();
  return result;
}
