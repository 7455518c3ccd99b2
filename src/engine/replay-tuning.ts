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
import { initdbSyncOnlyArgs } from './pg-args.js';
import { withTargetClient } from './pg-client.js';
import { renderConf, REPLAY_ONLY_HEADER } from './pg-settings.js';
import type { RecoveryOutcome } from './recovery.js';

export interface ReplayTuningEnd {
  dataDir: string;
  connection: pg.ClientConfig;
  /** The replay-only block configureRecovery wrote ({} when none). */
  replayOnly: Record<string, string>;
  state: RecoveryOutcome['state'];
  /** Stopping and starting the promoted server (side: pg_ctl; in place: production's own stop and start). */
  stop: () => Promise<void>;
  start: () => Promise<void>;
}

/** What ending the replay tuning took: nothing, a reload, a restart, or a sync of the stopped cluster and a restart. */
export type TuningEnd = 'none' | 'reloaded' | 'restarted' | 'synced and restarted';

/**
 * After replay the instance goes back to production's (or the defaults') settings: the
 * replay-only block leaves postgresql.auto.conf, and a reload applies what a reload can
 * (everything replayOnlySettings sets, at once). A promoted server that ran with fsync=off is
 * stopped, synced and started again before anyone is told of it; one whose block held a
 * setting that needs a restart (shared_buffers, in bench/replay.ts) is restarted once. A paused
 * server is never restarted (it would replay again from its last restartpoint) and never gets
 * fsync=off: it is handed over running, with production's settings in its files.
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
  const needRestart = await withTargetClient(
    end.connection,
    async (client) => {
      await client.query('SELECT pg_reload_conf()');
      const { rows } = await client.query<{ name: string }>(`SELECT name FROM pg_settings WHERE name = ANY($1) AND context = 'postmaster'`, [names]);
      return rows.map((row) => row.name);
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
  const began = performance.now();
  const seconds = () => Number(((performance.now() - began) / 1000).toFixed(2));
  const took: Record<string, number> = {};
  try {
    await end.stop();
    took.stopS = seconds();
    // With fsync=off nothing the server wrote (replay, the end-of-recovery checkpoint, the
    // shutdown checkpoint) is known to be on disk. Stopped, nothing writes anymore, and
    // initdb --sync-only fsyncs every file and directory of the cluster (pg_wal and tablespaces
    // included); it starts again with fsync on, and only then is it handed over.
    if (unsynced) {
      const [file, args] = initdbSyncOnlyArgs(tools.bin, end.dataDir);
      await ctx.exec.run(file, args, { asUser: tools.osUser, signal: ctx.signal, timeoutMs: 3_600_000 });
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

