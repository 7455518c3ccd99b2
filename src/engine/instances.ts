/**
 * Side instances already on this host: the names taken under the restore root, a side
 * instance's connection (its socket directory `<root>/<name>/run`, as restore-layout.ts makes
 * it), and whether a TCP port is free for a new one.
 */
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { RecoverError } from '../errors.js';
import type { TargetConnection } from './pg-client.js';
import { INSTANCE_NAME } from './restore-layout.js';

/** Names taken under the restore root (every entry counts: a file or symlink blocks the name too). */
export async function listInstances(restoreRoot: string): Promise<string[]> {
  try {
    return await readdir(restoreRoot);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new RecoverError('CONFIG_INVALID', `Cannot read the restore root ${restoreRoot}: ${(error as Error).message}`, {
      hint: 'Check RECOVER_RESTORE_ROOT: it must be a directory the runner can read.',
      cause: error,
    });
  }
}

/**
 * How to reach the running side instance `name`: over its Unix socket, as postgres (its
 * pg_hba trusts local connections). The port is the one in the socket's name.
 */
export async function sideInstanceConnection(restoreRoot: string, name: string): Promise<TargetConnection> {
  if (!INSTANCE_NAME.test(name)) throw new RecoverError('BAD_INPUT', `"${name}" is not an instance name.`, { hint: 'Use the name a pitr job reported, e.g. pitr-20250115T142959Z-3f2a9c1e.' });
  const socketDir = join(restoreRoot, name, 'run');
  let entries: string[];
  try {
    entries = await readdir(socketDir);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new RecoverError(missing ? 'BAD_INPUT' : 'CONFIG_INVALID', missing ? `There is no side instance named ${name} under ${restoreRoot}.` : `Cannot read ${socketDir}: ${(error as Error).message}`, {
      hint: `The instances there: ${(await listInstances(restoreRoot)).join(', ') || 'none'}.`,
      cause: error,
    });
  }
  const socket = entries.map((entry) => /^\.s\.PGSQL\.(\d+)$/.exec(entry)).find((match) => match !== null);
  if (!socket) throw new RecoverError('BAD_INPUT', `The side instance ${name} is not running (no server socket in ${socketDir}).`, { hint: `Start it with pg_ctl -D ${join(restoreRoot, name, 'data')} start, then verify again.` });
  return { host: socketDir, port: Number(socket[1]), user: 'postgres', database: 'postgres' };
}

/** Refuses a TCP port something already listens on (checked by binding it on 127.0.0.1, where side instances listen). */
export async function assertPortFree(port: number): Promise<void> {
  const problem = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(null)));
  });
  if (!problem) return;
  if (problem.code === 'EADDRINUSE') {
    throw new RecoverError('PORT_IN_USE', `Port ${port} is already in use on this host.`, { hint: 'Choose another --port, or leave it out to get a free one.', cause: problem });
  }
  throw new RecoverError('BAD_INPUT', `Port ${port} cannot be used here (${problem.code ?? problem.message}).`, { hint: 'Choose another --port, or leave it out to get a free one.', cause: problem });
}
