/**
 * A broken streaming replica, rebuilt from its primary: the in-place swap of pitr (stopped, its
 * data directory moved aside and kept as `<dataDir>.before-pitr-<time>`, the journal, roll-back
 * on failure), then `pg_basebackup` from the primary its own settings name (`primary_conninfo`,
 * `primary_slot_name`), its own configuration files put back over the primary's copies (port,
 * sockets, primary_conninfo are the replica's), `standby.signal`, started, and verified streaming.
 */
import { chown, copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.js';
import { RecoverError } from '../../errors.js';
import { parseConnectionUrl, pgClientConfig } from '../../util/connection-url.js';
import { nowIso, type EngineContext } from '../context.js';
import { journalWriter } from '../in-place-journal.js';
import { exists, stopCluster, writeOwnedFile } from '../local-cluster.js';
import { ownerFor } from '../os-user.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { inPlaceSwap } from '../restore-layout.js';
import { step } from '../restore-to-target.js';
import { productionDataDir } from './gather.js';

export type ReplicaConfig = Pick<Config, 'pg' | 'source' | 'recoveryTimeoutSeconds'>;

/** The replica's own files, put back over the primary's copies pg_basebackup brought. */
export const OWN_FILES = ['postgresql.conf', 'postgresql.auto.conf', 'pg_hba.conf', 'pg_ident.conf'] as const;

export interface StandbySettings {
  primaryConninfo: string | null;
  primarySlotName: string | null;
}

/** primary_conninfo and primary_slot_name as the server reads them: the last setting wins, postgresql.auto.conf after postgresql.conf. Pure. */
export function standbySettings(...files: string[]): StandbySettings {
  const found: StandbySettings = { primaryConninfo: null, primarySlotName: null };
  for (const text of files) {
    for (const line of text.split('\n')) {
      const match = /^\s*(primary_conninfo|primary_slot_name)\s*=?\s*'((?:[^']|'')*)'\s*(?:#.*)?$/.exec(line);
      if (!match) continue;
      const value = match[2]!.replace(/''/g, "'");
      if (match[1] === 'primary_conninfo') found.primaryConninfo = value || null;
      else found.primarySlotName = value || null;
    }
  }
  return found;
}

export interface ReplicaResult {
  path: 'replica';
  dataDir: string;
  oldDataDir: string | null;
  /** Where it streams from (the password, if any, left out). */
  primary: string;
  receivedLsn: string | null;
  replayLsn: string | null;
}

const readIfThere = async (path: string) => ((await exists(path)) ? readFile(path, 'utf8') : '');

/** Waits until the rebuilt replica is in recovery and its WAL receiver streams. */
export async function waitStreaming(ctx: EngineContext, connection: TargetConnection, timeoutSeconds: number): Promise<{ receivedLsn: string | null; replayLsn: string | null }> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    ctx.signal.throwIfAborted();
    try {
      const row = await withTargetClient(connection, async (client) => (await client.query<{ recovering: boolean; status: string | null; received: string | null; replayed: string | null }>(
        `SELECT pg_is_in_recovery() AS recovering, (SELECT status FROM pg_stat_wal_receiver) AS status, pg_last_wal_receive_lsn()::text AS received, pg_last_wal_replay_lsn()::text AS replayed`,
      )).rows[0], ctx.log);
      if (row && !row.recovering) throw new RecoverError('RESTORE_FAILED', 'The rebuilt replica is not in recovery: it would accept writes beside its primary.', { hint: 'Check standby.signal in its data directory.' });
      if (row?.status === 'streaming') return { receivedLsn: row.received, replayLsn: row.replayed };
      last = `WAL receiver ${row?.status ?? 'not running'}`;
    } catch (error) {
      if (error instanceof RecoverError) throw error;
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new RecoverError('RESTORE_FAILED', `The rebuilt replica did not stream from its primary within ${timeoutSeconds} s (${last}).`, { hint: 'Check primary_conninfo, the primary\'s pg_hba.conf (replication) and the replica\'s log.' });
}

