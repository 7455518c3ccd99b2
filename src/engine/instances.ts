/**
 * Side instances already on this host: the names taken under the restore root, and the ONE way
 * to get hold of an existing side instance — `openSideInstance` checks that `<root>/<name>` is
 * a side instance this tool created (instance-check.ts says what that means and what is trusted)
 * and returns it as a checked handle. Reading from it, stopping it and removing it take that
 * handle, never a path, and check again right before they act: a symlink, a copied directory
 * or a server that is not this instance's is refused (INSTANCE_INVALID), nothing stopped.
 * Also: whether a TCP port is free for a new instance.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink, realpath, rename } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { Config } from '../config.js';
import { RecoverError } from '../errors.js';
import { shellQuote } from '../util/quote.js';
import type { Exec } from './exec.js';
import { judgeInstance, markerText, MARKER_FILE, parsePidFile, type InstanceFacts, type InstanceVerdict, type PathFact } from './instance-check.js';
import { ownerFor } from './os-user.js';
import type { TargetConnection } from './pg-client.js';
import { INSTANCE_NAME } from './restore-layout.js';

/** What finding an instance needs: the restore root, and the postgres OS user (who owns instance directories). */
export type InstanceConfig = Pick<Config, 'restoreRoot'> & { pg: Pick<Config['pg'], 'osUser'> };

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

declare const checkedBrand: unique symbol;

/** A side instance that passed the check; only openSideInstance makes one. */
export interface CheckedInstance {
  readonly [checkedBrand]: true;
  readonly name: string;
  /** The random id in its marker: a re-check must find the same one. */
  readonly id: string;
  readonly workDir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  /** Its server, when one runs in its data directory (checked through /proc), with the port from postmaster.pid. */
  readonly running: { pid: number; port: number; socket: boolean } | null;
  /** Over its Unix socket as postgres (its pg_hba trusts local connections); null unless running with its socket there. */
  readonly connection: TargetConnection | null;
}

interface Issued {
  config: InstanceConfig;
  identity: { dev: number; ino: number };
}
/** Handles this module issued: stop and remove refuse anything else, so an unchecked path cannot reach them. */
const issued = new WeakMap<CheckedInstance, Issued>();

const missingCodes = new Set(['ENOENT', 'ENOTDIR']);

async function pathFact(path: string): Promise<PathFact & { dev?: number; ino?: number }> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if (missingCodes.has((error as NodeJS.ErrnoException).code ?? '')) return { kind: 'missing' };
    throw error;
  }
  if (stats.isSymbolicLink()) return { kind: 'symlink', uid: stats.uid, linkTarget: await readlink(path).catch(() => '?') };
  return {
    kind: stats.isDirectory() ? 'directory' : stats.isFile() ? 'file' : 'other',
    uid: stats.uid,
    mode: stats.mode,
    dev: stats.dev,
    ino: stats.ino,
    realPath: await realpath(path).catch(() => null),
  };
}

/** Reads a small file without following a symlink in its last component (O_NOFOLLOW) and without blocking on a FIFO. */
async function fileFact(path: string): Promise<PathFact & { text?: string }> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (missingCodes.has(code)) return { kind: 'missing' };
    if (code === 'ELOOP') return { kind: 'symlink' };
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { kind: stats.isDirectory() ? 'directory' : 'other', uid: stats.uid };
    return { kind: 'file', uid: stats.uid, mode: stats.mode, text: stats.size > 64 * 1024 ? '' : await handle.readFile('utf8') };
  } finally {
    await handle.close();
  }
}

