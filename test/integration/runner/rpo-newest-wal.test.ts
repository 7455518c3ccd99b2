/**
 * The RPO watch's newest-WAL reader (src/runner/rpo/newest-wal.ts) on a local-directory store:
 * a full catalog read first, then only the three name prefixes where a newer segment can be
 * (later in its log file, the next log file, the next timeline), a full read again every
 * `fullEvery` looks; segments archived meanwhile in each place are seen, and the listing of the
 * whole archive is not repeated between full reads.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { LocalDirectoryStore } from '../../../src/storage/local.js';
import type { BlobStore, Storage } from '../../../src/storage/blob-store.js';
import { newestWalReader } from '../../../src/runner/rpo/newest-wal.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

test('after one full read only the names that can be newer are listed, and a segment archived in each of those places is seen', async () => {
  const root = await mkdtemp(join(tmpdir(), 'rb-rpo-newest-'));
  dirs.push(root);
  const wal = new LocalDirectoryStore(root, 'wal');
  const listed: string[] = [];
  const watched: BlobStore = Object.assign(Object.create(wal) as BlobStore, { list: (prefix: string) => (listed.push(prefix), wal.list(prefix)) });
  const storage = { backups: new LocalDirectoryStore(root, 'backups'), wal: watched, dumps: new LocalDirectoryStore(root, 'dumps'), backupPrefix: 'daily/', walPrefix: 'wal/' } as Storage;
  await Promise.all([wal.ensureContainer(), storage.backups.ensureContainer()]);
  const t0 = Date.parse('2026-12-07T10:00:00Z');
  const at = (minutes: number) => new Date(t0 + minutes * 60_000);
  const archive = (name: string, minutes: number) => wal.put(`wal/${name}`, Buffer.from('segment'), { metadata: { archivedat: at(minutes).toISOString() } });
  await archive('000000010000000000000001', 0);
  await archive('000000010000000000000002', 1);

  const look = newestWalReader(storage, 4);
  expect(await look(at(3))).toEqual({ exposureSeconds: 120 });
  expect(listed).toEqual(['wal/']); // the full read

  listed.length = 0;
  await archive('000000010000000000000003', 4);
  expect(await look(at(5))).toEqual({ exposureSeconds: 60 });
  expect(listed.sort()).toEqual(['wal/0000000100000000', 'wal/0000000100000001', 'wal/00000002']);

  // The next log file, then the next timeline.
  await archive('000000010000000100000000', 6);
  expect(await look(at(6.5))).toEqual({ exposureSeconds: 30 });
  await archive('000000020000000100000001', 7);
  expect(await look(at(8))).toEqual({ exposureSeconds: 60 });
  // Every fourth look after the first is a full read again.
  listed.length = 0;
  await archive('000000020000000100000002', 9);
  expect(await look(at(10))).toEqual({ exposureSeconds: 60 });
  expect(listed).toContain('wal/');
});
