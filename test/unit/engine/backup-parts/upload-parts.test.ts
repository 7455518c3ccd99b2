/**
 * uploadTarAsParts with both codecs against an in-memory store: every stored part is what the
 * CLI (zstd -d / lz4 -d) turns back into a tar of its recorded raw size, with its recorded
 * size and sha256; and with zstd, a store that does not read stops the reading of the source
 * after a bounded number of bytes (back-pressure reaches pg_basebackup, memory stays bounded).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import pino from 'pino';
import { createExec } from '../../../../src/engine/exec.js';
import { uploadTarAsParts, type PartCodec } from '../../../../src/engine/backup-parts/upload-parts.js';
import type { BlobStore } from '../../../../src/storage/blob-store.js';

const MiB = 1024 * 1024;
const exec = createExec(pino({ level: 'silent' }));
let root: string;
let smallTar: string;

/** Blobs kept in memory; `hold` makes put never read its stream (a stalled upload). */
function memoryStore(hold = false): BlobStore & { blobs: Map<string, Buffer> } {
  const blobs = new Map<string, Buffer>();
  return {
    blobs,
    description: 'memory',
    ensureContainer: async () => undefined,
    async put(key: string, body: Buffer | Readable, options) {
      if (Buffer.isBuffer(body)) return void blobs.set(key, body);
      if (hold) {
        await new Promise((_resolve, reject) => options?.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true }));
      }
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      blobs.set(key, Buffer.concat(chunks));
    },
    getStream: async () => {
      throw new Error('not used');
    },
    downloadToFile: async () => undefined,
    head: async () => null,
    async *list() {},
    delete: async () => undefined,
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'upload-parts-'));
  const tree = join(root, 'tree');
  await mkdir(join(tree, 'base', '5'), { recursive: true });
  // Compressible like table pages, with some random files among them.
  for (let i = 0; i < 12; i++) {
    const body = i % 3 === 0 ? randomBytes(300 * 1024) : Buffer.from(`row ${i} `.repeat(40_000));
    await writeFile(join(tree, 'base', '5', `file-${i}`), body);
  }
  smallTar = join(root, 'small.tar');
  execFileSync('tar', ['-c', '-f', smallTar, '-C', tree, '.']);
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.each<PartCodec>(['zstd', 'lz4'])('%s parts', (codec) => {
  it('each part decodes with the CLI to a tar of its raw size, with the stored size and sha256 recorded', async () => {
    const store = memoryStore();
    const parts = await uploadTarAsParts(createReadStream(smallTar), { store, directory: 'd/', partBytes: 1 * MiB, parallel: 3, codec, exec, signal: new AbortController().signal });
    expect(parts.length).toBeGreaterThan(2);
    const suffix = codec === 'zstd' ? 'zst' : 'lz4';
    expect(parts.map((p) => p.name)).toEqual(parts.map((_p, i) => `base/part-${String(i + 1).padStart(5, '0')}.tar.${suffix}`));
    let raw = 0;
    for (const part of parts) {
      const stored = store.blobs.get(`d/${part.name}`)!;
      expect(part.codec).toBe(codec);
      expect(stored.length).toBe(part.bytes);
      expect(createHash('sha256').update(stored).digest('hex')).toBe(part.sha256);
      const tar = execFileSync(codec, ['-d', '-c'], { input: stored, maxBuffer: 64 * MiB });
      expect(tar.length).toBe(part.rawBytes);
      expect(execFileSync('tar', ['-t', '-f', '-'], { input: tar }).toString()).toContain('file-');
      raw += part.rawBytes;
    }
    expect(raw).toBeGreaterThan(3 * MiB);
  }, 60_000);
});

it('zstd: a stalled upload stops the reading of the source after a bounded number of bytes', async () => {
  const big = join(root, 'big');
  await mkdir(big);
  await writeFile(join(big, 'segment'), randomBytes(96 * MiB));
  let read = 0;
  const tar = exec.spawn('tar', ['-c', '-f', '-', '-C', big, '.'], { stdoutStream: true });
  tar.catch(() => undefined);
  const counted = async function* () {
    for await (const chunk of tar.stdout!) {
      read += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  };
  const controller = new AbortController();
  const uploading = uploadTarAsParts(counted(), { store: memoryStore(true), directory: 'd/', partBytes: 256 * MiB, parallel: 1, codec: 'zstd', exec, signal: controller.signal });
  uploading.catch(() => undefined);
  let last = -1;
  for (let i = 0; i < 100 && read !== last; i++) {
    last = read;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  expect(read).toBeGreaterThan(1 * MiB);
  expect(read).toBeLessThan(40 * MiB);
  controller.abort(new Error('stop'));
  await expect(uploading).rejects.toThrow();
  tar.kill();
}, 60_000);
