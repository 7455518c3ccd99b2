/**
 * The PostgreSQL hooks as PostgreSQL runs them: the bundled CLI (`recover wal-push`,
 * `recover wal-fetch`) and the agent hook, against Azurite. Exit codes are the contract.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startAzurite, type AzuriteHandle } from '../../../devkit/azurite.js';
import { openStorage } from '../../../src/storage/index.js';
import type { Storage } from '../../../src/storage/blob-store.js';
import { startWalAgent, type WalAgent } from '../../../src/wal/agent.js';
import { WalFetcher } from '../../../src/wal/fetcher.js';
import { WAL_HOOK_SOURCE } from '../../../src/wal/hook-source.js';
import { loadConfig } from '../../../src/config.js';

let dir: string;
let azurite: AzuriteHandle;
let storage: Storage;
let agent: WalAgent;
let fetcher: WalFetcher;
let env: Record<string, string>;
const SEGMENT = '0000000100000000000000A1';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rb-hooks-'));
  azurite = await startAzurite(join(dir, 'azurite'));
  env = { RECOVER_STORAGE_DRIVER: 'azure', RECOVER_AZURE_CONNECTION_STRING: azurite.connectionString, RECOVER_STORAGE_RETRIES: '1', LOG_LEVEL: 'error' };
  storage = await openStorage(loadConfig(env).storage);
  await storage.wal.ensureContainer();
  const log = pino({ level: 'silent' });
  fetcher = new WalFetcher({ storage, spoolDir: join(dir, 'spool'), log });
  await fetcher.start();
  agent = await startWalAgent({ socketPath: join(dir, 'agent.sock'), storage, log, fetcher });
  await writeFile(join(dir, 'wal-hook.mjs'), WAL_HOOK_SOURCE);
});

afterAll(async () => {
  await agent?.close();
  await fetcher?.stop();
  await azurite?.stop();
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[], extraEnv: Record<string, string> = {}) =>
  execa(process.execPath, ['bin/recover.mjs', ...args], { env: { ...env, ...extraEnv }, reject: false });
const hook = (args: string[]) => execa(process.execPath, [join(dir, 'wal-hook.mjs'), ...args], { reject: false, cwd: dir });

test('recover wal-push archives, accepts the same bytes again, refuses different bytes under the same name', async () => {
  const file = join(dir, SEGMENT);
  const bytes = randomBytes(64 * 1024);
  await writeFile(file, bytes);
  expect((await cli(['wal-push', file, SEGMENT])).exitCode).toBe(0);
  expect((await cli(['wal-push', file, SEGMENT])).exitCode).toBe(0);
  await writeFile(file, randomBytes(64 * 1024));
  const conflict = await cli(['wal-push', file, SEGMENT]);
  expect(conflict.exitCode).toBe(1);
  expect(conflict.stderr).toContain('WAL_CONFLICT');
  expect(conflict.stderr).toContain('not overwritten');
  // The archived copy is still the first one.
  await cli(['wal-fetch', SEGMENT, join(dir, 'restored')]);
  expect(Buffer.compare(await readFile(join(dir, 'restored')), bytes)).toBe(0);
});

test('recover wal-fetch: 0 when restored, 1 when not archived, 126 when storage is unreachable', async () => {
  expect((await cli(['wal-fetch', SEGMENT, join(dir, 'out1')])).exitCode).toBe(0);
  expect((await cli(['wal-fetch', '00000002.history', join(dir, 'out2')])).exitCode).toBe(1);
  const unreachable = await cli(['wal-fetch', SEGMENT, join(dir, 'out3')], {
    RECOVER_AZURE_CONNECTION_STRING: azurite.connectionString.replace(`:${azurite.port}/`, ':9/'),
  });
  expect(unreachable.exitCode).toBe(126);
  expect(unreachable.stderr).toContain('STORAGE_UNREACHABLE');
  expect(unreachable.stderr).not.toContain('AccountKey');
});

test('the agent hook: push is idempotent, fetch maps missing to 1 and a dead agent to 126', async () => {
  const name = '0000000100000000000000B2';
  const file = join(dir, name);
  await writeFile(file, randomBytes(1024));
  const socket = join(dir, 'agent.sock');
  expect((await hook(['push', socket, name, name])).exitCode).toBe(0);
  expect((await hook(['push', socket, file, name])).exitCode).toBe(0);
  expect((await hook(['fetch', socket, name, join(dir, 'got')])).exitCode).toBe(0);
  expect(await readFile(join(dir, 'got'))).toEqual(await readFile(file));
  expect((await hook(['fetch', socket, '0000000100000000000000FF', join(dir, 'none')])).exitCode).toBe(1);
  const dead = await hook(['fetch', join(dir, 'no-such.sock'), name, join(dir, 'x')]);
  expect(dead.exitCode).toBe(126);
  expect(dead.stderr).toContain('WAL agent unreachable');
  expect((await hook(['push', join(dir, 'no-such.sock'), file, name])).exitCode).toBe(1);
  expect((await hook(['fetch', socket, '../../etc/passwd', join(dir, 'x')])).exitCode).toBe(126);
});
