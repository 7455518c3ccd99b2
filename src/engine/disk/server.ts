/**
 * Whether production's server runs, and waiting until it accepts writes. A server whose disk
 * filled may be stopped (its startup process failed for lack of space), crash-looping or hung
 * in crash recovery (a live postmaster that refuses connections), or running: the disk fix
 * treats each differently, so a live postmaster is called "not answering" only for the answers
 * such a server gives (57P03 "the database system is in recovery mode", no socket, a connect
 * that times out), never for a wrong password or database name, which leave it "unknown".
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecoverError } from '../../errors.js';
import type { Logger } from '../../types.js';
import { postmasterOn } from '../in-place-recovery.js';
import { withTargetClient, type TargetConnection } from '../pg-client.js';
import { serverRunning } from '../recovery.js';
import { configFileOutside } from '../source-layout.js';
import { configFileFromOpts } from './parse.js';

export type ServerState =
  | { state: 'running'; inRecovery: boolean }
  | { state: 'not-answering'; detail: string }
  | { state: 'stopped' }
  | { state: 'unknown'; detail: string };

const NOT_ANSWERING = new Set(['57P03', 'ECONNREFUSED', 'ENOENT']);

/** Pure: what a failed connection to a live postmaster says about it. */
export function classifyConnectFailure(error: unknown): ServerState {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  const text = message ?? String(error);
  if ((code && NOT_ANSWERING.has(code)) || /timeout|timed out/i.test(text)) return { state: 'not-answering', detail: text };
  return { state: 'unknown', detail: text };
}

export async function serverState(dataDir: string, connection: TargetConnection | null, log?: Logger): Promise<ServerState> {
  if (!(await postmasterOn(dataDir))) {
    // A live pid in postmaster.pid that names another directory (a symlinked path, a trailing slash): never "stopped".
    if (await serverRunning(dataDir)) return { state: 'unknown', detail: `postmaster.pid in ${dataDir} belongs to a live process but names another data directory (check RECOVER_SOURCE_DATA_DIR is the real path)` };
    return { state: 'stopped' };
  }
  if (!connection) return { state: 'unknown', detail: 'a postmaster runs, and RECOVER_SOURCE_URL is not set to ask it whether it answers' };
  try {
    const inRecovery = await withTargetClient({ ...connection, connectionTimeoutMillis: 10_000 }, async (client) => (await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r, log);
    return { state: 'running', inRecovery };
  } catch (error) {
    return classifyConnectFailure(error);
  }
}

/** Where production's configuration lives when outside the data directory: from the running server's last start (postmaster.opts). */
export async function startConfigFile(dataDir: string): Promise<string | undefined> {
  const opts = await readFile(join(dataDir, 'postmaster.opts'), 'utf8').catch(() => '');
  return configFileOutside({ configFile: configFileFromOpts(opts) ?? undefined }, dataDir);
}

/**
 * Until the server is out of recovery and a transaction that writes commits (txid_current()
 * assigns an xid and writes its commit record). Throws RECOVERY_FAILED with the last error at the deadline.
 */
export async function waitWritable(connection: TargetConnection, timeoutSeconds: number, signal: AbortSignal, log?: Logger): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    try {
      const ok = await withTargetClient({ ...connection, connectionTimeoutMillis: 10_000 }, async (client) => {
        const { rows } = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
        if (rows[0]!.r) return false;
        await client.query('SELECT txid_current()');
        return true;
      }, log);
      if (ok) return;
      last = 'still in recovery';
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new RecoverError('RECOVERY_FAILED', `Production did not accept writes within ${timeoutSeconds} s: ${last}.`, {
    hint: "Look at production's server log for why (space still short, a failing startup); the files removed were only archived WAL older than REDO, temporary files and old logs.",
  });
}
