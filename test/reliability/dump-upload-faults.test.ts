/**
 * A failed upload leaves no orphan blobs (issue 22): a storage wrapper around the real Azurite
 * store refuses the third file of a dump (fault injection), and `recover dump-backup` fails with
 * that error and deletes what it had stored under the stamp. When deleting fails too, the
 * error says so and why it is harmless: the stamp has no manifest, so it is never listed or
 * restored, and dump retention removes it. A base backup whose manifest upload is refused
 * deletes its parts the same way.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { expireDumps } from '../../src/engine/dumps/expire.js';
import { listDumps, scanDumps } from '../../src/engine/dumps/list.js';
import { takeDumps } from '../../src/engine/dumps/take.js';
import { RecoverError } from '../../src/errors.js';
import { listAll, type BlobStore } from '../../src/storage/blob-store.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE DATABASE app');
  // Several tables: pg_dump -Fd writes one file each, so the third upload comes midway.
  await sandbox.query(`CREATE TABLE a AS SELECT g AS id FROM generate_series(1, 3000) g;
    CREATE TABLE b AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 3000) g;
    CREATE TABLE c AS SELECT g AS id FROM generate_series(1, 3000) g;
    CREATE TABLE d AS SELECT g AS id FROM generate_series(1, 3000) g`, [], 'app');
}, 120_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

/** The real store with faults: puts under `app/` after the first `okPuts` are refused; deletes too when asked. */
function faulty(real: BlobStore, okPuts: number, refuseDeletes: boolean): { store: BlobStore; puts: () => number } {
  let puts = 0;
  const store: BlobStore = Object.assign(Object.create(real) as BlobStore, {
    put: (key: string, body: Parameters<BlobStore['put']>[1], options?: Parameters<BlobStore['put']>[2]) => {
      if (key.startsWith('app/') && !key.endsWith('/claim') && ++puts > okPuts) {
        (body as { resume?: () => void }).resume?.(); // drain the stream as a refusing server would
        return Promise.reject(new RecoverError('STORAGE_ERROR', `injected: the store refused ${key}`));
      }
      return real.put(key, body, options);
    },
    delete: (key: string) => (refuseDeletes ? Promise.reject(new RecoverError('STORAGE_ERROR', 'injected: storage unreachable')) : real.delete(key)),
  });
  return { store, puts: () => puts };
}

const dumpConfig = () => ({ ...sandbox.config, dumpDatabases: ['app'] });

test('a dump whose third file is refused fails with that error and leaves nothing under its stamp', async () => {
  const ctx = sandbox.context();
  const before = (await listAll(sandbox.storage.dumps, '')).map((b) => b.key);
  const { store, puts } = faulty(sandbox.storage.dumps, 2, false);
  await sandbox.storage.dumps.ensureContainer();
  const error = await takeDumps({ ...ctx, storage: { ...ctx.storage, dumps: store } }, dumpConfig(), { jobs: 2, parallel: 1 }).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).message).toContain('injected: the store refused app/');
  expect((error as RecoverError).hint).toMatch(/The partial upload .*app\/\d{14}\/ was deleted\./);
  expect(puts()).toBeGreaterThanOrEqual(3);
  expect((await listAll(sandbox.storage.dumps, '')).map((b) => b.key)).toEqual(before);
}, 120_000);

test('when deleting fails too: the error says what stayed; the stamp is never listed; dump retention removes it a day later', async () => {
  const ctx = sandbox.context();
  const { store } = faulty(sandbox.storage.dumps, 2, true);
  const error = await takeDumps({ ...ctx, storage: { ...ctx.storage, dumps: store } }, dumpConfig(), { jobs: 2, parallel: 1 }).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).message).toMatch(/injected: the store refused app\/.* Its partial upload .*app\/\d{14}\/ could not be removed \(injected: storage unreachable\); it has no manifest, so it is never listed as usable or restored/);
  const { entries, leftovers } = await scanDumps(sandbox.storage);
  expect(entries.filter((e) => e.database === 'app')).toEqual([]);
  expect(await listDumps(sandbox.storage, 'app')).toEqual([]);
  // The two files stored before the refusal, and the run's claim on the stamp (stamp-claim.ts).
  expect(leftovers).toEqual([expect.objectContaining({ database: 'app', blobs: 3 })]);
  // The same day it may still be uploading: kept. A day later: removed, policy or not.
  const at = (ms: number) => ({ ...ctx, clock: { now: () => new Date(Date.now() + ms) } });
  expect((await expireDumps(at(0), {})).deleted.leftovers).toEqual([]);
  const later = await expireDumps(at(25 * 3_600_000), {});
  expect(later.deleted.leftovers).toEqual([`app/${leftovers[0]!.stamp}`]);
  expect(later.failure).toBeNull();
  expect(await listAll(sandbox.storage.dumps, 'app/')).toEqual([]);
}, 120_000);

test('a base backup whose manifest upload is refused fails with that error and deletes its parts', async () => {
  const ctx = sandbox.context();
  const real = ctx.storage.backups;
  const before = (await listAll(real, '')).map((b) => b.key).sort();
  const refusing: BlobStore = Object.assign(Object.create(real) as BlobStore, {
    put: (key: string, body: Parameters<BlobStore['put']>[1], options?: Parameters<BlobStore['put']>[2]) =>
      key.endsWith('/manifest.json') ? Promise.reject(new RecoverError('STORAGE_ERROR', 'injected: the store refused the manifest')) : real.put(key, body, options),
  });
  const error = await takeBaseBackup({ ...ctx, storage: { ...ctx.storage, backups: refusing } }, sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl)).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).message).toContain('refused the manifest');
  expect((error as RecoverError).hint).toMatch(/The partial upload .* was deleted\./);
  expect((await listAll(real, '')).map((b) => b.key).sort()).toEqual(before);
}, 120_000);
