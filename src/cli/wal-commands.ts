/** The PostgreSQL hooks as CLI commands: direct push/fetch and the long-lived agent. */
import { existsSync } from 'node:fs';
import { chown, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { dirname, join, resolve } from 'node:path';
import { requireStorageDriver } from '../config.js';
import { BlobNotFoundError } from '../storage/blob-store.js';
import { ownerFor } from '../engine/os-user.js';
import { startWalAgent } from '../wal/agent.js';
import { decodeArchivedFile, expectedFromMetadata } from '../wal/archived-file.js';
import { readStreamToBuffer } from '../util/streams.js';
import { WalFetcher } from '../wal/fetcher.js';
import { walHookSource } from '../wal/hook-source.js';
import { agentBanner, fallbackArgv, hookCommands, hookNode } from '../wal/hook-commands.js';
import { HOOK_EXIT } from '../wal/protocol.js';
import { pushWalFile } from '../wal/push.js';
import { walFileKind } from '../catalog/segments.js';
import { createRuntime, printFailure, type CliIo } from './runtime.js';

export async function walPush(io: CliIo, path: string, name: string): Promise<number> {
  try {
    const runtime = await createRuntime(io, { json: true, service: true });
    const outcome = await pushWalFile(runtime.context.storage, runtime.log, path, name);
    runtime.log.info({ wal: name, outcome }, 'archived');
    return HOOK_EXIT.ok;
  } catch (error) {
    printFailure(io, false, error);
    return HOOK_EXIT.retry;
  }
}

/** restore_command without the agent (one cold process per file). */
export async function walFetch(io: CliIo, name: string, dest: string): Promise<number> {
  try {
    if (!walFileKind(name)) throw new Error(`not a WAL file name: ${name}`);
    const runtime = await createRuntime(io, { json: true, service: true });
    const { storage } = runtime.context;
    const target = resolve(dest);
    const temp = join(dirname(target), `.recover-fetch-${process.pid}`);
    try {
      const key = `${storage.walPrefix}${name}`;
      const info = await storage.wal.head(key);
      if (!info) return HOOK_EXIT.missing;
      const stored = await readStreamToBuffer(await storage.wal.getStream(key));
      const raw = await decodeArchivedFile(stored, { name, key, store: storage.wal }, expectedFromMetadata(info.metadata, info.size));
      await writeFile(temp, raw);
      await rename(temp, target);
      return HOOK_EXIT.ok;
    } catch (error) {
      await rm(temp, { force: true });
      if (error instanceof BlobNotFoundError) return HOOK_EXIT.missing;
      throw error;
    }
  } catch (error) {
    printFailure(io, false, error);
    // Above 125: PostgreSQL aborts recovery instead of treating an outage as the end of WAL.
    return HOOK_EXIT.abortRecovery;
  }
}

export async function walAgent(io: CliIo, socketOverride: string | undefined, signal: AbortSignal): Promise<number> {
  const runtime = await createRuntime(io, { service: true });
  requireStorageDriver(runtime.config.storage); // before printing lines that would archive into nothing
  const socketPath = resolve(socketOverride ?? runtime.config.walAgentSocket);
  const dir = dirname(socketPath);
  const owner = await ownerFor(runtime.config.pg.osUser);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const hookPath = join(dir, 'wal-hook.mjs');
  const { hook } = runtime.config;
  const node = hookNode({ ...(hook.node ? { configured: hook.node } : {}), systemNodeExists: existsSync('/usr/bin/node'), execPath: process.execPath });
  const fallback = fallbackArgv({ node, ...(hook.fallback ? { configured: hook.fallback } : {}), self: fileURLToPath(import.meta.url) });
  await writeFile(hookPath, walHookSource(fallback ? { argv: fallback, ...(hook.envFile ? { envFile: hook.envFile } : {}) } : undefined), { mode: 0o644 });
  if (owner) await chown(hookPath, owner.uid, owner.gid);
  const fetcher = new WalFetcher({ storage: runtime.context.storage, spoolDir: join(dir, 'spool'), log: runtime.log, ...(owner ? { owner } : {}) });
  await fetcher.start();
  const agent = await startWalAgent({ socketPath, storage: runtime.context.storage, log: runtime.log, fetcher, ...(owner ? { owner } : {}) });
  const { confLines } = hookCommands({ nodePath: node, hookPath, socketPath });
  const needed = [node, hookPath, ...(fallback ?? []), ...(hook.envFile ? [hook.envFile] : [])];
  const unreadable = owner ? await unusableBy(runtime.config.pg.osUser, needed) : [];
  io.stdout.write(agentBanner({ socketPath, confLines, fallback, ...(hook.envFile ? { envFile: hook.envFile } : {}), unreadable }));
  await new Promise<void>((resolveWait) => signal.addEventListener('abort', () => resolveWait(), { once: true }));
  await agent.close();
  await fetcher.stop();
  return 0;
}

/** The paths the postgres OS user cannot read (runuser … test -r): archive_command runs as that user. */
async function unusableBy(osUser: string, paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of new Set(paths)) {
    const result = await execa('runuser', ['-u', osUser, '--', 'test', '-r', path], { reject: false });
    if (result.exitCode !== 0) out.push(path);
  }
  return out;
}
