/**
 * File-level base backups under faults: a file that vanishes between the walk and bsdtar's
 * read is left out and the part still stored (normal while the cluster runs); any other
 * complaint from bsdtar fails the part naming it; output that is not a compressed frame fails
 * the part without hanging on the tool still writing; bsdtar killed midway, or the source
 * session holding the backup open terminated, fails the backup with a coded error and
 * leaves nothing in storage; the next backup then works.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { storeFilePart } from '../../src/engine/backup-files/file-parts.js';
import { FrameFormatError } from '../../src/engine/backup-files/frame-end.js';
import type { Exec } from '../../src/engine/exec.js';
import { RecoverError } from '../../src/errors.js';
import { LocalDirectoryStore } from '../../src/storage/local.js';
import { listAll, type BlobStore } from '../../src/storage/blob-store.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { readStreamToBuffer } from '../../src/util/streams.js';
import type { Config } from '../../src/config.js';

let sandbox: Sandbox;
let config: Config;
let scratch: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  config = { ...sandbox.config, pg: { ...sandbox.config.pg, backupMethod: 'files', baseTransfer: { partBytes: 256 * 1024, parallel: 2, codec: 'zstd' } } };
  await sandbox.query(`CREATE TABLE items AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 20000) g`);
  scratch = await mkdtemp(join(tmpdir(), 'rb-file-parts-'));
  await writeFile(join(scratch, 'kept-1'), 'first file\n');
  await writeFile(join(scratch, 'kept-2'), 'second file\n');
  await writeFile(join(scratch, 'a-file'), 'not a directory\n');
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test('a file that vanished before bsdtar read it is left out; the part is stored with the rest', async () => {
  const store = new LocalDirectoryStore(join(scratch, 'store'), 'backups');
  const part = await storeFilePart(
    { exec: sandbox.exec, store },
    { name: 'base/part-00001.tar.zst', root: scratch, paths: ['kept-1', 'dropped-table', 'kept-2'], rawBytes: 3000 },
    { directory: 'x/', codec: 'zstd', signal: new AbortController().signal },
  );
  const stored = await readStreamToBuffer(await store.getStream('x/base/part-00001.tar.zst'));
  expect(stored.length).toBe(part.bytes);
  const listed = await sandbox.exec.run('zstd', ['-d', '-c'], { input: Readable.from([stored]), stdoutStream: false });
  expect(listed.stdout).toContain('first file');
  expect(listed.stdout).toContain('second file');
});

test('any other bsdtar complaint fails the part, naming it', async () => {
  const store = new LocalDirectoryStore(join(scratch, 'store'), 'backups');
  const error = await storeFilePart(
    { exec: sandbox.exec, store },
    { name: 'base/part-00002.tar.zst', root: scratch, paths: ['kept-1', 'a-file/below'], rawBytes: 3000 },
    { directory: 'x/', codec: 'zstd', signal: new AbortController().signal },
  ).then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).code).toBe('BACKUP_FAILED');
  expect((error as RecoverError).message).toMatch(/^bsdtar exited 1 while writing base\/part-00002\.tar\.zst: bsdtar: \.\/a-file\/below: .*Not a directory/);
});

test('output that is not a compressed frame fails the part and does not hang, though the tool goes on writing 8 MiB', async () => {
  const store = new LocalDirectoryStore(join(scratch, 'store'), 'backups');
  // Stands in for a bsdtar whose output is damaged: far more than a pipe holds, then exit 0.
  const garbling: Exec = { run: sandbox.exec.run, spawn: (_file, _args, options) => sandbox.exec.spawn('head', ['-c', String(8 * 1024 * 1024), '/dev/zero'], options) };
  const error = await storeFilePart(
    { exec: garbling, store },
    { name: 'base/part-00003.tar.zst', root: scratch, paths: ['kept-1'], rawBytes: 3000 },
    { directory: 'x/', codec: 'zstd', signal: new AbortController().signal },
  ).then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(FrameFormatError);
  expect((error as Error).message).toBe('not a zstd frame');
});

/** The sandbox's exec, with one fault applied to every bsdtar that creates a part. */
function faultyExec(onCreate: (child: ReturnType<Exec['spawn']>) => void): Exec {
  return {
    run: sandbox.exec.run,
    spawn: (file, args, options) => {
      const child = sandbox.exec.spawn(file, args, options);
      if (file === 'bsdtar' && args[0] === '-c') onCreate(child);
      return child;
    },
  };
}

