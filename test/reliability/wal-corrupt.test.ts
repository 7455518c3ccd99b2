/**
 * Bit rot in the WAL archive. A damaged archived file must be reported by every reader as
 * WAL_CORRUPT naming the file, the container and the blob, with what to do — not as the LZ4
 * decoder's "0 is not a valid match offset" (STORAGE_ERROR) that says nothing about where.
 * Two kinds of damage: bytes that no longer unpack, and bytes that unpack to something other
 * than what was archived (caught by the size/CRC recorded at archive time).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startAzurite, type AzuriteHandle } from '../../devkit/azurite.js';
import { RecoverError } from '../../src/errors.js';
import type { Storage } from '../../src/storage/blob-store.js';
import { readCatalog } from '../../src/engine/read-catalog.js';
import { indexSegments } from '../../src/catalog/coverage.js';
import { openStorage } from '../../src/storage/index.js';
import { startWalAgent, type WalAgent } from '../../src/wal/agent.js';
import { compressWal } from '../../src/wal/compression.js';
import { WalFetcher } from '../../src/wal/fetcher.js';
import { WAL_HOOK_SOURCE } from '../../src/wal/hook-source.js';
import { pushWalFile } from '../../src/wal/push.js';
import { runCli } from '../support/run-cli.js';

const log = pino({ level: 'silent' });
const UNPACKABLE = '000000010000000000000003';
const WRONG_BYTES = '000000010000000000000004';
const CONTAINER = 'postgresql-wal-archive';

let dir: string;
let azurite: AzuriteHandle | undefined;
let storage: Storage;
let env: Record<string, string>;

/** WAL-like bytes: compressible, so the stored LZ4 block has back-references to break. */
function walLike(seed: number): Buffer {
  const raw = Buffer.alloc(1 << 20);
  for (let i = 0; i < raw.length; i += 8192) raw.write(`page ${i} xlog record ${seed} with some text ${i % 977}`, i);
  return raw;
}

async function archive(name: string, raw: Buffer): Promise<void> {
  const file = join(dir, `src-${name}`);
  await writeFile(file, raw);
  expect(await pushWalFile(storage, log, file, name)).toBe('uploaded');
}

/** Rewrites a blob's bytes in place, keeping the metadata recorded when it was archived (what bit rot does). */
async function rot(name: string, damage: (stored: Buffer) => Promise<Buffer> | Buffer): Promise<void> {
  const key = `${storage.walPrefix}${name}`;
  const info = (await storage.wal.head(key))!;
  const chunks: Buffer[] = [];
  for await (const chunk of await storage.wal.getStream(key)) chunks.push(chunk as Buffer);
  await storage.wal.put(key, await damage(Buffer.concat(chunks)), { metadata: info.metadata });
}

function expectNamed(error: unknown, name: string): void {
  expect(error).toBeInstanceOf(RecoverError);
  const failure = error as RecoverError;
  expect(failure.code).toBe('WAL_CORRUPT');
  expect(failure.message).toContain(name);
  expect(failure.message).toContain(`container ${CONTAINER}`);
  expect(failure.message).toContain(`blob wal/${name}`);
  expect(failure.message).toContain('corrupt');
  expect(failure.hint).toMatch(/intact copy/);
  expect(failure.hint).toMatch(/target before/);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rb-rot-'));
  azurite = await startAzurite(join(dir, 'azurite'));
  env = { RECOVER_STORAGE_DRIVER: 'azure', RECOVER_AZURE_CONNECTION_STRING: azurite.connectionString, RECOVER_STORAGE_RETRIES: '0', LOG_LEVEL: 'silent' };
  storage = await openStorage(loadConfig(env).storage);
  await archive(UNPACKABLE, walLike(3));
  await archive(WRONG_BYTES, walLike(4));
  // Zeroed bytes inside the LZ4 block: the decoder fails with "0 is not a valid match offset".
  await rot(UNPACKABLE, (stored) => {
    const bad = Buffer.from(stored);
    bad.fill(0, 200, 216);
    return bad;
  });
  // Unpacks fine, to different bytes than the archived size/CRC describe.
  await rot(WRONG_BYTES, async () => {
    const raw = walLike(4);
    raw[5000] = raw[5000]! ^ 0xff;
    return compressWal(raw);
  });
});

afterAll(async () => {
  await azurite?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe.each([UNPACKABLE, WRONG_BYTES])('%s damaged in the archive', (name) => {
  test('the prefetching fetcher (checks from the catalog) names it', async () => {
    const catalog = await readCatalog(storage, new Date());
    const known = indexSegments(catalog).byName.get(name)!;
    const fetcher = new WalFetcher({ storage, spoolDir: join(dir, `spool-a-${name}`), log, prefetch: [name], expected: new Map([[name, known]]) });
    await fetcher.start();
    try {
      expectNamed(await fetcher.fetch(name, join(dir, `out-a-${name}`)).then(() => null, (error: unknown) => error), name);
      expectNamed(fetcher.error, name);
    } finally {
      await fetcher.stop();
    }
  });

  test('an on-demand fetch (checks from the blob metadata) names it', async () => {
    const fetcher = new WalFetcher({ storage, spoolDir: join(dir, `spool-b-${name}`), log });
    await fetcher.start();
    try {
      expectNamed(await fetcher.fetch(name, join(dir, `out-b-${name}`)).then(() => null, (error: unknown) => error), name);
    } finally {
      await fetcher.stop();
    }
  });

  test('recover wal-fetch exits 126 (aborts recovery) and names it', async () => {
    const { code, stderr } = await runCli(['wal-fetch', name, join(dir, `out-c-${name}`)], env);
    expect(code).toBe(126);
    expect(stderr).toContain('WAL_CORRUPT');
    expect(stderr).toContain(`blob wal/${name}`);
  });

  test('the agent hook exits 126 and prints the file and the fix into PostgreSQL\'s log', async () => {
    const fetcher = new WalFetcher({ storage, spoolDir: join(dir, `spool-d-${name}`), log });
    await fetcher.start();
    let agent: WalAgent | undefined;
    try {
      const socket = join(dir, `agent-${name}.sock`);
      agent = await startWalAgent({ socketPath: socket, storage, log, fetcher });
      const hook = join(dir, 'wal-hook.mjs');
      await writeFile(hook, WAL_HOOK_SOURCE);
      const result = await execa(process.execPath, [hook, 'fetch', socket, name, join(dir, `out-d-${name}`)], { reject: false });
      expect(result.exitCode).toBe(126);
      expect(result.stderr).toContain(`WAL file ${name} is corrupt`);
      expect(result.stderr).toContain(`container ${CONTAINER}`);
      expect(result.stderr).toContain('intact copy');
    } finally {
      await agent?.close();
      await fetcher.stop();
    }
  });
});

test('a damaged timeline history file is named when the catalog is read', async () => {
  // Its own prefix, so the segments above stay readable whatever order tests run in.
  storage = await openStorage(loadConfig({ ...env, RECOVER_WAL_PREFIX: 'hist/' }).storage);
  const name = '00000002.history';
  await archive(name, Buffer.from('1\t0/3000060\tno recovery target specified\n'));
  await rot(name, () => Buffer.from('1\t0/30\u0000\u0000060\tno recovery target specified\n'));
  const error = await readCatalog(storage, new Date()).then(() => null, (failure: unknown) => failure);
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).code).toBe('WAL_CORRUPT');
  expect((error as RecoverError).message).toContain(`blob hist/${name}`);
});
