/**
 * Damaged parted base backups (formatVersion 2): a part whose bytes changed in storage is
 * BACKUP_CORRUPT naming that part (zstd and lz4 parts), and a part deleted from storage is named as missing; in
 * both cases the other parts are stopped and no server is started on the half-restored data.
 * A backup whose upload fails midway leaves nothing behind in storage.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { join } from 'node:path';
import { access } from 'node:fs/promises';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { runPitr } from '../../src/engine/pitr.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { readStreamToBuffer } from '../../src/util/streams.js';
import { RecoverError } from '../../src/errors.js';
import type { BackupManifest } from '../../src/catalog/catalog.js';
import { listAll, type BlobStore } from '../../src/storage/blob-store.js';
import type { Config } from '../../src/config.js';

let sandbox: Sandbox;
let config: Config;
let manifest: BackupManifest;
const manifests: Record<'zstd' | 'lz4', BackupManifest> = {} as never;

const exists = (path: string) => access(path).then(() => true, () => false);

beforeAll(async () => {
  sandbox = await startSandbox();
  config = { ...sandbox.config, pg: { ...sandbox.config.pg, baseTransfer: { partBytes: 1024 * 1024, parallel: 2 } } };
  await sandbox.query(`CREATE TABLE items AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 20000) g`);
  for (const codec of ['lz4', 'zstd'] as const) {
    const tools = { ...config.pg, baseTransfer: { ...config.pg.baseTransfer!, codec } };
    manifests[codec] = await takeBaseBackup(sandbox.context(), tools, parseConnectionUrl(sandbox.productionUrl));
  }
  manifest = manifests.zstd;
  await sandbox.switchAndArchive();
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

async function restoreFails(name: string, backupId?: string): Promise<RecoverError> {
  const error = await runPitr(sandbox.context(), config, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side', instanceName: name, ...(backupId ? { backupId } : {}) }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RecoverError);
  expect(await exists(join(config.restoreRoot, name, 'data', 'postmaster.pid'))).toBe(false);
  return error as RecoverError;
}

test.each(['zstd', 'lz4'] as const)('a %s part whose stored bytes changed is BACKUP_CORRUPT naming that part; nothing is started', async (codec) => {
  const manifest = manifests[codec];
  const part = manifest.files[Math.floor(manifest.files.length / 2)]!;
  expect(part.codec).toBe(codec);
  const key = `daily/${manifest.id}/${part.name}`;
  const original = await readStreamToBuffer(await sandbox.storage.backups.getStream(key));
  const damaged = Buffer.from(original);
  for (let i = 0; i < 64; i++) {
    const at = Math.floor(damaged.length / 2) + i;
    damaged[at] = damaged[at]! ^ 0x5a;
  }
  await sandbox.storage.backups.put(key, damaged);
  try {
    const error = await restoreFails(`corrupt-${codec}-part`, manifest.id);
    expect(error.code).toBe('BACKUP_CORRUPT');
    expect(error.message).toContain(part.name);
    expect(error.message).toContain(manifest.id);
    expect(error.hint).toContain('older backup');
  } finally {
    await sandbox.storage.backups.put(key, original);
  }
});

test('a missing part is named as missing; nothing is started', async () => {
  const part = manifest.files[manifest.files.length - 1]!;
  const key = `daily/${manifest.id}/${part.name}`;
  const original = await readStreamToBuffer(await sandbox.storage.backups.getStream(key));
  await sandbox.storage.backups.delete(key);
  try {
    const error = await restoreFails('missing-part');
    expect(error.code).toBe('BACKUP_CORRUPT');
    expect(error.message).toContain(`part ${part.name} is missing`);
  } finally {
    await sandbox.storage.backups.put(key, original);
  }
});

test('a backup whose storage refuses its third part fails with that error and deletes the parts already stored', async () => {
  const ctx = sandbox.context();
  const real = ctx.storage.backups;
  const before = (await listAll(real, 'daily/')).map((blob) => blob.key).sort();
  let partPuts = 0;
  // The real Azurite store, with one fault: the third part upload is refused.
  const refusing: BlobStore = Object.assign(Object.create(real) as BlobStore, {
    put: (key: string, body: Parameters<BlobStore['put']>[1], options?: Parameters<BlobStore['put']>[2]) => {
      if (key.includes('/base/part-') && ++partPuts === 3) return Promise.reject(new RecoverError('STORAGE_ERROR', 'injected: the store refused part 3'));
      return real.put(key, body, options);
    },
  });
  const error = await takeBaseBackup({ ...ctx, storage: { ...ctx.storage, backups: refusing } }, config.pg, parseConnectionUrl(sandbox.productionUrl)).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).message).toContain('refused part 3');
  expect(partPuts).toBeGreaterThanOrEqual(3);
  expect((await listAll(real, 'daily/')).map((blob) => blob.key).sort()).toEqual(before);
});

test('a backup whose last WAL segment is never archived fails saying so, and deletes its parts', async () => {
  const ctx = sandbox.context();
  const before = (await listAll(ctx.storage.backups, 'daily/')).map((blob) => blob.key).sort();
  const [{ command }] = (await sandbox.query<{ command: string }>(`SELECT current_setting('archive_command') AS command`)) as [{ command: string }];
  // Archiving fails from here on: the backup's stop segment can never be archived.
  await sandbox.query(`ALTER SYSTEM SET archive_command = 'false'`);
  await sandbox.query('SELECT pg_reload_conf()');
  try {
    const error = await takeBaseBackup(ctx, config.pg, parseConnectionUrl(sandbox.productionUrl), { archiveWaitMs: 1500 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RecoverError);
    expect((error as RecoverError).code).toBe('BACKUP_FAILED');
    expect((error as RecoverError).message).toMatch(/WAL segment [0-9A-F]{24} was not archived within 2 s/);
    expect((error as RecoverError).hint).toContain('pg_stat_archiver');
    expect((await listAll(ctx.storage.backups, 'daily/')).map((blob) => blob.key).sort()).toEqual(before);
  } finally {
    await sandbox.query(`ALTER SYSTEM SET archive_command = ${`'${command.replace(/'/g, "''")}'`}`);
    await sandbox.query('SELECT pg_reload_conf()');
    await sandbox.switchAndArchive();
  }
});
