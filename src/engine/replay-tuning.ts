/**
 * The restored instance is tuned for replay and only for replay: configureRecovery writes the
 * replay-only block (pg-settings.ts, replayOnlySettings), and once replay has ended
 * endReplayTuning takes it out again, so the result runs on production's own settings.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { RecoverError } from '../errors.js';
import type { EngineContext, PgToolConfig } from './context.js';
import { withTargetClient } from './pg-client.js';
import { renderConf, REPLAY_ONLY_HEADER } from './pg-settings.js';
import type { RecoveryOutcome } from './recovery.js';
import { syncCluster, type EarlySync, type SyncMethod } from './sync-restored.js';

export interface ReplayTuningEnd {
  dataDir: string;
  connection: pg.ClientConfig;
  /** The replay-only block configureRecovery wrote ({} when none). */
  replayOnly: Record<string, string>;
  state: RecoveryOutcome['state'];
  /** Stopping and starting the promoted server (side: pg_ctl; in place: production's own stop and start). */
  stop: () => Promise<void>;
  start: () => Promise<void>;
  /** How an fsync=off replay is synced (sync-restored.ts, syncMethodFor). */
  syncMethod: SyncMethod;
  /** The sync started when replay started (fsync=off only), awaited before the last one. */
  earlySync?: EarlySync;
}

/**
 * What ending the replay tuning took: nothing, a reload, a reload and a sync of the running
 * cluster, a restart, or a sync of the stopped cluster and a restart.
 */
export type TuningEnd = 'none' | 'reloaded' | 'reloaded and synced' | 'restarted' | 'synced and restarted';

/** How long the postmaster may take to apply a reload before the sync is refused. */
const RELOAD_WAIT_MS = 60_000;

/**
 * After replay the instance goes back to production's (or the defaults') settings: the
 * replay-only block leaves postgresql.auto.conf, and a reload applies what a reload can
 * (everything replayOnlySettings sets, at once). A promoted server that ran with fsync=off is
 * synced before anyone is told of it: running, once every process runs with fsync on again
 * (syncRunning), or stopped and started again when its block held a setting that needs a
 * restart anyway (shared_buffers, in bench/replay.ts). A paused server is never restarted (it
 * would replay again from its last restartpoint) and never gets fsync=off: it is handed over
 * running, with production's settings in its files.
 */
export async function endReplayTuning(ctx: Pick<EngineContext, 'log' | 'exec' | 'signal'>, tools: PgToolConfig, end: ReplayTuningEnd): Promise<TuningEnd> {
  const names = Object.keys(end.replayOnly);
  if (names.length === 0) return 'none';
  const path = join(end.dataDir, 'postgresql.auto.conf');
  const text = await readFile(path, 'utf8');
  const block = renderConf(end.replayOnly, REPLAY_ONLY_HEADER);
  if (!text.includes(block)) {
    throw new RecoverError('RESTORE_FAILED', `The replay-only settings are missing from ${path}; the instance's settings are unknown.`, {
      hint: `Check ${names.join(', ')} in ${path} (ALTER SYSTEM rewrites that file) and restart the instance.`,
    });
  }
  await writeFile(path, text.replace(block, ''));
  const { needRestart, loadedBefore } = await withTargetClient(
    end.connection,
    async (client) => {
      const before = await client.query<{ at: string }>('SELECT pg_conf_load_time()::text AS at');
      await client.query('SELECT pg_reload_conf()');
      const { rows } = await client.query<{ name: string }>(`SELECT name FROM pg_settings WHERE name = ANY($1) AND context = 'postmaster'`, [names]);
      return { needRestart: rows.map((row) => row.name), loadedBefore: before.rows[0]!.at };
    },
    ctx.log,
  );
  const unsynced = end.replayOnly.fsync === 'off';
  if (unsynced && end.state !== 'promoted') {
    // replayOnlySettings never asks for this: a paused instance cannot be stopped and synced.
    throw new RecoverError('RESTORE_FAILED', 'Replay ran with fsync=off and the instance is paused: its files are not known to be on disk.', {
      hint: 'Stop it, run initdb --sync-only -D on its data directory, and start it again before trusting it.',
    });
  }
  if (!unsynced && (needRestart.length === 0 || end.state !== 'promoted')) return 'reloaded';
  if (unsynced && needRestart.length === 0) {
    await syncRunning(ctx, tools, end, loadedBefore);
    return 'reloaded and synced';
  }
  const began = performance.now();
  const seconds = () => Number(((performance.now() - began) / 1000).toFixed(2));
  const took: Record<string, number> = {};
  try {
    await end.stop();
    took.stopS = seconds();
    // Stopped, nothing writes anymore: the sync covers everything the server wrote with fsync
    // off (replay, the end-of-recovery and shutdown checkpoints), and it starts with fsync on.
    if (unsynced) {
      const early = await end.earlySync?.settled;
      if (early) throw early;
      await syncCluster(ctx, tools, end.dataDir, end.syncMethod);
      took.syncS = seconds() - took.stopS;
    }
    await end.start();
    took.totalS = seconds();
    ctx.log.info(took, unsynced ? 'replay tuning ended: stopped, synced and started again' : 'replay tuning ended: restarted');
  } catch (error) {
    throw new RecoverError('RESTORE_FAILED', `The restored server did not start again on its own settings: ${(error as Error).message.split('\n')[0]}`, {
      hint: 'See the server log; the data is restored, but the server is stopped.',
      cause: error,
    });
  }
  return unsynced ? 'synced and restarted' : 'restarted';
}

