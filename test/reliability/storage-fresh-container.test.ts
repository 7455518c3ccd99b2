/**
 * A fresh storage account has no containers. WAL archiving usually starts before the first
 * base backup, so the first push must create its container instead of failing with
 * "container does not exist" until someone runs `recover backup`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startAzurite, type AzuriteHandle } from '../../devkit/azurite.js';
import { listAll } from '../../src/storage/blob-store.js';
import { openStorage } from '../../src/storage/index.js';
import { pushWalFile } from '../../src/wal/push.js';
import { runCli } from '../support/run-cli.js';

let dir: string;
let azurite: AzuriteHandle | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rb-fresh-'));
  azurite = await startAzurite(join(dir, 'azurite'));
});

afterAll(async () => {
  await azurite?.stop();
  await rm(dir, { recursive: true, force: true });
});

const envFor = (container: string) => ({
  RECOVER_STORAGE_DRIVER: 'azure',
  RECOVER_AZURE_CONNECTION_STRING: azurite!.connectionString,
  RECOVER_CONTAINER_WAL: container,
  RECOVER_STORAGE_RETRIES: '0',
  LOG_LEVEL: 'silent',
});

test('the first WAL push into a fresh account creates the container', async () => {
  const storage = await openStorage(loadConfig(envFor('fresh-wal-a')).storage);
  const name = '000000010000000000000001';
  const file = join(dir, name);
  const bytes = randomBytes(8192);
  await writeFile(file, bytes);
  expect(await pushWalFile(storage, pino({ level: 'silent' }), file, name)).toBe('uploaded');
  expect(await pushWalFile(storage, pino({ level: 'silent' }), file, name)).toBe('already-archived');
  expect((await listAll(storage.wal, 'wal/')).map((blob) => blob.key)).toEqual([`wal/${name}`]);
});

test('recover wal-push and wal-fetch against a container nobody created', async () => {
  const env = envFor('fresh-wal-b');
  const name = '000000010000000000000002';
  const file = join(dir, name);
  const bytes = randomBytes(8192);
  await writeFile(file, bytes);
  const pushed = await runCli(['wal-push', file, name], env);
  expect(pushed.stderr).not.toContain('does not exist');
  expect(pushed.code).toBe(0);
  const fetched = await runCli(['wal-fetch', name, join(dir, 'back')], env);
  expect(fetched.code).toBe(0);
  expect(Buffer.compare(await readFile(join(dir, 'back')), bytes)).toBe(0);
});