/** Where process `pid` runs: its working directory (a postmaster's is its data directory). */
async function processCwd(pid: number): Promise<string | 'gone' | 'unknown'> {
  try {
    return await readlink(`/proc/${pid}/cwd`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    return code === 'ENOENT' || code === 'ESRCH' ? 'gone' : 'unknown';
  }
}

async function socketPorts(socketDir: string): Promise<number[]> {
  const ports: number[] = [];
  for (const entry of await readdir(socketDir).catch(() => [] as string[])) {
    const match = /^\.s\.PGSQL\.(\d+)$/.exec(entry);
    if (match && (await lstat(join(socketDir, entry)).then((s) => s.isSocket(), () => false))) ports.push(Number(match[1]));
  }
  return ports;
}

/** Reads what judgeInstance needs, step by step: nothing is read through a path that already failed (e.g. a symlink). */
async function gatherFacts(config: InstanceConfig, name: string): Promise<{ facts: InstanceFacts; identity?: { dev: number; ino: number } }> {
  const runnerUid = process.getuid?.() ?? -1;
  const pgUid = (await ownerFor(config.pg.osUser))?.uid ?? runnerUid;
  const missing: PathFact = { kind: 'missing' };
  const root = await realpath(config.restoreRoot).catch(() => config.restoreRoot);
  const facts: InstanceFacts = { name, root, workDir: missing, allowedOwners: [pgUid, runnerUid], runnerUid, marker: missing, data: missing, run: missing, pidFile: missing, socketPorts: [] };
  const workDir = join(root, name);
  const entry = await pathFact(workDir);
  facts.workDir = entry;
  if (entry.kind !== 'directory' || entry.realPath !== workDir) return { facts };
  const identity = { dev: entry.dev!, ino: entry.ino! };
  facts.marker = await fileFact(join(workDir, MARKER_FILE));
  facts.data = await pathFact(join(workDir, 'data'));
  facts.run = await pathFact(join(workDir, 'run'));
  if (facts.data.kind !== 'directory' || facts.data.realPath !== join(workDir, 'data')) return { facts, identity };
  facts.pidFile = await fileFact(join(workDir, 'data', 'postmaster.pid'));
  const pid = facts.pidFile.kind === 'file' ? parsePidFile(facts.pidFile.text ?? '') : null;
  if (pid) facts.processCwd = await processCwd(pid.pid);
  if (facts.run.kind === 'directory') facts.socketPorts = await socketPorts(join(workDir, 'run'));
  return { facts, identity };
}

/** The verdict on `<root>/<name>` (no error thrown for a bad one): for listings and tests. */
export async function checkSideInstance(config: InstanceConfig, name: string): Promise<InstanceVerdict> {
  if (!INSTANCE_NAME.test(name)) return { ok: false, missing: false, reason: `"${name}" is not an instance name` };
  return judgeInstance((await gatherFacts(config, name)).facts);
}

/** Names under the restore root that are side instances this tool created (running or not). */
export async function listSideInstances(config: InstanceConfig): Promise<string[]> {
  const names: string[] = [];
  for (const name of (await listInstances(config.restoreRoot)).sort()) {
    if (INSTANCE_NAME.test(name) && (await checkSideInstance(config, name).catch(() => ({ ok: false })))?.ok) names.push(name);
  }
  return names;
}

async function theInstancesThere(config: InstanceConfig): Promise<string> {
  const names = await listSideInstances(config).catch(() => [] as string[]);
  return `The side instances this tool created under ${config.restoreRoot}: ${names.join(', ') || 'none'}.`;
}

/**
 * Checks `<root>/<name>` and returns it as a checked instance, or refuses: BAD_INPUT for a bad
 * name or nothing there, INSTANCE_INVALID (exit 3) for anything this tool did not create, with
 * the reason and the real instances. `expectId`: the marker id a job recorded when it created it.
 */
export async function openSideInstance(config: InstanceConfig, name: string, options: { expectId?: string } = {}): Promise<CheckedInstance> {
  if (!INSTANCE_NAME.test(name)) throw new RecoverError('BAD_INPUT', `"${name}" is not an instance name.`, { hint: 'Use the name a pitr job reported, e.g. pitr-20250115T142959Z-3f2a9c1e.' });
  const { facts, identity } = await gatherFacts(config, name);
  const verdict = judgeInstance(facts);
  if (!verdict.ok) {
    if (verdict.missing) throw new RecoverError('BAD_INPUT', `There is no side instance named ${name} under ${config.restoreRoot}.`, { hint: await theInstancesThere(config) });
    const workDir = join(facts.root, name);
    const adopt = verdict.unmarked
      ? ` If it is a side instance an earlier recover-bot restored, adopt it: as the runner's user, run printf '%s\\n' ${shellQuote(markerText({ name, id: `adopted-${randomBytes(6).toString('hex')}`, createdAt: new Date().toISOString(), dataDir: join(workDir, 'data') }).trim())} > ${shellQuote(join(workDir, MARKER_FILE))} && chmod 600 ${shellQuote(join(workDir, MARKER_FILE))}.`
      : '';
    throw new RecoverError('INSTANCE_INVALID', `${name} is not a side instance this tool created: ${verdict.reason}. Nothing was stopped, removed or read.`, {
      hint: `${await theInstancesThere(config)}${adopt}`,
    });
  }
  if (options.expectId !== undefined && verdict.marker.id !== options.expectId) {
    throw new RecoverError('INSTANCE_INVALID', `${name} is not the side instance this job created (its marker id changed); nothing was stopped or removed.`, { hint: await theInstancesThere(config) });
  }
  const running = verdict.running;
  const instance = {
    name,
    id: verdict.marker.id,
    workDir: verdict.workDir,
    dataDir: verdict.dataDir,
    socketDir: verdict.socketDir,
    running,
    connection: running?.socket ? { host: verdict.socketDir, port: running.port, user: 'postgres', database: 'postgres' } : null,
  } as unknown as CheckedInstance;
  issued.set(instance, { config, identity: identity! });
  return instance;
}

/** How to reach the running side instance `name` (checked first): over its Unix socket, as postgres. */
export async function sideInstanceConnection(config: InstanceConfig, name: string): Promise<TargetConnection> {
  const instance = await openSideInstance(config, name);
  if (!instance.connection) {
    throw new RecoverError('BAD_INPUT', `The side instance ${name} is not running (no server socket in ${instance.socketDir}).`, { hint: `Start it with pg_ctl -D ${instance.dataDir} start, then try again.` });
  }
  return instance.connection;
}

/** The same instance, checked again now: same marker id, same directory (not swapped since). */
async function recheck(instance: CheckedInstance): Promise<{ now: CheckedInstance; issuedTo: Issued }> {
  const was = issued.get(instance);
  if (!was) throw new RecoverError('INTERNAL', `The side instance ${instance.name} was not checked (openSideInstance) before being stopped or removed.`);
  const now = await openSideInstance(was.config, instance.name, { expectId: instance.id });
  const issuedTo = issued.get(now)!;
  if (issuedTo.identity.dev !== was.identity.dev || issuedTo.identity.ino !== was.identity.ino) {
    throw new RecoverError('INSTANCE_INVALID', `${instance.workDir} was replaced since it was checked; nothing was stopped or removed.`, { hint: await theInstancesThere(was.config) });
  }
  return { now, issuedTo };
}

const SHUTDOWN_SIGNAL = { smart: 'SIGTERM', fast: 'SIGINT', immediate: 'SIGQUIT' } as const;

/**
 * Stops a checked side instance's server, checked again right before: the shutdown signal goes
 * to exactly the process whose working directory is this instance's data directory (PostgreSQL's
 * own meaning of SIGTERM/SIGINT/SIGQUIT, as pg_ctl sends them), never to a PID read later from
 * a path that could have been swapped. Waits until that process is gone.
 */
export async function stopSideInstance(instance: CheckedInstance, mode: 'smart' | 'fast' | 'immediate' = 'fast', timeoutMs = 130_000): Promise<void> {
  const { now } = await recheck(instance);
  if (!now.running) return;
  const { pid } = now.running;
  try {
    process.kill(pid, SHUTDOWN_SIGNAL[mode]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
    throw new RecoverError('COMMAND_FAILED', `Cannot stop the side instance ${instance.name} (pid ${pid}): ${(error as Error).message}.`, { cause: error });
  }
  const deadline = Date.now() + timeoutMs;
  while ((await processCwd(pid)) === now.dataDir) {
    if (Date.now() > deadline) throw new RecoverError('COMMAND_FAILED', `The side instance ${instance.name} (pid ${pid}) did not stop within ${Math.round(timeoutMs / 1000)} s.`, { hint: `Look at ${join(instance.workDir, 'server.log')}; stop it with pg_ctl -D ${now.dataDir} stop -m immediate.` });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Stops (if running) and removes a checked side instance, checked again right before. The
 * directory is first renamed to a hidden name in the root (atomic; the name is free at once)
 * and must still be the same directory afterwards; GNU `rm -rf --one-file-system` then removes
 * it without following symlinks, also ones swapped in while it runs.
 */
export async function removeSideInstance(exec: Exec, instance: CheckedInstance, mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
  await stopSideInstance(instance, mode);
  const { now, issuedTo } = await recheck(instance);
  if (now.running) throw new RecoverError('COMMAND_FAILED', `The side instance ${instance.name} is running again; it was not removed.`, { hint: 'Stop it and try again.' });
  const doomed = join(dirname(now.workDir), `.removing-${instance.name}-${randomBytes(4).toString('hex')}`);
  await rename(now.workDir, doomed);
  const moved = await lstat(doomed);
  if (!moved.isDirectory() || moved.dev !== issuedTo.identity.dev || moved.ino !== issuedTo.identity.ino) {
    throw new RecoverError('INSTANCE_INVALID', `${now.workDir} was replaced while being removed; what was there is now at ${doomed} and was not removed.`, { hint: 'Look at it and remove it by hand if it is yours.' });
  }
  await removeTree(exec, doomed);
}

/** `rm -rf` that never follows a symlink inside the tree, even one swapped in meanwhile (GNU rm works through directory descriptors). */
export async function removeTree(exec: Exec, path: string): Promise<void> {
  await exec.run('rm', ['-rf', '--one-file-system', '--', path], { timeoutMs: 10 * 60_000 });
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