export async function rebuildReplica(ctx: EngineContext, config: ReplicaConfig, beforeDestructiveStep: (step: string) => Promise<void>): Promise<ReplicaResult> {
  const dataDir = productionDataDir(config);
  if (!config.source.url) throw new RecoverError('CONFIG_INVALID', 'Rebuilding a replica needs RECOVER_SOURCE_URL (to check it streams afterwards).', { hint: 'Set RECOVER_SOURCE_URL to the replica\'s own connection.' });
  const { primaryConninfo, primarySlotName } = standbySettings(await readIfThere(join(dataDir, 'postgresql.conf')), await readIfThere(join(dataDir, 'postgresql.auto.conf')));
  if (!primaryConninfo) {
    throw new RecoverError('CONFIG_INVALID', `${dataDir} names no primary (primary_conninfo is not in its postgresql.conf or postgresql.auto.conf); nothing was changed.`, { hint: 'Set primary_conninfo for this standby (or rebuild it by hand with pg_basebackup -R from its primary).' });
  }
  const primary = primaryConninfo.replace(/password=\S+/g, 'password=…');
  ctx.events.emit({ type: 'job.started', at: nowIso(ctx.clock), command: 'crash --recover (rebuild the replica)' });
  const connection = pgClientConfig(parseConnectionUrl(config.source.url), 'postgres');
  const owner = await ownerFor(config.pg.osUser);
  const journal = journalWriter(dataDir, ctx.jobId ?? null, ctx.clock);
  const swap = inPlaceSwap(ctx, config.pg, config, connection, owner, undefined, journal, { leaveStoppedIfDown: true });
  try {
    await beforeDestructiveStep('stop-production');
    step(ctx, 'stop-production', 'Stop the replica')(await swap.stopProduction());
    await beforeDestructiveStep('move-aside');
    step(ctx, 'move-aside', "Move the replica's data directory aside (kept, not deleted)")(await swap.moveAside());
    const finishCopy = step(ctx, 'basebackup', `Copy the primary with pg_basebackup (${primary})`);
    await ctx.exec.run(join(config.pg.bin, 'pg_basebackup'), ['-D', dataDir, '-d', primaryConninfo, '-X', 'stream', '-c', 'fast', '--no-password', ...(primarySlotName ? ['-S', primarySlotName] : [])], { asUser: config.pg.osUser, signal: ctx.signal, timeoutMs: 6 * 3600_000 });
    for (const name of OWN_FILES) {
      const own = join(swap.oldDataDir!, name);
      if (await exists(own)) {
        await copyFile(own, join(dataDir, name));
        if (owner) await chown(join(dataDir, name), owner.uid, owner.gid);
      }
    }
    await writeOwnedFile(join(dataDir, 'standby.signal'), '', owner);
    finishCopy('copied; its own configuration files put back; standby.signal');
    await beforeDestructiveStep('start-production');
    const finishStart = step(ctx, 'start-production', 'Start the replica');
    await swap.startProduction(ctx.signal);
    finishStart();
    const finishVerify = step(ctx, 'verify', 'Check it streams from its primary');
    const streaming = await waitStreaming(ctx, connection, Math.min(config.recoveryTimeoutSeconds, 300));
    finishVerify(`streaming; received ${streaming.receivedLsn ?? '?'}, replayed ${streaming.replayLsn ?? '?'}`);
    await journal.remove();
    return { path: 'replica', dataDir, oldDataDir: swap.oldDataDir, primary, ...streaming };
  } catch (error) {
    // Never leave a half-built replica running where the old one was.
    if (swap.oldDataDir) await stopCluster(ctx.exec, config.pg.bin, config.pg.osUser, dataDir, 'immediate').catch((stopError: unknown) => ctx.log.error({ err: stopError }, 'could not stop the rebuilt replica after a failure'));
    const state = await swap.rollBack();
    const failure = error instanceof RecoverError ? error : new RecoverError('RESTORE_FAILED', (error as Error).message, { cause: error });
    throw new RecoverError(failure.code, failure.message, { hint: `${failure.hint ? `${failure.hint}\n` : ''}${state}`, cause: failure });
  }
}
