/**
 * The runner's start-up probe against a real disk, a local storage directory and the real
 * pg_waldump: it measures what it can, leaves nothing behind, and stays within its budget when
 * storage does not answer.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExec } from '../../../src/engine/exec.js';
import { freePort, initCluster, startOnFreePort, stopCluster, withClient } from '../../../src/engine/local-cluster.js';
import { ownerFor } from '../../../src/engine/os-user.js';
import { probeDisk, probeRunner, type ProbeDeps } from '../../../src/runner/calibration.js';
import { LocalDirectoryStore } from '../../../src/storage/local.js';
import type { BlobStore, Storage } from '../../../src/storage/blob-store.js';
import { compressWal } from '../../../src/wal/compression.js';
import pino from 'pino';

const log = pino({ level: 'silent' });
let root: string;
let deps: (wal: BlobStore) => ProbeDeps;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'calibration-test-'));
  deps = (wal) => ({
    config: { restoreRoot: root, pg: { bin: '/usr/lib/postgresql/15/bin', osUser: 'postgres' } },
    storage: { wal, backups: wal, dumps: wal, walPrefix: 'wal/', backupPrefix: 'base/' } as Storage,
    exec: createExec(log),
    log,
  });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('runner probe', () => {
  it('measures the disk and removes its file', async () => {
    const rate = await probeDisk(root, new AbortController().signal, log);
    expect(rate).toBeGreaterThan(0);
    expect(await readdir(root)).toEqual([]);
  });

  it('a restore root that does not exist yet (a fresh host) is made and measured, not skipped', async () => {
    const fresh = join(root, 'not-yet', 'restores');
    const rate = await probeDisk(fresh, new AbortController().signal, log);
    expect(rate).toBeGreaterThan(0);
    expect(await readdir(fresh)).toEqual([]);
    await rm(join(root, 'not-yet'), { recursive: true });
  });

  it('an empty archive: the disk measured, the WAL figures unknown', async () => {
    const store = new LocalDirectoryStore(join(root, 'storage-empty'), 'wal');
    await store.ensureContainer();
    const probe = await probeRunner(deps(store));
    expect(probe).toMatchObject({ downloadBytesPerSecond: null, walDecodeBytesPerSecond: null });
    expect(probe.diskWriteBytesPerSecond).toBeGreaterThan(0);
  });

  it('a stored file that is no WAL: downloaded, but no decoding rate claimed', async () => {
    const store = new LocalDirectoryStore(join(root, 'storage-junk'), 'wal');
    await store.ensureContainer();
    await store.put('wal/000000010000000000000003', await compressWal(Buffer.alloc(16 * 2 ** 20, 7)));
    const probe = await probeRunner(deps(store));
    expect(probe.downloadBytesPerSecond).toBeGreaterThan(0);
    expect(probe.walDecodeBytesPerSecond).toBeNull();
  });

  it('real WAL: several consecutive archived segments decoded in one pg_waldump run', async () => {
    const exec = createExec(log);
    const bin = '/usr/lib/postgresql/15/bin';
    const dir = join(root, 'cluster');
    await mkdir(dir, { recursive: true });
    await chmod(root, 0o755);
    await chmod(dir, 0o755);
    const cluster = await startOnFreePort(exec, bin, 'postgres', await initCluster(exec, { bin, osUser: 'postgres', owner: await ownerFor('postgres'), dataDir: join(dir, 'data'), socketDir: join(dir, 'run'), port: await freePort(), settings: { fsync: 'off' } }));
    try {
      // Three segments with records, each ended by a switch: the window is their run, decoded across their boundaries.
      const names = await withClient(cluster, 'postgres', async (client) => {
        await client.query('CREATE TABLE t (id int, pad text)');
        const switched: string[] = [];
        for (let i = 0; i < 3; i++) {
          await client.query(`INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g`);
          switched.push((await client.query('SELECT pg_walfile_name(pg_switch_wal()) AS name')).rows[0].name);
        }
        return switched;
      });
      const store = new LocalDirectoryStore(join(root, 'storage-real'), 'wal');
      await store.ensureContainer();
      // The cluster's files belong to postgres; root (the test) reads them.
      for (const name of names) await store.put(`wal/${name}`, await compressWal(await readFile(join(dir, 'data', 'pg_wal', name))));
      const probe = await probeRunner(deps(store), 10_000);
      expect(probe.downloadBytesPerSecond).toBeGreaterThan(0);
      expect(probe.walDecodeBytesPerSecond).toBeGreaterThan(0);
    } finally {
      await stopCluster(exec, bin, 'postgres', cluster.dataDir, 'immediate');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('storage that never answers: over within the budget, the WAL figures unknown', async () => {
    const hanging = { list: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => undefined) }) }) } as unknown as BlobStore;
    const began = performance.now();
    const probe = await probeRunner(deps(hanging), 1000);
    expect(performance.now() - began).toBeLessThan(3000);
    expect(probe).toMatchObject({ downloadBytesPerSecond: null, walDecodeBytesPerSecond: null });
  });
});