test('bsdtar killed midway: the backup fails with a coded error and leaves nothing in storage; the next one works', async () => {
  const before = (await listAll(sandbox.storage.backups, 'daily/')).map((blob) => blob.key).sort();
  const ctx = { ...sandbox.context(), exec: faultyExec((child) => child.kill('SIGKILL')) };
  const error = await takeBaseBackup(ctx, config.pg, parseConnectionUrl(sandbox.productionUrl)).then(
    () => null,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).code).toBe('BACKUP_FAILED');
  expect((error as RecoverError).message).toMatch(/^bsdtar was stopped by SIGKILL while writing base\/part-\d{5}\.tar\.zst/);
  expect((await listAll(sandbox.storage.backups, 'daily/')).map((blob) => blob.key).sort()).toEqual(before);
  const next = await takeBaseBackup(sandbox.context(), config.pg, parseConnectionUrl(sandbox.productionUrl));
  expect(next.method).toBe('files');
});

/**
 * Takes a backup whose first part upload first terminates the source session whose last query
 * matches `lastQuery` (and waits for that), so the backup cannot end before the session is
 * gone. Returns the backup's failure and whether the session was terminated.
 */
async function backupLosingSession(lastQuery: string, method: 'files' | 'stream'): Promise<{ error: unknown; terminated: boolean }> {
  const real = sandbox.storage.backups;
  let terminating: Promise<{ ended: boolean }[]> | null = null;
  const store: BlobStore = Object.assign(Object.create(real) as BlobStore, {
    put: async (key: string, body: Parameters<BlobStore['put']>[1], options?: Parameters<BlobStore['put']>[2]) => {
      // The directory's claim comes before the backup starts: the fault is at the first upload of the backup itself.
      if (key.endsWith('/claim')) return real.put(key, body, options);
      terminating ??= sandbox.query<{ ended: boolean }>(`SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`, [`%${lastQuery}%`]);
      await terminating;
      return real.put(key, body, options);
    },
  });
  const ctx = sandbox.context();
  const error = await takeBaseBackup({ ...ctx, storage: { ...ctx.storage, backups: store } }, { ...config.pg, backupMethod: method }, parseConnectionUrl(sandbox.productionUrl)).then(
    () => null,
    (failure: unknown) => failure,
  );
  const rows = terminating ? await (terminating as Promise<{ ended: boolean }[]>) : [];
  return { error, terminated: rows[0]?.ended === true };
}

test('the source session holding the backup open is terminated: the backup fails and leaves nothing in storage', async () => {
  const before = (await listAll(sandbox.storage.backups, 'daily/')).map((blob) => blob.key).sort();
  const { error, terminated } = await backupLosingSession('pg_backup_start', 'files');
  expect(terminated).toBe(true);
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).code).toBe('BACKUP_FAILED');
  expect((error as RecoverError).message).toMatch(/^pg_backup_stop failed on the source/);
  expect((await listAll(sandbox.storage.backups, 'daily/')).map((blob) => blob.key).sort()).toEqual(before);
  const next = await takeBaseBackup(sandbox.context(), config.pg, parseConnectionUrl(sandbox.productionUrl));
  expect(next.method).toBe('files');
});

test('streamed: the source session is lost while pg_basebackup runs; the failure names the source, not pg_basebackup, and nothing is kept', async () => {
  const before = (await listAll(sandbox.storage.backups, 'daily/')).map((blob) => blob.key).sort();
  // The backup's own session last ran the source facts query (pg_basebackup has its own connection).
  const { error, terminated } = await backupLosingSession('pg_control_system', 'stream');
  expect(terminated).toBe(true);
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).code).toBe('BACKUP_FAILED');
  expect((error as RecoverError).message).toMatch(/switching out and archiving its last WAL segment [0-9A-F]{24} failed on the source/);
  expect((await listAll(sandbox.storage.backups, 'daily/')).map((blob) => blob.key).sort()).toEqual(before);
});