/**
 * The running, promoted server that replayed with fsync=off, put on disk without a restart.
 * Why every byte of the restored cluster is on disk once this returns:
 * 1. The reload has reached the postmaster: a new session's pg_conf_load_time() (inherited
 *    from the postmaster at fork) is later than before pg_reload_conf(). The postmaster
 *    signals every child (SIGHUP) as it reloads, before it forks any new backend, so from
 *    here every process has the reload pending and applies it at its next loop.
 * 2. CHECKPOINT: the checkpointer handles its pending reload before it starts a requested
 *    checkpoint (checkpointer.c's main loop), so this one runs with fsync on; it writes
 *    whatever shared_buffers still holds dirty into the kernel and fsyncs it and the WAL.
 *    The files written before it, while fsync was off, are not among its fsync requests
 *    (sync.c drops requests while fsync is off), hence:
 * 3. the sync of every file system of the cluster (sync-restored.ts; the documented way to
 *    make an fsync=off cluster durable "while fsync is on"): whatever replay, the end-of-
 *    recovery checkpoint and the extract wrote is on disk once it returns, including the
 *    directories' entries and pg_control. What the server writes after this, it writes with
 *    fsync on, like any server.
 * The early sync (started with replay) is awaited first: a write-back error it saw fails here.
 */
async function syncRunning(ctx: Pick<EngineContext, 'log' | 'exec' | 'signal'>, tools: PgToolConfig, end: ReplayTuningEnd, loadedBefore: string): Promise<void> {
  const began = performance.now();
  const seconds = () => Number(((performance.now() - began) / 1000).toFixed(2));
  for (;;) {
    const reloaded = await withTargetClient(end.connection, async (client) => (await client.query<{ done: boolean }>('SELECT pg_conf_load_time() > $1::timestamptz AS done', [loadedBefore])).rows[0]!.done, ctx.log);
    if (reloaded) break;
    if (performance.now() - began > RELOAD_WAIT_MS) {
      throw new RecoverError('RESTORE_FAILED', `The restored server did not apply its configuration reload within ${RELOAD_WAIT_MS / 1000} s; it replayed with fsync off and is not known to be on disk.`, {
        hint: `See the server log; stop the server, run initdb --sync-only -D ${end.dataDir}, and start it again before trusting it.`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const reloadS = seconds();
  await withTargetClient(end.connection, (client) => client.query('CHECKPOINT'), ctx.log);
  const checkpointS = seconds() - reloadS;
  const early = await end.earlySync?.settled;
  if (early) throw early;
  const earlyS = seconds() - reloadS - checkpointS;
  await syncCluster(ctx, tools, end.dataDir, end.syncMethod);
  ctx.log.info({ reloadS, checkpointS, earlyWaitS: earlyS, syncS: seconds() - reloadS - checkpointS - earlyS, method: end.syncMethod }, 'replay tuning ended: reloaded with fsync on and synced while running');
}
